"""content/constants.yaml against the libraries themselves (issue 21): every name there is in the release it
says it was read from, every code that release names is there, and names that need a release say so.

Python, Go, Node.js and Java run here, so they are asked directly (each Python in its own process); the
other libraries' source lines are kept under tests/data/ (tests/data/README.md says where each was read).
Standalone on purpose (no generator import): it reads the YAML with yaml.safe_load.
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from hashlib import sha256
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
LIBRARY_IDS = ("python", "go", "node", "java", "dotnet", "rust", "rack", "symfony", "spring")
PYTHONS = ("3.11", "3.12", "3.13")


@pytest.fixture(scope="module")
def libraries() -> dict[str, dict]:
    with open(ROOT / "content" / "constants.yaml", encoding="utf-8") as f:
        return {lib["id"]: lib for lib in yaml.safe_load(f)["libraries"]}


def entries(lib: dict) -> dict[int, list[dict]]:
    """code -> [{name, since, deprecated}], whether the YAML gives a name as text or as a mapping."""
    return {code: [{"since": None, "deprecated": False, **(n if isinstance(n, dict) else {"name": n})} for n in names]
            for code, names in lib["codes"].items()}


def pairs(lib: dict) -> set[tuple[int, str]]:
    return {(code, n["name"]) for code, names in entries(lib).items() for n in names}


def release_key(release: str) -> tuple[int, ...]:
    return tuple(int(part) for part in release.split("."))


def run(*command: str) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=60).stdout


def extract(name: str) -> tuple[str, str]:
    """A file under tests/data/: its first line (repository, path, revision, lines), and the lines read."""
    first, _, text = (DATA / name).read_text(encoding="utf-8").partition("\n")
    assert first.startswith("# "), f"{name}: the first line names where it was read"
    return first, text


def test_every_library_says_what_it_was_read_from(libraries):
    assert tuple(libraries) == LIBRARY_IDS
    for lib in libraries.values():
        assert lib["name"] and lib["repo"] and lib["path"] and lib["release"], lib["id"]
        assert "commit" in lib or "tag" in lib, lib["id"]
        assert re.fullmatch(r"[0-9a-f]{40}", lib.get("commit", "0" * 40)), lib["id"]
        assert "{name}" in lib["format"], lib["id"]
        codes = entries(lib)
        assert list(codes) == sorted(codes), lib["id"]
        for code, names in codes.items():
            assert 100 <= code <= 599 and names, (lib["id"], code)
            assert len({n["name"] for n in names}) == len(names), (lib["id"], code)
            # The name offered first is one the release does not deprecate, if it has one.
            assert not names[0]["deprecated"] or all(n["deprecated"] for n in names), (lib["id"], code)


# --- libraries that run here --------------------------------------------------------------------

def python_interpreter(version: str) -> str:
    """pyenv's interpreter for `version`, else one on PATH; a missing one fails the test (CI must have it)."""
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = Path(run(pyenv, "root").strip()) / "versions"
        found = sorted(root.glob(f"{version}.*/bin/python{version}"))
        if found:
            return str(found[-1])
    path = shutil.which(f"python{version}")
    assert path, f"Python {version} is needed to check constants.yaml's Python names"
    return path


def httpstatus_members(version: str) -> tuple[str, dict[str, int]]:
    out = json.loads(run(python_interpreter(version), "-c", "import http, json, platform; print(json.dumps("
                         "[platform.python_version(), {n: m.value for n, m in http.HTTPStatus.__members__.items()}]))"))
    return out[0], out[1]


@pytest.mark.parametrize("version", PYTHONS)
def test_python_names_resolve_on_every_python_from_the_release_they_name(libraries, version):
    """A name without `since` works on 3.11, 3.12 and 3.13; one with `since` works from that release and
    is absent before it, so the page's "(3.13+)" is the real boundary."""
    full, members = httpstatus_members(version)
    python = libraries["python"]
    for code, names in entries(python).items():
        for n in names:
            if n["since"] and release_key(version) < release_key(n["since"]):
                assert n["name"] not in members, (version, n)
            else:
                assert members.get(n["name"]) == code, (version, code, n["name"])
    if full == python["release"]:
        # The release read: every member, aliases included, is in the data, the canonical name first.
        assert pairs(python) == {(code, name) for name, code in members.items()}
        firsts = {code: names[0]["name"] for code, names in entries(python).items()}
        assert firsts == {code: name for name, code in reversed(members.items())}


def test_python_release_is_the_file_read(libraries):
    python = libraries["python"]
    version = python["release"]
    assert python["tag"] == f"v{version}"
    source = run(python_interpreter(version.rsplit(".", 1)[0]), "-c", "import http; print(http.__file__)").strip()
    full, _ = httpstatus_members(version.rsplit(".", 1)[0])
    assert full == version, "constants.yaml names another Python release than the one installed"
    assert sha256(Path(source).read_bytes()).hexdigest() == python["sha256"]


def test_node_table_equals_the_installed_node(libraries):
    node = libraries["node"]
    version, table = json.loads(run("node", "-p", "JSON.stringify([process.version, require('http').STATUS_CODES])"))
    assert node["release"] == version[1:] and node["tag"] == version
    assert pairs(node) == {(int(code), phrase) for code, phrase in table.items()}


def test_go_names_equal_the_installed_toolchains_status_go(libraries):
    go = libraries["go"]
    goroot, version = run("go", "env", "GOROOT", "GOVERSION").split()
    assert go["tag"] == version and go["release"] == version.removeprefix("go")
    status_go = (Path(goroot) / go["path"]).read_text(encoding="utf-8")
    parsed = {(int(code), name) for name, code in re.findall(r"^\s*(Status\w+)\s*=\s*(\d{3})\b", status_go, re.M)}
    assert len(parsed) > 50 and pairs(go) == parsed


def test_java_names_equal_javap(libraries):
    java = libraries["java"]
    assert java["release"] == run("javap", "-version").strip()
    fields = re.findall(r"static final int (HTTP_\w+) = (\d+);", run("javap", "-constants", "java.net.HttpURLConnection"))
    assert pairs(java) == {(int(code), name) for name, code in fields}
    deprecated = {n["name"] for names in entries(java).values() for n in names if n["deprecated"]}
    assert deprecated == {"HTTP_SERVER_ERROR"}


# --- libraries read from their repositories (tests/data/) ----------------------------------------

def revision_in(lib: dict, first_line: str) -> None:
    assert f"{lib['repo']} {lib['path']} @ " in first_line, lib["id"]
    for key in ("commit", "tag"):
        if key in lib:
            assert lib[key] in first_line, (lib["id"], key)
    if "tag" in lib:  # the release shown is the tag read
        assert lib["release"] == lib["tag"].removeprefix("v"), lib["id"]


def test_dotnet_names_equal_its_source(libraries):
    first, text = extract("dotnet-HttpStatusCode.cs.txt")
    revision_in(libraries["dotnet"], first)
    members = re.findall(r"^\s*(\w+) = (\d{3}),?$", text, re.M)
    assert pairs(libraries["dotnet"]) == {(int(code), name) for name, code in members}
    assert 425 not in libraries["dotnet"]["codes"] and "// ImATeapot = 418" in text


def test_rust_names_equal_its_source(libraries):
    first, text = extract("http-1.4.2-status.rs.txt")
    rust = libraries["rust"]
    revision_in(rust, first)
    assert pairs(rust) == {(int(code), name) for code, name in re.findall(r"^\s*\((\d{3}), (\w+), ", text, re.M)}
    assert [n for n in entries(rust)[103] + entries(rust)[425]] == [
        {"name": "EARLY_HINTS", "since": "1.4", "deprecated": False},
        {"name": "TOO_EARLY", "since": "1.2", "deprecated": False}]


def test_rack_symbols_equal_its_source(libraries):
    """SYMBOL_TO_STATUS_CODE is message.downcase.gsub(/\\s|-/, '_') of HTTP_STATUS_CODES; the obsolete symbols
    status_code still accepts (with a warning) are there as deprecated, none of them offered first."""
    first, text = extract("rack-3.2.7-utils.rb.txt")
    rack = libraries["rack"]
    revision_in(rack, first)
    table = text[text.index("HTTP_STATUS_CODES = {"):text.index("}")]
    current = {(int(code), re.sub(r"\s|-", "_", message.lower())) for code, message in re.findall(r"(\d{3}) => '([^']*)'", table)}
    obsolete_map = text[text.index("OBSOLETE_SYMBOLS_TO_STATUS_CODES = {"):]
    obsolete = {(int(code), name) for name, code in re.findall(r"(\w+): (\d{3})", obsolete_map[:obsolete_map.index("}")])}
    assert len(current) > 50 and obsolete
    named = entries(rack)
    assert {(code, n["name"]) for code, names in named.items() for n in names if not n["deprecated"]} == current
    assert {(code, n["name"]) for code, names in named.items() for n in names if n["deprecated"]} == obsolete
    assert all(n["deprecated"] == "3.1" for names in named.values() for n in names if n["deprecated"])
    # The symbols that raise ArgumentError since Rack 2.1 are offered nowhere.
    assert not {"request_entity_too_large", "request_uri_too_long", "requested_range_not_satisfiable",
                "i'm_a_teapot"} & {name for _, name in pairs(rack)}


def test_symfony_constants_equal_its_source(libraries):
    first, text = extract("symfony-7.1.5-Response.php.txt")
    revision_in(libraries["symfony"], first)
    constants = re.findall(r"public const (HTTP_\w+) = (\d{3});", text)
    assert pairs(libraries["symfony"]) == {(int(code), name) for name, code in constants}


def test_spring_entries_and_their_versions_equal_its_source(libraries):
    """Each enum entry, with its own @since and @Deprecated(since = ...)."""
    first, text = extract("spring-7.0.9-HttpStatus.java.txt")
    revision_in(libraries["spring"], first)
    found = {}
    for block in text.split("\n\t/**"):
        entry = re.search(r"^\t(\w+)\((\d{3}),", block, re.M)
        if entry:
            since = re.search(r"@since ([\d.]+)", block)
            deprecated = re.search(r'@Deprecated\(since = "([\d.]+)"\)', block)
            found[(int(entry[2]), entry[1])] = (since and since[1], deprecated[1] if deprecated else False)
    assert len(found) > 50
    data = {(code, n["name"]): (n["since"], n["deprecated"]) for code, names in entries(libraries["spring"]).items()
            for n in names}
    assert data.keys() == found.keys()
    for key, (since, deprecated) in found.items():
        # A `since` the source does not state is checked against older releases (test below).
        assert data[key][1] == deprecated and (since is None or data[key][0] == since), key


def test_renamed_names_give_the_current_name_first_with_versions(libraries):
    def names(lib_id, code):
        return [(n["name"], n["since"], n["deprecated"]) for n in entries(libraries[lib_id])[code]]

    assert names("python", 413) == [("CONTENT_TOO_LARGE", "3.13", False), ("REQUEST_ENTITY_TOO_LARGE", None, False)]
    assert names("python", 422) == [("UNPROCESSABLE_CONTENT", "3.13", False), ("UNPROCESSABLE_ENTITY", None, False)]
    assert names("rack", 413) == [("content_too_large", "3.1", False), ("payload_too_large", "1.6", "3.1")]
    assert names("spring", 413) == [("CONTENT_TOO_LARGE", "7.0", False), ("PAYLOAD_TOO_LARGE", "4.1", "7.0")]
    assert names("dotnet", 422) == [("UnprocessableContent", None, False), ("UnprocessableEntity", None, False)]


# --- the releases a name needs --------------------------------------------------------------------

def sections(name: str) -> dict[str, str]:
    """A file of several releases' lines under tests/data/: release (the tag read) -> its lines."""
    parts = re.split(r"^# \S+ \S+ @ (\S+) \([0-9a-f]{40}\), lines \d+-\d+\n", (DATA / name).read_text(encoding="utf-8"),
                     flags=re.M)
    assert parts[0] == "" and len(parts) > 2, name
    return dict(zip(parts[1::2], parts[2::2]))


OLDER = {
    "rack": ("rack-older-utils.rb.txt", lambda text: {
        (int(code), re.sub(r"\s|-", "_", message.lower())) for code, message in re.findall(r"(\d{3}) => '([^']*)'", text)}),
    "rust": ("http-older-status.rs.txt", lambda text: {
        (int(code), name) for code, name in re.findall(r"^\s*\((\d{3}), (\w+), ", text, re.M)}),
    "spring": ("spring-older-HttpStatus.java.txt", lambda text: {
        (int(code), name) for name, code in re.findall(r"^\t(\w+)\((\d{3}),", text, re.M)}),
}


@pytest.mark.parametrize("lib_id", OLDER)
def test_since_is_the_first_release_with_the_name(libraries, lib_id):
    """Against the older releases kept in tests/data/: a name is absent from every one before its `since`, and
    present in every one from it (up to the release that deprecated it, whose old tables no longer hold it)."""
    file, parse = OLDER[lib_id]
    releases = {tag.removeprefix("v"): parse(text) for tag, text in sections(file).items()}
    for code, names in entries(libraries[lib_id]).items():
        for n in names:
            for release, named in releases.items():
                if n["since"] and release_key(release) < release_key(n["since"]):
                    assert (code, n["name"]) not in named, (lib_id, release, n)
                elif not n["deprecated"] or release_key(release) < release_key(n["deprecated"]):
                    assert (code, n["name"]) in named, (lib_id, release, n)
