"""Input that is not what content files are: a FIFO or device in place of a file, a folder that cannot be
listed, a name too long for a folder, a code YAML 1.1 reads as some other number, values that would take
over the terminal, CRLF line ends. Each ends in `path:line:col: message` (or just works), never a hang
or a traceback.
"""
from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest

from httpref.cli import main
from conftest import ROOT, run_build
from test_errors import VALID, assert_problems, problem_lines

HANG_LIMIT = 20  # seconds: `check` of `_valid` takes well under one; a blocked read never ends


@pytest.fixture
def content(tmp_path) -> Path:
    """A copy of `_valid` to break."""
    folder = tmp_path / "content"
    shutil.copytree(VALID, folder)
    return folder


@pytest.mark.parametrize("name", ["sources/piped.yaml", "pages/piped.md", "site.yaml", "semantics.yaml"])
def test_a_fifo_is_an_error_not_a_hang(content, name):
    fifo = content / name
    fifo.parent.mkdir(exist_ok=True)
    fifo.unlink(missing_ok=True)
    os.mkfifo(fifo)
    out = content.parent / "site"
    for args in (["check"], ["build", "--out", str(out)]):
        result = run_build(*args, "--content", str(content), timeout=HANG_LIMIT)  # TimeoutExpired if it blocks
        assert result.returncode == 1
        assert_problems(result.stderr, str(content), [
            (name, 1, 1, "error", "not a regular file but a FIFO (named pipe): content files are plain files")])
    assert not out.exists()


def test_a_device_or_socket_is_not_read(content):
    (content / "sources" / "zero.yaml").symlink_to("/dev/zero")  # endless: it would be read up to the limit
    with socket.socket(socket.AF_UNIX) as listening:
        listening.bind(str(content / "sources" / "socket.yaml"))
        result = run_build("check", "--content", str(content), timeout=HANG_LIMIT)
    assert result.returncode == 1
    assert_problems(result.stderr, str(content), [
        ("sources/socket.yaml", 1, 1, "error", "not a regular file but a socket"),
        ("sources/zero.yaml", 1, 1, "error", "not a regular file but a device"),
    ])


@pytest.mark.parametrize("folder", ["sources", "pages"])
def test_a_folder_that_cannot_be_listed_is_an_error(content, folder, capsys, monkeypatch):
    # Tests run as root, whom `chmod 000` does not stop: the listing fails here as it does for anyone else
    # on a folder they may not read, with EACCES. (The chmod makes it real where tests run as a user.)
    unlistable = content / folder
    unlistable.mkdir(exist_ok=True)
    real_scandir, real_listdir = os.scandir, os.listdir

    def refuse(real):
        def listing(path="."):
            if Path(os.fsdecode(path)) == unlistable:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path)
        return listing

    monkeypatch.setattr(os, "scandir", refuse(real_scandir))
    monkeypatch.setattr(os, "listdir", refuse(real_listdir))
    unlistable.chmod(0)
    try:
        status = main(["check", "--content", str(content)])
    finally:
        unlistable.chmod(0o755)
    assert status == 1
    assert_problems(capsys.readouterr().err, str(content), [
        (folder, 1, 1, "error", "cannot list the folder: Permission denied")])


def test_a_content_folder_that_cannot_be_read_is_one_error(content, capsys, monkeypatch):
    # As `chmod 000 content` is for anyone but root: the folder cannot be listed, nor anything in it looked at.
    def refuse(real, inside: bool):
        def call(path=".", *args, **kwargs):
            target = Path(os.fsdecode(path))
            if (content in target.parents) if inside else target == content:
                raise PermissionError(13, "Permission denied", str(path))
            return real(path, *args, **kwargs)
        return call

    for name, inside in (("scandir", False), ("listdir", False), ("stat", True), ("lstat", True)):
        monkeypatch.setattr(os, name, refuse(getattr(os, name), inside))
    assert main(["check", "--content", str(content)]) == 1
    assert_problems(capsys.readouterr().err, str(content.parent), [
        ("content", 1, 1, "error", "cannot read the content folder: Permission denied")])


def replace_line(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text
    file.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(("name", "size"), [
    ("Not Found " + "x" * 300, 310),
    ("é" * 130, 260),  # 130 characters, 260 bytes: the limit counts bytes
])
def test_a_name_too_long_for_a_folder_is_found_by_check(content, tmp_path, name, size):
    replace_line(content / "sources" / "sample.yaml", "name: Not Found", f"name: {name}")
    result = run_build("check", "--content", str(content))
    assert result.returncode == 1
    assert_problems(result.stderr, str(content), [
        ("sources/sample.yaml", 7, 11, "error", f"is too long to be a URL: its slug is {size} bytes")])
    out = tmp_path / "site"
    built = run_build("build", "--content", str(content), "--out", str(out))
    assert built.returncode == 1 and "File name too long" not in built.stderr
    assert not out.exists()


def test_every_registry_name_is_checked(content):
    registry = content / "registry.yaml"
    long_name = "Gone " * 60
    replace_line(registry, "  class: 4xx\n", "  class: 4xx\n"
                 f"  former_phrases:\n  - phrase: {long_name}\n    source: RFC 2616\n"
                 f"  also_known_as:\n  - name: {long_name}\n    used_by: nginx\n")
    replace_line(registry, "phrase: OK", f"phrase: {long_name}")
    result = run_build("check", "--content", str(content))
    assert result.returncode == 1
    words = "is too long to be a URL: its slug is 299 bytes"
    assert_problems(result.stderr, str(content), [
        ("registry.yaml", 2, 11, "error", words), ("registry.yaml", 20, 13, "error", words),
        ("registry.yaml", 23, 11, "error", words)])


CODE_FORMS = {"0x194": 404, "4_04": 404, "+404": 404, "0404": 260, "4:04": 244}


def with_code_written(content: Path, place: str, form: str) -> tuple[str, int, int]:
    """`content` with the code 404 written as `form` in one `place` a code is read; where the error must be."""
    if place == "registry":
        replace_line(content / "registry.yaml", "- code: 404", f"- code: {form}")
        return "registry.yaml", 10, 9
    if place == "errata":
        with (content / "sources" / "sample.yaml").open("a") as source:
            source.write(f"errata:\n  - code: {form}\n    note: A slip.\n")
        return "sources/sample.yaml", 10, 11
    if place == "semantics":
        (content / "semantics.yaml").write_text(
            f"- code: {form}\n  cacheable:\n    value: true\n    spec: RFC 9110\n    section: '15.1'\n"
            "    excerpt: Responses with status codes that are defined as heuristically cacheable\n")
        return "semantics.yaml", 1, 9
    if place == "constants":
        (content / "constants.yaml").write_text(
            "libraries:\n- id: go\n  name: Go net/http\n  language: go\n  repo: golang/go\n"
            f"  path: src/net/http/status.go\n  commit: {'a' * 40}\n  release: 1.19.8\n  format: http.{{name}}\n"
            f"  codes:\n    {form}: [StatusNotFound]\n")
        return "constants.yaml", 11, 5
    (content / "comparisons.yaml").write_text(
        f"- slug: gone\n  title: Gone\n  question: Which?\n  codes: [200, {form}]\n  columns: [meaning]\n"
        "  advice: []\n")
    return "comparisons.yaml", 4, 16


@pytest.mark.parametrize("form", CODE_FORMS)
@pytest.mark.parametrize("place", ["registry", "errata", "semantics", "constants", "comparisons"])
def test_a_code_not_written_in_decimal_is_an_error_wherever_codes_are_read(content, place, form, capsys,
                                                                            monkeypatch):
    file, line, col = with_code_written(content, place, form)
    monkeypatch.chdir(ROOT)
    assert main(["check", "--content", str(content)]) == 1
    assert_problems(capsys.readouterr().err, str(content), [(
        file, line, col, "error", f"must be written as three decimal digits, e.g. 404, not the number '{form}' "
        f"(YAML 1.1 reads it as {CODE_FORMS[form]})")])


def test_a_huge_value_is_not_echoed(content):
    huge = "x" * 900_000
    replace_line(content / "sources" / "sample.yaml", "code: 404", f"code: {huge}")
    result = run_build("check", "--content", str(content))
    assert result.returncode == 1
    printed = problem_lines(result.stderr)
    assert len(printed) == 1 and "not the string 'xxxxx" in printed[0]
    assert len(result.stderr) < 1000


def test_a_symlinked_secret_is_not_echoed_whole(content):
    secret = content.parent / "secret"
    lines = [f"user{n}:x:{1000 + n}:{1000 + n}:User {n}:/home/user{n}:/bin/sh" for n in range(40)]
    secret.write_text("\n".join(lines) + "\n")  # like /etc/passwd: YAML reads it as one long string
    (content / "sources" / "passwd.yaml").symlink_to(secret)
    result = run_build("check", "--content", str(content))
    assert result.returncode == 1
    assert_problems(result.stderr, str(content), [("sources/passwd.yaml", 1, 1, "error", "'user0:x:1000")])
    assert not any(line in result.stderr for line in lines[2:])
    assert len(result.stderr) < 1000


def test_escape_sequences_in_a_file_name_are_shown_escaped(content):
    (content / "sources" / "\x1b[2J\x1b]0;owned\x07.yaml").write_text("title: x\n")
    result = run_build("check", "--content", str(content))
    assert result.returncode == 1
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr
    assert "sources/\\x1b[2J\\x1b]0;owned\\x07.yaml:1:1: error: source id '\\x1b[2J" in result.stderr


def test_crlf_content_builds_like_lf(content, tmp_path):
    (content / "pages").mkdir()
    (content / "pages" / "about.md").write_bytes(
        b"---\r\ntitle: About\r\ndescription: What this is.\r\n---\r\n\r\nFirst line.\r\nSecond *line*.\r\n")
    source = content / "sources" / "sample.yaml"
    source.write_bytes(source.read_bytes().replace(b"\n", b"\r\n"))
    out = tmp_path / "site"
    result = run_build("build", "--content", str(content), "--out", str(out))
    assert result.returncode == 0, result.stderr
    page = (out / "about" / "index.html").read_text()
    assert "<title>About" in page and "First line.\nSecond <em>line</em>." in page and "\r" not in page
    assert "Nothing is at this address." in (out / "404" / "index.html").read_text()
