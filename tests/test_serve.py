"""`build.py serve`: incremental rebuilds in-process, and the live server as a user runs it."""
from __future__ import annotations

import http.client
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from httpref.cli import build_outputs
from httpref.pages import DEV, Options
from httpref.render import Renderer
from httpref.serve import DevBuild, DevSite, SaveWatcher
from httpref.write import BIG_FILE, update_files
from conftest import ROOT, copy_generator, run_build

# 404 as the source response-codes.yaml words it. Not the first source quoting 404, and the edits
# below leave its first sentence alone, so the summary that lists show stays the same.
SOURCE = Path("content/sources/response-codes.yaml")
SENTENCE = re.compile(r"This is the most common client error[^.]*\.")
ENTRY_404 = "  - code: 404\n    name: Not Found\n"


def reword(file: Path, note: str) -> None:
    """Save `file` with the noted sentence of 404's description reworded to carry `note`."""
    text = file.read_text(encoding="utf-8")
    assert SENTENCE.search(text), f"{file} no longer holds {SENTENCE.pattern!r}; update this test"
    file.write_text(SENTENCE.sub(f"This is the most common client error ({note}).", text, count=1), encoding="utf-8")


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text(encoding="utf-8")
    assert old in text, f"{file} no longer holds {old!r}; update this test"
    file.write_text(text.replace(old, new, 1), encoding="utf-8")


def copy_project(root: Path) -> Path:
    """What a maintainer checks out: the generator, its templates, static files and content."""
    copy_generator(root, "content", "templates", "static")
    shutil.copy(ROOT / "pyproject.toml", root / "pyproject.toml")
    return root


def files_in(folder: Path) -> dict[str, bytes]:
    return {path.relative_to(folder).as_posix(): path.read_bytes() for path in folder.rglob("*") if path.is_file()}


class TextParser(HTMLParser):
    """The text a reader sees (scripts and styles aside), and the `src` of each script."""

    def __init__(self):
        super().__init__()
        self.parts: list[str] = []
        self.scripts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self._hidden += 1
        if tag == "script":
            self.scripts.append(dict(attrs).get("src") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self._hidden -= 1

    def handle_data(self, data):
        if not self._hidden:
            self.parts.append(data)

    @property
    def text(self) -> str:
        return " ".join(" ".join(self.parts).split())


def parse(html: str) -> TextParser:
    parser = TextParser()
    parser.feed(html)
    return parser


# --------------------------------------------------------------------------- in-process rebuilds


@pytest.fixture
def dev(tmp_path) -> DevBuild:
    """A first dev build of a copy of the project, ready for edits."""
    project = copy_project(tmp_path)
    dev = DevBuild(project / "content", project / "out", templates=project / "templates",
                         static=project / "static")
    assert len(dev.rebuild()) == len(files_in(project / "out")) > 200
    return dev


def stats(folder: Path) -> dict[str, tuple[int, int]]:
    return {path: (info.st_mtime_ns, info.st_ino) for path, info in
            ((p.relative_to(folder).as_posix(), p.stat()) for p in folder.rglob("*") if p.is_file())}


def rewritten_by(dev: DevBuild, saved: Path) -> set[str]:
    """Rebuild after `saved` was saved; the output files whose inode or mtime changed on disk."""
    before = stats(dev.out)
    time.sleep(0.01)  # lets a rewrite show in the mtime even on coarse filesystem clocks
    written = dev.rebuild([saved])
    after = stats(dev.out)
    touched = {path for path in after if after[path] != before.get(path)} | (before.keys() - after.keys())
    assert touched == set(written)
    return touched


def assert_same_as_clean_build(dev: DevBuild) -> None:
    clean, _ = build_outputs(dev.content, Options(DEV),
                                   Renderer(dev.renderer.templates, dev.renderer.static))
    assert files_in(dev.out) == clean


def test_entry_edit_rewrites_only_the_files_it_changes(dev):
    source = dev.content / "sources/response-codes.yaml"
    reword(source, "by far")
    # The code's page, its JSON, the JSON list and the search index quote the description. The
    # source's page, the 4xx page and the home page do not, and 404's summary is unchanged.
    assert rewritten_by(dev, source) == {"404/index.html", "api/404.json", "api/codes.json", "search-index.js"}
    assert_same_as_clean_build(dev)


def test_a_big_file_is_written_over_to_exactly_its_new_bytes(tmp_path):
    """codes.json and the search index are written over in place (a new copy of 21 MB a save was slow): the
    file must hold exactly the new bytes, shorter or longer; small files are still replaced whole."""
    out = tmp_path / "out"
    big = bytes(range(256)) * (BIG_FILE // 128)
    files = {"api/codes.json": big, "404/index.html": b"<p>first</p>"}
    assert sorted(update_files(files, {}, out)) == ["404/index.html", "api/codes.json"]
    inode = (out / "api/codes.json").stat().st_ino
    for index, data in enumerate((big[:BIG_FILE + 7], big + b"longer", big[::-1])):
        saved = {"api/codes.json": data, "404/index.html": f"<p>{index}</p>".encode()}
        page_inode = (out / "404/index.html").stat().st_ino
        assert sorted(update_files(saved, files, out)) == ["404/index.html", "api/codes.json"]
        assert (out / "api/codes.json").read_bytes() == data
        assert (out / "api/codes.json").stat().st_ino == inode
        assert (out / "404/index.html").read_bytes() == saved["404/index.html"]
        assert (out / "404/index.html").stat().st_ino != page_inode
        files = saved
    assert sorted(p.name for p in out.rglob("*")) == ["404", "api", "codes.json", "index.html"]


def test_stylesheet_edit_rewrites_one_file(dev):
    stylesheet = dev.renderer.static / "style.css"
    stylesheet.write_text(stylesheet.read_text(encoding="utf-8") + "main { outline: 0; }\n", encoding="utf-8")
    assert rewritten_by(dev, stylesheet) == {"assets/style.css"}
    assert_same_as_clean_build(dev)


def test_template_edit_rerenders_the_pages_using_it(dev):
    template = dev.renderer.templates / "page.html"  # only the Markdown pages (about) use it
    edit(template, '<article class="prose">', '<article class="prose edited">')
    assert rewritten_by(dev, template) == {"about/index.html"}
    assert_same_as_clean_build(dev)


class Saves:
    """The bursts of saves a `SaveWatcher` reports for a dev build's folders, taken one at a time."""

    def __init__(self, dev: DevBuild):
        self.bursts: queue.Queue[set[Path]] = queue.Queue()
        self.watcher = SaveWatcher(dev.watched, self.bursts.put)
        assert self.watcher.ready.wait(10), "the folders were never watched"

    def next(self) -> set[Path]:
        return self.bursts.get(timeout=10)

    def none_after(self, seconds: float = 0.3) -> bool:
        time.sleep(seconds)
        return self.bursts.empty()


@pytest.fixture
def saves(dev) -> Iterator[Saves]:
    watched = Saves(dev)
    yield watched
    watched.watcher.close()


def test_saves_in_quick_succession_give_one_rebuild(dev, saves, capsys):
    reloads = []
    site = DevSite(dev, reloads.append)
    source = dev.content / "sources/response-codes.yaml"
    text = SENTENCE.sub("This is the most common client error (written twice).", source.read_text(encoding="utf-8"))
    source.write_text("", encoding="utf-8")  # an editor truncating the file...
    source.write_text(text, encoding="utf-8")  # ...then writing it: one burst, one rebuild
    burst = saves.next()
    assert burst == {source.resolve()}
    assert saves.none_after()
    site.rebuild(burst)
    printed = capsys.readouterr()
    assert re.fullmatch(r"\S*response-codes\.yaml: rebuilt in \d+ ms, wrote 4 files\n", printed.out)
    assert printed.err == "" and reloads == ["*"]
    assert "(written twice)" in (dev.out / "404/index.html").read_text(encoding="utf-8")


def test_dot_files_and_editor_leftovers_are_not_saves(dev, saves):
    sources = dev.content / "sources"
    (sources / ".response-codes.yaml.swp").write_text("swap")
    (sources / "response-codes.yaml~").write_text("backup")
    (sources / ".hidden").mkdir()
    (sources / ".hidden" / "x.yaml").write_text("title: x")
    assert saves.none_after()
    (dev.renderer.static / "style.css").write_text("main {}\n")
    assert saves.next() == {(dev.renderer.static / "style.css").resolve()}


def test_a_broken_save_keeps_the_site_and_the_fix_reloads_the_browser(dev, saves, capsys):
    reloads = []
    site = DevSite(dev, reloads.append)
    source = dev.content / "sources/response-codes.yaml"
    good, before = source.read_text(encoding="utf-8"), files_in(dev.out)
    edit(source, ENTRY_404, ENTRY_404.replace("name: Not Found", "name: [Not Found"))
    site.rebuild(saves.next())
    assert site.problems and reloads == ["*"]  # browsers reload to show the errors
    assert all(str(problem) in capsys.readouterr().err for problem in site.problems)
    assert files_in(dev.out) == before
    source.write_text(good, encoding="utf-8")  # back as it was: no file changes, yet the errors must go
    site.rebuild(saves.next())
    assert not site.problems and reloads == ["*", "*"]
    assert re.search(r"rebuilt in \d+ ms, wrote 0 files\n", capsys.readouterr().out)


def test_saving_a_template_or_the_stylesheet_keeps_broken_content_reported(dev, saves):
    # Such saves re-render the model kept in memory; while the content fails there is none to trust.
    site = DevSite(dev, lambda path: None)
    source = dev.content / "sources/response-codes.yaml"
    good = source.read_text(encoding="utf-8")
    edit(source, ENTRY_404, ENTRY_404.replace("name: Not Found", "name: [Not Found"))
    site.rebuild(saves.next())
    broken = site.problems
    assert broken
    edit(dev.renderer.templates / "page.html", '<article class="prose">', '<article class="prose edited">')
    site.rebuild(saves.next())
    stylesheet = dev.renderer.static / "style.css"
    stylesheet.write_text(stylesheet.read_text(encoding="utf-8") + "main { outline: 0; }\n", encoding="utf-8")
    site.rebuild(saves.next())
    assert site.problems == broken  # the browser still shows the content's errors
    source.write_text(good, encoding="utf-8")
    site.rebuild(saves.next())
    assert not site.problems
    assert_same_as_clean_build(dev)  # with the template and stylesheet saved meanwhile


# --------------------------------------------------------------------------- the server


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Serve:
    """`python build.py serve` in a project folder; its output goes to files, read as it grows."""

    def __init__(self, project: Path, temp: Path):
        self.project = project
        self.port = free_port()
        self.stdout = temp / f"serve-{self.port}.out"
        self.stderr = temp / f"serve-{self.port}.err"
        with open(self.stdout, "wb") as out, open(self.stderr, "wb") as err:
            # TMPDIR puts the built folder in `temp`, so tests can see it and what lies beside it.
            self.process = subprocess.Popen(
                [sys.executable, "build.py", "serve", "--port", str(self.port)], cwd=project,
                stdout=out, stderr=err, env={**os.environ, "TMPDIR": str(temp)})
        deadline = time.monotonic() + 60  # start-up, not a speed check: CI machines may be busy
        while not self.answers():
            assert self.process.poll() is None, f"serve exited: {self.stderr.read_text()}"
            assert time.monotonic() < deadline, "serve did not start"
            time.sleep(0.05)

    def answers(self) -> bool:
        try:
            return self.get("/")[0] == 200
        except OSError:
            return False

    def get(self, path: str) -> tuple[int, str]:
        """Status and body for `path` sent exactly as written (no client-side dot-segment removal)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            return response.status, response.read().decode("utf-8", "replace")
        finally:
            connection.close()

    def output(self) -> str:
        return self.stdout.read_text(encoding="utf-8")

    def errors(self) -> str:
        return self.stderr.read_text(encoding="utf-8")

    def stop(self) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=30)


def wait_for(condition, what: str, within: float):
    """Poll `condition` every 20 ms until it holds; fail when `within` seconds pass first."""
    deadline = time.monotonic() + within
    while True:
        result = condition()
        if result:
            return result
        assert time.monotonic() < deadline, f"{what}: not seen within {within} s"
        time.sleep(0.02)


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    temp = tmp_path_factory.mktemp("serve")
    server = Serve(copy_project(temp / "project"), temp)
    yield server
    server.stop()


def page_text(server: Serve, path: str) -> str | None:
    status, body = server.get(path)
    return parse(body).text if status == 200 else None


def test_serves_the_site_with_the_reload_script_in_responses_only(served):
    status, body = served.get("/404/")
    assert status == 200
    assert "404 Not Found" in parse(body).text
    assert any(src == "" for src in parse(body).scripts)  # livereload's inline loader
    built = next(served.project.parent.glob("http-status-serve-*"))
    on_disk = (built / "404/index.html").read_text(encoding="utf-8")
    assert "livereload" not in on_disk and "livereload" in body


def test_a_saved_edit_is_served(served):
    reword(served.project / SOURCE, "saved once")
    # The promise is "within a second"; a rebuild takes tens of milliseconds.
    wait_for(lambda: "(saved once)" in (page_text(served, "/404/") or ""), "the edited description on /404/",
             within=1.0)


def test_an_editor_writing_a_file_twice_gives_the_server_one_rebuild(served):
    source = served.project / SOURCE
    text = SENTENCE.sub("This is the most common client error (two writes).", source.read_text(encoding="utf-8"))
    rebuilds_before = served.output().count("rebuilt in")
    source.write_text("", encoding="utf-8")  # an editor truncating the file, then writing it
    source.write_text(text, encoding="utf-8")
    wait_for(lambda: "(two writes)" in (page_text(served, "/404/") or ""), "the edited description", within=10)
    time.sleep(0.2)  # room for a second rebuild to show itself, were there one
    assert served.output().count("rebuilt in") == rebuilds_before + 1
    assert "error" not in served.errors()


def test_invalid_yaml_shows_its_errors_and_the_next_good_save_recovers(served):
    source = served.project / SOURCE
    good = source.read_text(encoding="utf-8")
    edit(source, ENTRY_404, ENTRY_404.replace("name: Not Found", "name: [Not Found"))
    check = run_build("check", cwd=served.project)  # what the terminal shows for this content
    messages = [line for line in check.stderr.splitlines() if re.match(r"content/.+:\d+:\d+: error: ", line)]
    assert check.returncode == 1 and messages

    def error_page():
        status, body = served.get("/404/")
        return status == 500 and parse(body).text

    shown = wait_for(error_page, "the error page for /404/", within=10)
    assert all(message in shown for message in messages)
    assert all(message in served.errors() for message in messages)
    assert served.process.poll() is None
    status, body = served.get("/api/404.json")  # the last good build is still there
    assert status == 200 and "Not Found" in body

    source.write_text(good, encoding="utf-8")
    reword(source, "fixed")
    wait_for(lambda: "(fixed)" in (page_text(served, "/404/") or ""), "/404/ again after the fix", within=10)


@pytest.mark.parametrize("path", ["/../build.py", "/%2e%2e/pyproject.toml", "/%2e%2e%2fbuild.py", "//etc/passwd"])
def test_nothing_outside_the_built_folder_is_served(served, path):
    # The built folder's parent holds a copy of build.py and pyproject.toml: they must stay out of reach.
    (served.project.parent / "build.py").write_text("SECRET = 1\n")
    (served.project.parent / "pyproject.toml").write_text("[secret]\n")
    status, body = served.get(path)
    assert status == 404
    assert "SECRET" not in body and "[secret]" not in body and "root:" not in body


def test_a_port_in_use_gives_one_clear_line(served):
    result = run_build("serve", "--port", str(served.port), cwd=served.project, timeout=60)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert f"port {served.port}" in result.stderr and "in use" in result.stderr


def test_ctrl_c_stops_cleanly(tmp_path):
    server = Serve(copy_project(tmp_path / "project"), tmp_path)
    assert list(tmp_path.glob("http-status-serve-*"))
    assert server.stop() == 0
    assert "Traceback" not in server.errors()
    assert server.output().splitlines()[-1] == "stopped"
    assert not list(tmp_path.glob("http-status-serve-*"))  # the built folder is removed
