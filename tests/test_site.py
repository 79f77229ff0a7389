"""The built site (issue 3): pages, anchors, links, Markdown, and a deterministic, atomic build."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Iterator

import pytest

from httpref.load import load
from httpref.merge import name_key
from httpref.render import Markdown
from httpref.validate import Content, validate
from conftest import ROOT, copy_generator
from linkcheck import broken_links

CLASS_ANCHORS = ("1xx-informational", "2xx-success", "3xx-redirection", "4xx-client-errors", "5xx-server-errors")
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}


# --------------------------------------------------------------------------- a small HTML tree


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def iter(self) -> Iterator[Element]:
        """This element and every element inside it, in document order."""
        yield self
        for child in self.children:
            if isinstance(child, Element):
                yield from child.iter()

    def find_all(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> list[Element]:
        return [e for e in self.iter()
                if (tag is None or e.tag == tag) and (cls is None or cls in e.attrs.get("class", "").split())
                and all(e.attrs.get(name) == value for name, value in attrs.items())]

    def find(self, tag: str | None = None, cls: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, cls, **attrs)
        assert found, f"no <{tag or '*'}> with class={cls} {attrs}"
        return found[0]

    def hrefs(self) -> list[str]:
        return [a.attrs["href"] for a in self.find_all("a") if "href" in a.attrs]


class _TreeBuilder(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {})
        self.open = [self.root]

    def handle_starttag(self, tag, attrs):
        element = Element(tag, {name: value or "" for name, value in attrs})
        self.open[-1].children.append(element)
        if tag not in VOID_TAGS:
            self.open.append(element)

    def handle_startendtag(self, tag, attrs):
        self.open[-1].children.append(Element(tag, {name: value or "" for name, value in attrs}))

    def handle_endtag(self, tag):
        for depth in range(len(self.open) - 1, 0, -1):
            if self.open[depth].tag == tag:
                del self.open[depth:]
                return

    def handle_data(self, data):
        self.open[-1].children.append(data)


def parse_html(html: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(html)
    builder.close()
    return builder.root


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="module")
def pages(site_dir) -> dict[str, Element]:
    """Every HTML page of the real build, by path inside the site."""
    return {file.relative_to(site_dir).as_posix(): parse_html(file.read_text(encoding="utf-8"))
            for file in sorted(site_dir.rglob("*.html"))}


@pytest.fixture(scope="module")
def content() -> Content:
    return validate(load(ROOT / "content"))


def run_build_py(build_py: Path, *args: str, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(build_py), *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=120)


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path; what "byte-identical" compares."""
    return {f.relative_to(folder).as_posix(): f.read_bytes() for f in sorted(folder.rglob("*")) if f.is_file()}


def tree_differences(expected: dict[str, bytes], actual: dict[str, bytes]) -> list[str]:
    return ([f"missing: {p}" for p in sorted(expected.keys() - actual.keys())]
            + [f"extra: {p}" for p in sorted(actual.keys() - expected.keys())]
            + [f"differs: {p}" for p in sorted(expected.keys() & actual.keys()) if expected[p] != actual[p]])


def words(text: str) -> list[str]:
    return re.findall(r"\w+", text)


# --------------------------------------------------------------------------- pages


def test_the_site_has_a_page_per_code_class_and_source_plus_home_and_404(site_dir, reference):
    code_pages = sorted(int(d.name) for d in site_dir.iterdir() if d.name.isdigit() and (d / "index.html").is_file())
    assert code_pages == [code.number for code in reference.codes]
    assert len(code_pages) == 86
    assert sorted(d.parent.name for d in site_dir.glob("[1-5]xx/index.html")) == ["1xx", "2xx", "3xx", "4xx", "5xx"]
    source_pages = sorted(p.parent.name for p in (site_dir / "sources").glob("*/index.html"))
    assert source_pages == ["api-design", "aws-alb", "cat-codes", "cloudflare-5xx", "code-table", "compsci-note", "laravel", "nginx",
                            "pantheon", "response-codes", "resumable-upload-draft"]
    assert (site_dir / "index.html").is_file()
    assert (site_dir / "404.html").is_file()


def test_every_listed_code_quotes_every_source_that_lists_it(pages, content):
    listed_by: dict[int, list] = {}
    for source in content.sources:
        for entry in source.entries:
            listed_by.setdefault(entry.code, []).append((source.id, entry))
    for number, listings in listed_by.items():
        page = pages[f"{number}/index.html"]
        shown_name = page.find("h1", id="top").find(cls="code-phrase").text()
        quotes = page.find_all("figure", cls="quote")
        anchored = {element.attrs["id"]: quote for quote in quotes for element in quote.iter() if "id" in element.attrs}
        assert sorted(anchored) == sorted(f"source-{source_id}" for source_id, _ in listings), number
        for source_id, entry in listings:
            quote = anchored[f"source-{source_id}"]  # the quotation that speaks for it, grouped or its own
            assert f"../sources/{source_id}/" in quote.find("figcaption").hrefs()
            # Its name is shown only where it is not the page's name for the code.
            names_shown = [name.text() for name in quote.find_all(cls="quote-name")]
            assert (f"calls it “{entry.name}”" in names_shown) == (name_key(entry.name) != name_key(shown_name))
            # The quotation, or its "exact words" under it, is the source's words: only Markdown and typography
            # applied.
            description = words(re.sub(r"\]\([^)]*\)", "]", entry.description))
            # An owner's words that are the whole definition are printed once, as the definition at the top.
            printed = (quote.find_all("blockquote") or [page.find("figure", cls="definition").find("blockquote")])[0]
            own = [words(printed.text())] + [words(dd.text()) for dd in quote.find_all("dd")]
            assert description in own, (number, source_id)


def alias_rows(page: Element) -> dict[str, tuple[list[str], str]]:
    """Alias name -> (source pages linked, full text of who uses it)."""
    return {li.find(cls="alias-name").text(): (li.find(cls="alias-users").hrefs(), li.find(cls="alias-users").text())
            for li in page.find("ul", cls="aliases").find_all("li")}


def test_413_shows_content_too_large_and_both_aliases_with_their_users(pages):
    page = pages["413/index.html"]
    assert page.find("h1", id="top").find(cls="code-phrase").text() == "Content Too Large"
    rows = alias_rows(page)
    assert rows.keys() == {"Payload Too Large", "Request Entity Too Large"}
    payload_links, payload_text = rows["Payload Too Large"]
    entity_links, entity_text = rows["Request Entity Too Large"]
    assert payload_links == ["../sources/code-table/", "../sources/compsci-note/"]
    assert "RFC 7231" in payload_text
    assert entity_links == ["../sources/api-design/", "../sources/cat-codes/"]
    assert "RFC 2616" in entity_text


def test_306_shows_unused_and_switch_proxy_each_attributed(pages):
    page = pages["306/index.html"]
    assert page.find("h1", id="top").find(cls="code-phrase").text() == "Switch Proxy"
    assert page.find(cls="registry-phrase").text() == "“(Unused)” in the IANA registry; reserved"
    assert page.find("figure", id="source-cat-codes").find(cls="quote-name").text() == "calls it “(Unused)”"
    assert page.find("figure", id="source-api-design").find_all(cls="quote-name") == []  # the page's own name
    assert alias_rows(page)["Switch Proxy"][0] == ["../sources/api-design/"]
    disagreement = page.find("p", cls="disagree")
    assert "“(Unused)”" in disagreement.text() and "“Switch Proxy”" in disagreement.text()


def test_530_shows_both_meanings(pages):
    page = pages["530/index.html"]
    facts = page.find_all("section", cls="facts")
    assert [f.find("h2").text().removesuffix(" ¶") for f in facts] == ["530 Error 530",
                                                                       "530 Site Frozen"]
    assert ["Cloudflare" in facts[0].text(), "Pantheon" in facts[1].text()] == [True, True]


def test_a_code_no_source_lists_still_has_a_page_with_registry_facts(pages):
    page = pages["527/index.html"]
    assert page.find("h1", id="top").find(cls="code-phrase").text() == "Railgun Listener to Origin Error"
    assert "Cloudflare" in page.find("p", cls="status-line").text()
    assert page.find_all("figure", cls="quote") == []


def test_home_has_the_reference_notes_class_anchors_and_code_rows(pages):
    home = pages["index.html"]
    ids = {e.attrs["id"] for e in home.iter() if "id" in e.attrs}
    contents_links = home.find("nav", cls="contents").hrefs()
    for anchor in CLASS_ANCHORS:
        assert anchor in ids
        assert f"#{anchor}" in contents_links
    row = home.find(id="404")
    assert "404/" in row.hrefs()
    assert "Not Found" in row.text()


def test_the_class_page_has_a_row_per_code_linking_to_its_page(pages):
    row = pages["4xx/index.html"].find(id="404")
    assert "../404/" in row.hrefs()


def test_every_heading_has_an_id_and_a_permalink(pages):
    missing = []
    for path, page in pages.items():
        for heading in (e for e in page.iter() if e.tag in HEADINGS):
            heading_id = heading.attrs.get("id")
            anchors = heading.find_all("a", cls="header-anchor", href=f"#{heading_id}")
            if not heading_id or not anchors:
                missing.append(f"{path}: <{heading.tag}> {heading.text().strip()!r}")
    assert missing == []


def test_a_heading_of_any_level_in_a_description_gets_an_id_and_a_permalink():
    # Sources may hold Markdown headings; the "every heading is linkable" rule must hold for them too.
    rendered = parse_html(str(Markdown().block("# Big\n\n###### Small\n\nText.")))
    headings = [e for e in rendered.iter() if e.tag in HEADINGS]
    assert [(h.tag, h.attrs.get("id")) for h in headings] == [("h1", "big"), ("h6", "small")]
    for heading in headings:
        assert heading.find_all("a", cls="header-anchor", href=f"#{heading.attrs['id']}")


def test_ids_are_unique_on_every_page(pages):
    repeated = []
    for path, page in pages.items():
        ids = [e.attrs["id"] for e in page.iter() if "id" in e.attrs]
        repeated += [f"{path}: #{i}" for i in sorted(set(ids)) if ids.count(i) > 1]
    assert repeated == []


def test_every_internal_link_and_fragment_resolves(site_dir):
    assert broken_links(site_dir) == []


def test_the_link_checker_reports_missing_files_and_fragments(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "index.html").write_text('<h1 id="top">A</h1>\n<a href="../#there">home</a>')
    (tmp_path / "index.html").write_text(
        '<p id="there"><a href="a/">ok</a> <a href="a/#top">ok</a> <a href="https://example.org/x">external</a>\n'
        '<a href="b/">no page</a> <a href="a/#nowhere">no id</a>\n<img src="/a.png"> <a href="../up/">out</a>')
    assert broken_links(tmp_path) == [
        "index.html:2: b/: no file b/index.html",
        "index.html:2: a/#nowhere: no id 'nowhere' in a/index.html",
        "index.html:3: /a.png: no file a.png",
        "index.html:3: ../up/: leaves the site folder",
    ]


def test_markdown_in_descriptions_renders_code_emphasis_paragraphs_and_quotes(pages):
    quote = pages["401/index.html"].find("figure", id="source-compsci-note").find("blockquote")
    assert [p.text()[:12] for p in quote.find_all("p")] == ["Similar to 4", "Note: Some s"]
    assert [c.text() for c in quote.find_all("code")] == ["403 Forbidden", "401 semantically", "HTTP 401"]
    assert [s.text() for s in quote.find_all("strong")] == ["Note"]
    assert "“unauthenticated”" in quote.text()


def test_markdown_pages_render_lists_links_and_headings(pages):
    about = pages["about/index.html"].find("article")
    assert len(about.find("ul").find_all("li")) == 8  # the sources by kind: 2 kinds, 6 owners' documents nested
    assert "../#sources" in about.hrefs() and "../compare/" in about.hrefs()
    assert [e.text() for e in about.find_all("em")] == ["errata", "For developers", "The specification’s words",
                                                         "In code"]
    assert about.find("h2", id="how-a-page-is-merged")


# --------------------------------------------------------------------------- the build as a whole


def test_two_builds_are_byte_identical_whatever_the_hash_seed_and_folder(site_dir, tmp_path):
    env = {**os.environ, "PYTHONHASHSEED": "4242"}
    out = tmp_path / "again"
    result = run_build_py(ROOT / "build.py", "build", "--content", str(ROOT / "content"), "--out", str(out),
                          cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    differences = tree_differences(tree(site_dir), tree(out))
    assert not differences, f"{len(differences)} files differ:\n" + "\n".join(differences[:40])


def test_the_committed_site_is_a_fresh_build(site_dir):
    differences = tree_differences(tree(site_dir), tree(ROOT / "site"))
    assert not differences, (f"site/ is not what `python build.py` makes now; {len(differences)} files "
                             "(rebuild and commit site/):\n" + "\n".join(differences[:40]))


@pytest.fixture
def project(tmp_path) -> Path:
    """A copy of the generator and content to break on purpose, built once into its own site/."""
    copy = tmp_path / "project"
    copy_generator(copy, "templates", "static", "content")
    result = run_build_py(copy / "build.py", "build", cwd=copy)
    assert result.returncode == 0, result.stderr
    return copy


@pytest.mark.parametrize("break_it", [
    lambda p: (p / "templates" / "code.html").write_text("{% extends 'base.html' %}{% block main %}"
                                                         "{{ code.no_such_field }}{% endblock %}"),
    lambda p: (p / "content" / "sources" / "cat-codes.yaml").write_text(
        (p / "content" / "sources" / "cat-codes.yaml").read_text().replace("description:", "descripton:", 1)),
], ids=["broken template", "broken content"])
def test_a_failed_build_leaves_the_previous_site_as_it_was(project, break_it):
    before = tree(project / "site")
    break_it(project)
    result = run_build_py(project / "build.py", "build", cwd=project)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert tree_differences(before, tree(project / "site")) == []
    assert [p.name for p in project.iterdir() if p.name.startswith(".httpref-tmp-")] == []


def test_a_code_removed_from_content_loses_its_page(project):
    registry = project / "content" / "registry.yaml"
    entries = re.split(r"(?m)^(?=- code: )", registry.read_text())
    registry.write_text("".join(e for e in entries if not e.startswith("- code: 527\n")))
    result = run_build_py(project / "build.py", "build", cwd=project)
    assert result.returncode == 0, result.stderr
    site = project / "site"
    assert not (site / "527").exists()
    assert (site / "526" / "index.html").is_file() and (site / "530" / "index.html").is_file()
    assert not parse_html((site / "index.html").read_text()).find_all(id="527")
