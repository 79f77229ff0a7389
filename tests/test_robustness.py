"""Nothing executes, nothing leaks, nothing is lost (issue 7).

- A hostile source (tests/fixtures/broken/hostile) is built and every page parsed: no element,
  attribute or link target came from content, and each string survives exactly in HTML text,
  attributes, <title>, the JSON API and the search index.
- Builds killed with SIGKILL, failing on a full disk, or racing each other leave a complete site.
- Output is the same under any PYTHONHASHSEED and from any working folder.
- Random source documents, valid and broken, either build or fail with `path:line:col` problems.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings, strategies as st

from httpref.cli import build_outputs, main
from httpref.load import SAFE_ID, load
from httpref.pages import HOSTED, Options
from httpref.render import compact_css
from httpref.write import MARKER, MARKER_TEXT
from conftest import ROOT, disk_full_after, run_build

FIXTURES = ROOT / "tests" / "fixtures" / "broken"
HOSTILE = FIXTURES / "hostile"
VALID = FIXTURES / "_valid"
BAD_SCHEMES = ("javascript:", "vbscript:", "data:")
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "poster", "cite", "background", "xlink:href"}
# Tags no template uses; content must never be able to add them.
STYLESHEET = compact_css((ROOT / "static" / "style.css").read_text(encoding="utf-8"))  # as pages carry it
COMPARE_STYLESHEET = compact_css((ROOT / "static" / "compare.css").read_text(encoding="utf-8"))  # and comparisons
FORBIDDEN_TAGS = {"img", "iframe", "object", "embed", "svg", "math", "style", "form", "base", "frame", "frameset",
                  "video", "audio", "source", "textarea", "select", "template"}
# What Markdown may make of content: CommonMark's own elements (raw HTML and images are off).
MARKDOWN_MARKUP = {(tag, "") for tag in ("p", "pre", "code", "em", "strong", "a", "ul", "ol", "li", "blockquote",
                                         "hr", "br", "h1", "h2", "h3", "h4", "h5", "h6")} | {
    ("a", "href"), ("a", "title"), ("a", "class"), ("a", "aria-label"), ("ol", "start"), ("code", "class"),
    ("h2", "id"), ("h3", "id")}
PROBLEM_LINE = re.compile(r"^(?P<path>.+):\d+:\d+: (error|warning): .+$")
SUMMARY_LINE = re.compile(r"^\d+ error\(s\), \d+ warning\(s\)$")


class ParsedPage(HTMLParser):
    """A page's start tags with attributes, its <title>, its scripts, its inline stylesheets and its text.

    A `<style>` in `<head>` is the site's own stylesheet, inline: kept apart from `tags`, so that any other
    `<style>` (one in the body) still counts as a forbidden tag, and its text is checked on its own."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.title = ""
        self.scripts: list[tuple[str | None, str]] = []  # (src, inline text)
        self.styles: list[str] = []  # the text of each <style> in <head>
        self.text: list[str] = []
        self._in_head = False
        self._inside: str | None = None
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self._inside = tag
        self._in_head = self._in_head or tag == "head"
        if tag == "style" and self._in_head:
            self.styles.append("")
            return
        self.tags.append((tag, dict(attrs)))
        if tag == "script":
            self.scripts.append((dict(attrs).get("src"), ""))

    def handle_endtag(self, tag):
        self._inside = None
        self._in_head = self._in_head and tag != "head"

    def handle_data(self, data):
        self.text.append(data)
        if self._inside == "title":
            self.title += data
        elif self._inside == "script":
            src, text = self.scripts[-1]
            self.scripts[-1] = (src, text + data)
        elif self._inside == "style" and self._in_head:
            self.styles[-1] += data


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def pages(site: dict[str, bytes]) -> dict[str, ParsedPage]:
    return {path: ParsedPage(data.decode("utf-8")) for path, data in site.items() if path.endswith(".html")}


def link_is_safe(url: str) -> bool:
    # Browsers drop ASCII tabs and newlines anywhere in a URL and leading controls and spaces.
    return not re.sub(r"[\x00-\x20]", "", url).lower().startswith(BAD_SCHEMES)


@pytest.fixture(scope="session")
def template_markup(site_dir) -> tuple[set[tuple[str, str]], set[str]]:
    """What the templates and Markdown make: (tag, attribute) pairs and the inline scripts of the real site."""
    pairs: set[tuple[str, str]] = set(MARKDOWN_MARKUP)
    inline: set[str] = set()
    for page in pages(tree(site_dir)).values():
        for tag, attrs in page.tags:
            pairs.add((tag, ""))
            pairs.update((tag, name) for name in attrs)
        inline.update(text for src, text in page.scripts if src is None)
    assert not FORBIDDEN_TAGS & {tag for tag, _ in pairs}
    return pairs, inline


def assert_no_markup_from_content(site: dict[str, bytes], template_markup) -> None:
    pairs, inline_scripts = template_markup
    for path, page in pages(site).items():
        for tag, attrs in page.tags:
            assert tag not in FORBIDDEN_TAGS, (path, tag, attrs)
            assert not [name for name in attrs if name.startswith("on")], (path, tag, attrs)
            assert (tag, "") in pairs and all((tag, name) in pairs for name in attrs), (path, tag, attrs)
            for name in URL_ATTRIBUTES & attrs.keys():
                assert link_is_safe(attrs[name] or ""), (path, tag, attrs)
            if tag == "meta" and "http-equiv" in attrs:  # name pages redirect to their code
                assert link_is_safe((attrs.get("content") or "").partition("url=")[2]), (path, attrs)
        own = [STYLESHEET + COMPARE_STYLESHEET] if re.match(r"compare/[^/]+/", path) else [STYLESHEET]
        assert page.styles == own, (path, "the one inline stylesheet is the site's own")
        for src, text in page.scripts:
            if src is None:
                assert text in inline_scripts, (path, text)
            else:
                assert re.fullmatch(r"(/|(\.\./)*)assets/site\.[0-9a-f]+\.js", src), (path, src)


# --------------------------------------------------------------------------- injection


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    out = tmp_path_factory.mktemp("hostile") / "site"
    result = run_build("build", "--content", str(HOSTILE), "--out", str(out))
    assert result.returncode == 0, result.stderr
    return out, tree(out)


@pytest.fixture(scope="module")
def hostile_text() -> dict[str, str]:
    """The hostile strings exactly as the YAML means them."""
    site = yaml.safe_load((HOSTILE / "site.yaml").read_text())
    source = yaml.safe_load((HOSTILE / "sources" / "hostile.yaml").read_text())
    meaning = yaml.safe_load((HOSTILE / "registry.yaml").read_text())[2]
    return {
        "site title": site["title"], "site description": site["description"], "source title": source["title"],
        "name": source["entries"][1]["name"], "phrase": meaning["phrase"], "aka": meaning["also_known_as"][0]["name"],
    }


def test_hostile_content_adds_no_element_attribute_or_link(hostile_site, template_markup):
    assert_no_markup_from_content(hostile_site[1], template_markup)


def test_hostile_markup_is_shown_as_text(hostile_site):
    site = pages(hostile_site[1])
    source_text = "".join(site["sources/hostile/index.html"].text)
    for shown in ("<script>alert(", "<img src=x onerror=alert(", "[js](javascript:alert(1))",
                  "[vb](vbscript:msgbox(1))", "[data](data:text/html;base64,", "<meta http-equiv=refresh",
                  "<b onmouseover=alert("):
        assert shown in source_text, shown
    assert "<svg/onload=alert(" in "".join(site["599/index.html"].text)
    assert "<script>alert(" in "".join(site["notes/index.html"].text)


def test_names_survive_exactly_in_titles_and_attributes(hostile_site, hostile_text):
    site = pages(hostile_site[1])
    source_title = site["sources/hostile/index.html"].title
    assert hostile_text["source title"] in source_title and hostile_text["site title"] in source_title
    assert hostile_text["phrase"] in site["599/index.html"].title
    assert any(hostile_text["name"] in page.title for page in site.values())
    home_meta = {attrs.get("name"): attrs.get("content") for tag, attrs in site["index.html"].tags if tag == "meta"}
    assert home_meta["description"] == hostile_text["site description"]
    attribute_values = {value for page in site.values() for _, attrs in page.tags for value in attrs.values()}
    assert hostile_text["name"] in attribute_values and hostile_text["phrase"] in attribute_values


def test_names_survive_exactly_in_the_json_api(hostile_site, hostile_text):
    out = hostile_site[0]
    not_found = json.loads((out / "api" / "404.json").read_text(encoding="utf-8"))
    assert hostile_text["name"] in [quote["name"] for quote in not_found["sources"]]
    assert hostile_text["name"] in [alias["name"] for alias in not_found["aliases"]]
    unofficial = json.loads((out / "api" / "599.json").read_text(encoding="utf-8"))
    assert unofficial["phrase"] == hostile_text["phrase"]
    assert hostile_text["aka"] in [alias["name"] for alias in unofficial["aliases"]]


def test_names_survive_exactly_in_the_search_index(hostile_site, hostile_text):
    script = (hostile_site[0] / "search-index.js").read_bytes()
    assert "\u2028".encode() not in script  # a raw line separator would end a string in old engines
    text = script.decode("ascii").strip()
    assert text.startswith("window.SEARCH_INDEX=") and text.endswith(";")
    listed = json.loads(text.removeprefix("window.SEARCH_INDEX=")[:-1])
    records = {record["c"]: record for record in listed if "c" in record}  # codes; the rest are pages
    assert hostile_text["source title"] in [record["m"] for record in listed if record.get("x") == "Source"]
    assert hostile_text["name"] in records[404]["a"]
    assert records[599]["p"] == hostile_text["phrase"]
    assert hostile_text["aka"] in records[599]["a"]


def test_output_stays_inside_the_output_folder(hostile_site):
    out = hostile_site[0]
    assert [p.name for p in out.parent.iterdir()] == ["site"]
    for file in out.rglob("*"):
        assert file.resolve().is_relative_to(out.resolve()), file


def test_dot_dot_can_never_be_a_source_id(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(VALID, content)
    sample = (content / "sources" / "sample.yaml").read_bytes()
    for name in ("...yaml", "a..b.yaml", ".hidden.yaml"):
        (content / "sources" / name).write_bytes(sample)
    loaded = load(content)
    assert [source_id for source_id, _ in loaded.sources] == ["sample"]
    assert [p.path.rsplit("/", 1)[-1] for p in loaded.problems] == ["a..b.yaml"]
    for unsafe in ("..", "../x", "a/b", ".", "a..b", "A", "a b", ""):
        assert not SAFE_ID.match(unsafe), unsafe


# --------------------------------------------------------------------------- nothing lost

BASE_A, BASE_B = "https://a.example/", "https://b.example/"


@pytest.fixture(scope="module")
def references(tmp_path_factory) -> dict[str, tuple[dict[str, bytes], float]]:
    """The real content built for two base URLs (so the two sites differ): tree and seconds taken."""
    built = {}
    for base in (BASE_A, BASE_B):
        out = tmp_path_factory.mktemp("reference") / "site"
        started = time.monotonic()
        result = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--content", str(ROOT / "content"),
                                 "--out", str(out), "--base-url", base], cwd=ROOT, capture_output=True, text=True,
                                env={**os.environ, "PYTHONHASHSEED": "0"}, timeout=120)
        assert result.returncode == 0, result.stderr
        built[base] = (tree(out), time.monotonic() - started)
    assert built[BASE_A][0] != built[BASE_B][0]
    return built


def start_build(out: Path, base: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build", "--content", str(ROOT / "content"),
                             "--out", str(out), "--base-url", base], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def test_killed_builds_leave_the_previous_complete_site(references, tmp_path):
    out = write_tree(references[BASE_A][0], tmp_path / "site")
    current = BASE_A
    longest = max(seconds for _, seconds in references.values())
    rng = random.Random(7)
    for run in range(15):
        target = BASE_B if current == BASE_A else BASE_A
        process = start_build(out, target)
        time.sleep(rng.uniform(0, longest))  # anywhere from start-up to the final swap
        process.send_signal(signal.SIGKILL)
        process.communicate(timeout=60)
        site = tree(out)
        assert site in (references[current][0], references[target][0]), f"run {run}: a mix of two builds"
        current = target if site == references[target][0] else current
    finished = start_build(out, BASE_A)
    _, stderr = finished.communicate(timeout=120)
    assert finished.returncode == 0, stderr
    assert tree(out) == references[BASE_A][0]
    assert [p.name for p in tmp_path.iterdir()] == ["site"]  # killed builds' leftovers swept


def write_tree(files: dict[str, bytes], folder: Path) -> Path:
    """Write files by relative path into `folder`: a complete site to start from."""
    for path, data in files.items():
        (folder / path).parent.mkdir(parents=True, exist_ok=True)
        (folder / path).write_bytes(data)
    return folder


def test_two_builds_at_once_both_succeed_and_the_site_is_complete(references, tmp_path):
    out = tmp_path / "site"
    first, second = start_build(out, BASE_A), start_build(out, BASE_A)
    for process in (first, second):
        _, stderr = process.communicate(timeout=120)
        assert process.returncode == 0, stderr
    assert tree(out) == references[BASE_A][0]
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_a_full_disk_leaves_the_previous_site_and_no_partial_copy(tmp_path, monkeypatch, capsys):
    out = tmp_path / "site"
    assert main(["build", "--content", str(VALID), "--out", str(out)]) == 0
    previous = tree(out)
    content = tmp_path / "content"
    shutil.copytree(VALID, content)
    (content / "site.yaml").write_text("title: Changed Title\ndescription: Another build.\n")
    disk_full_after(5, monkeypatch)
    assert main(["build", "--content", str(content), "--out", str(out)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    monkeypatch.undo()
    assert tree(out) == previous
    assert sorted(p.name for p in tmp_path.iterdir()) == ["content", "site"]


def test_output_path_that_is_a_file_is_refused(tmp_path):
    out = tmp_path / "site"
    out.write_bytes(b"not a folder")
    result = run_build("build", "--content", str(VALID), "--out", str(out))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{out}:1:1: error: output path exists and is not a folder")
    assert out.read_bytes() == b"not a folder"


def test_missing_parent_folders_of_the_output_are_made(tmp_path, capsys):
    out = tmp_path / "new" / "deeper" / "site"
    assert main(["build", "--content", str(VALID), "--out", str(out)]) == 0
    assert (out / "index.html").is_file()


@pytest.mark.parametrize("inside", ["content", "content/site"])
def test_output_folder_in_content_is_refused(tmp_path, inside):
    content = tmp_path / "content"
    shutil.copytree(VALID, content)
    before = tree(content)
    result = run_build("build", "--content", str(content), "--out", str(tmp_path / inside))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{tmp_path / inside}:1:1: error: output folder must not ")
    assert tree(content) == before


def unwritable_folder(tmp_path: Path) -> Path:
    """A folder this process cannot create anything in: chmod 555 for a user; for root, which ignores
    permissions, sysfs (which refuses new entries to everyone)."""
    if os.geteuid() == 0:
        return Path("/sys")
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    return locked


def test_output_folder_in_an_unwritable_folder_is_refused(tmp_path):
    out = unwritable_folder(tmp_path) / "http-status-site"
    try:
        result = run_build("build", "--content", str(VALID), "--out", str(out))
    finally:
        if os.geteuid() != 0:
            out.parent.chmod(0o755)  # so pytest can clean tmp_path up
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith(f"{out}:")
    assert re.search(r"error: (output folder's parent is not writable|cannot write the site: )", result.stderr)
    assert not out.exists()


@pytest.mark.parametrize(("hash_seed", "cwd"), [("1", Path("/")), ("random", None)])
def test_output_is_the_same_under_any_hash_seed_and_working_folder(references, tmp_path, hash_seed, cwd):
    out = tmp_path / "site"
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--content", str(ROOT / "content"),
                             "--out", str(out), "--base-url", BASE_A], cwd=cwd or tmp_path, capture_output=True,
                            text=True, env={**os.environ, "PYTHONHASHSEED": hash_seed}, timeout=120)
    assert result.returncode == 0, result.stderr
    assert tree(out) == references[BASE_A][0]  # built with PYTHONHASHSEED=0 from the project folder


# --------------------------------------------------------------------------- random documents

HOSTILE_BITS = ["<script>alert(1)</script>", "</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))",
                "<a href='vbscript:x'>", "\"", "'", "&amp;", "\u2028", "</title>", "{{ 7*7 }}", "{% raw %}", "../",
                "\t", ": ", "- ", "#", "*a", "&a", "!!python/object:os.system", "|", "\\", "\x00", "\ufeff"]
text = st.lists(st.one_of(st.sampled_from(HOSTILE_BITS), st.text(max_size=6)), max_size=4).map("".join)
good_text = text.filter(lambda value: value.strip() != "")
any_code = st.one_of(st.integers(-5, 700), st.sampled_from(["404", 404.0, True, None, "4O4", [404]]))
good_entry = st.fixed_dictionaries({"code": st.integers(100, 599), "name": good_text, "description": good_text})
any_entry = st.fixed_dictionaries({}, optional={"code": any_code, "name": text, "description": text,
                                                "descripton": text})
document = st.fixed_dictionaries(
    {"title": st.one_of(good_text, text), "entries": st.lists(st.one_of(good_entry, good_entry, any_entry), max_size=4)},
    optional={"note": text, "url": st.sampled_from(["https://example.com/x", "javascript:alert(1)", "ftp://x"]),
              "categories": st.dictionaries(st.sampled_from(["1xx", "4xx", "6xx"]),
                                            st.fixed_dictionaries({"heading": good_text}, optional={"description": text}),
                                            max_size=2)},
)
# None (two times in three) keeps the dumped YAML as it is; otherwise cut it or insert bytes at a position.
damage = st.one_of(st.none(), st.none(), st.tuples(st.integers(0, 10_000), st.sampled_from(
    [b"", b"\t", b":", b"[", b"{", b"&a ", b"*a ", b'"', b"\xff", b"!!python/object:os.system ", b"- ", b"\n  x: y"])))


def source_bytes(doc: dict, change: tuple[int, bytes] | None) -> bytes:
    data = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False).encode("utf-8")
    if change is None:
        return data
    at = change[0] % (len(data) + 1)
    return data[:at] if change[1] == b"" else data[:at] + change[1] + data[at:]


@dataclass
class RandomBuilds:
    """A content folder and site that each example rebuilds in turn; `site` is the latest good build."""

    content: Path
    out: Path
    site: dict[str, bytes] = field(repr=False)
    built: int = 0
    refused: int = 0


@pytest.fixture(scope="module")
def random_build(tmp_path_factory) -> RandomBuilds:
    folder = tmp_path_factory.mktemp("random")
    content, out = folder / "content", folder / "site"
    shutil.copytree(VALID, content)
    assert main(["build", "--content", str(content), "--out", str(out)]) == 0
    return RandomBuilds(content, out, tree(out))


@settings(max_examples=100, deadline=None, derandomize=True, database=None)
@given(doc=document, change=damage)
def test_random_sources_build_escaped_or_fail_with_located_problems(doc, change, random_build, template_markup):
    content, out = random_build.content, random_build.out
    (content / "sources" / "sample.yaml").write_bytes(source_bytes(doc, change))
    stderr = io.StringIO()
    with contextlib.redirect_stderr(stderr), contextlib.redirect_stdout(io.StringIO()):
        status = main(["build", "--content", str(content), "--out", str(out)])
    lines = stderr.getvalue().splitlines()
    problems = [line for line in lines if PROBLEM_LINE.match(line)]
    assert all(PROBLEM_LINE.match(line).group("path").startswith(str(content)) for line in problems), lines
    if status == 0:
        random_build.site = tree(out)  # first, so a failed check below does not spoil later examples
        random_build.built += 1
        assert random_build.site == {**build_outputs(content, Options(HOSTED))[0], MARKER: MARKER_TEXT}
        assert_no_markup_from_content(random_build.site, template_markup)
    else:
        assert status == 1
        assert any(": error: " in line for line in problems), lines
        assert all(PROBLEM_LINE.match(line) or SUMMARY_LINE.match(line) for line in lines), lines
        random_build.refused += 1
        assert tree(out) == random_build.site


def test_random_documents_both_built_and_refused(random_build):
    # Runs after the property test: proves its examples covered both outcomes.
    assert random_build.built >= 10 and random_build.refused >= 10, random_build
