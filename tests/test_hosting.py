"""The hosted site: base URL, canonical links, sitemap, page metadata, hashed assets, serving at
a sub-path, the URL contract, name URLs, the JSON API and the "link to this" box."""
from __future__ import annotations

import functools
import hashlib
import http.server
import json
import re
import shutil
import threading
import urllib.error
import urllib.request
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest

from conftest import ROOT, run_build
from linkcheck import parse_links

from httpref.merge import Reference, slugify
from httpref.pages import Options
from httpref.render import Renderer, compact_css

BASE_URL = "https://example.org/http/"
PREFIX = "/http/"  # the sub-path the based build is served at, as BASE_URL says
UNLISTED = "unlisted"  # a page added to a copy of the content with `sitemap: false`
JSON_KEYS = ["code", "phrase", "name", "class", "status", "url", "definition", "meanings", "headers", "rules",
             "cacheable", "redirect", "no_content", "constants", "aliases", "sources"]


class Head(HTMLParser):
    """A page's metadata, and the text of every element with an id."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.lang = None
        self.title = ""
        self.meta: dict[str, list[str]] = {}  # by name, property or http-equiv
        self.links: dict[str, list[str]] = {}  # href by rel
        self.search_index = None
        self.text_by_id: dict[str, str] = {}
        self._open: list[tuple[str, str | None]] = []  # (tag, id) of elements whose text is collected

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "html":
            self.lang = values.get("lang")
        elif tag == "meta":
            key = values.get("name") or values.get("property") or values.get("http-equiv")
            self.meta.setdefault(key, []).append(values.get("content"))
        elif tag == "link":
            self.links.setdefault(values.get("rel"), []).append(values.get("href"))
        if values.get("data-index"):
            self.search_index = values["data-index"]
        if tag in ("title", "code"):
            self._open.append((tag, values.get("id")))
            if values.get("id"):
                self.text_by_id[values["id"]] = ""

    def handle_endtag(self, tag):
        if self._open and self._open[-1][0] == tag:
            self._open.pop()

    def handle_data(self, data):
        for tag, element_id in self._open:
            if tag == "title":
                self.title += data
            elif element_id:
                self.text_by_id[element_id] += data


def read_head(file: Path) -> Head:
    head = Head()
    head.feed(file.read_text(encoding="utf-8"))
    return head


def html_pages(site: Path) -> dict[str, Head]:
    return {f.relative_to(site).as_posix(): read_head(f) for f in sorted(site.rglob("*.html"))}


def target_of(path: str) -> str:
    return path.removesuffix("index.html")


# --------------------------------------------------------------------------- builds


@pytest.fixture(scope="module")
def content_copy(tmp_path_factory) -> Path:
    """The real content plus one page whose front matter says `sitemap: false`."""
    content = tmp_path_factory.mktemp("content") / "content"
    shutil.copytree(ROOT / "content", content)
    (content / "pages" / f"{UNLISTED}.md").write_text(
        "---\ntitle: Not for search engines\ndescription: A page kept out of the sitemap.\nsitemap: false\n---\n\n"
        "Reachable, but not listed.\n", encoding="utf-8")
    return content


def build_into(out: Path, *args: str) -> str:
    result = run_build("build", "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    return result.stderr


@pytest.fixture(scope="module")
def based_site(content_copy, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("based") / "site"
    build_into(out, "--content", str(content_copy), "--base-url", BASE_URL)
    return out


@pytest.fixture(scope="module")
def based_pages(based_site) -> dict[str, Head]:
    return html_pages(based_site)


@pytest.fixture(scope="module")
def plain_build(tmp_path_factory) -> tuple[Path, str]:
    """The real content built with no base URL anywhere: (folder, what the build said on stderr)."""
    out = tmp_path_factory.mktemp("plain") / "site"
    return out, build_into(out, "--content", str(ROOT / "content"))


# --------------------------------------------------------------------------- base URL, canonical, sitemap


def expected_listed_targets(reference: Reference) -> set[str]:
    """Every page a search engine should know: home, codes, classes, sources, comparisons, libraries, listed pages."""
    return ({""} | {f"{c.number}/" for c in reference.codes} | {f"{c.key}/" for c in reference.classes}
            | {f"sources/{s.source.id}/" for s in reference.sources} | {"libraries/"}
            | {"compare/"} | {f"compare/{c.ref.slug}/" for c in reference.comparisons}
            | {f"{p.slug}/" for p in reference.pages if p.sitemap})


def test_sitemap_lists_every_page_but_unlisted_ones(based_site, reference):
    tree = ElementTree.parse(based_site / "sitemap.xml")
    namespace = {"s": "http://www.sitemaps.org/schemas/sitemap/0.9"}
    locations = [loc.text for loc in tree.getroot().findall("s:url/s:loc", namespace)]
    assert len(locations) == len(set(locations))
    assert set(locations) == {BASE_URL + target for target in expected_listed_targets(reference)}
    assert (based_site / UNLISTED / "index.html").is_file()
    assert BASE_URL + f"{UNLISTED}/" not in locations


def test_every_listed_page_has_its_canonical_link_and_no_other_page_does(based_site, based_pages):
    listed = {loc.text for loc in ElementTree.parse(based_site / "sitemap.xml").getroot().iter()
              if loc.tag.endswith("loc")}
    for path, head in based_pages.items():
        url = BASE_URL + target_of(path)
        if url in listed:
            assert head.links.get("canonical") == [url], path
            assert head.meta.get("og:url") == [url], path
        elif head.meta.get("refresh"):  # a name URL: canonical is the code's page, checked below
            assert len(head.links["canonical"]) == 1, path
        else:  # unlisted page, 404.html and pages linking codes that share a name
            assert "canonical" not in head.links, path


def test_robots_txt_points_at_the_sitemap(based_site):
    lines = (based_site / "robots.txt").read_text().splitlines()
    assert f"Sitemap: {BASE_URL}sitemap.xml" in lines
    assert "User-agent: *" in lines
    assert "Disallow: /" not in lines


def test_without_base_url_no_sitemap_robots_or_canonical_and_one_note(plain_build):
    site, stderr = plain_build
    assert not (site / "sitemap.xml").exists()
    assert not (site / "robots.txt").exists()
    for path, head in html_pages(site).items():
        assert "og:url" not in head.meta, path
        if head.meta.get("refresh"):  # a name URL still names the code page, relative as no domain is known
            assert all(not urlsplit(url).scheme for url in head.links["canonical"]), path
        else:
            assert "canonical" not in head.links, path
    notes = [line for line in stderr.splitlines() if line.strip()]
    assert len(notes) == 1 and notes[0].startswith("note:") and "base_url" in notes[0], stderr


def test_base_url_from_site_yaml_is_used_and_the_option_overrides_it(content_copy, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(content_copy, content)
    with open(content / "site.yaml", "a", encoding="utf-8") as site_yaml:
        site_yaml.write("base_url: https://docs.example.net/codes\n")
    from_yaml = tmp_path / "from-yaml"
    assert "note:" not in build_into(from_yaml, "--content", str(content))
    assert read_head(from_yaml / "404" / "index.html").links["canonical"] == ["https://docs.example.net/codes/404/"]
    overridden = tmp_path / "overridden"
    build_into(overridden, "--content", str(content), "--base-url", BASE_URL)
    assert read_head(overridden / "404" / "index.html").links["canonical"] == [BASE_URL + "404/"]


# --------------------------------------------------------------------------- page metadata and assets


def test_every_page_has_its_own_title_description_and_open_graph(based_pages):
    titles, descriptions = {}, {}
    for path, head in based_pages.items():
        assert head.lang == "en", path
        title = head.title.strip()
        [description] = head.meta["description"]
        assert title and description, path
        assert head.meta["og:title"][0] and title.startswith(head.meta["og:title"][0]), path
        assert head.meta["og:description"] == [description], path
        assert len(head.meta["theme-color"]) >= 1 and all(re.fullmatch(r"#[0-9a-f]{6}", c)
                                                          for c in head.meta["theme-color"]), path
        assert title not in titles, f"{path} and {titles.get(title)} share the title {title!r}"
        assert description not in descriptions, f"{path} and {descriptions.get(description)} share a description"
        titles[title], descriptions[description] = path, path


def test_assets_have_content_hashed_names_and_pages_use_them(based_site, based_pages):
    assets = {f.name: f.read_bytes() for f in (based_site / "assets").iterdir()}
    # Every static file but the stylesheets, which pages carry inline.
    static = [f for f in (ROOT / "static").iterdir() if not f.name.startswith(".")]
    assert len(assets) == len([f for f in static if f.suffix != ".css"])
    for name, data in assets.items():
        stem, digest, ext = name.rsplit(".", 2)
        assert hashlib.sha256(data).hexdigest().startswith(digest) and len(digest) >= 8, name
        assert (ROOT / "static" / f"{stem}.{ext}").read_bytes() == data, name
    for path, head in based_pages.items():
        [icon] = head.links["icon"]
        assert icon.rsplit("/", 1)[1] in assets and icon.endswith(".svg"), path
        assert not head.links.get("stylesheet"), path
        # Compacted as pages carry it; a comparison page also carries its own kind's rules, and no other page does.
        css = compact_css((ROOT / "static/style.css").read_text(encoding="utf-8"))
        if path.startswith("compare/") and path != "compare/index.html":
            css += compact_css((ROOT / "static/compare.css").read_text(encoding="utf-8"))
        assert f"<style>{css}</style>" in (based_site / path).read_text(encoding="utf-8"), path


def test_assets_change_name_when_their_bytes_change(tmp_path):
    static = tmp_path / "static"
    shutil.copytree(ROOT / "static", static)
    before = Renderer(static=static).assets(Options())["style.css"][0]
    with open(static / "style.css", "a", encoding="utf-8") as css:
        css.write("\n/* changed */\n")
    after = Renderer(static=static).assets(Options())["style.css"][0]
    assert before != after and before.startswith("assets/style.") and after.startswith("assets/style.")


# --------------------------------------------------------------------------- served at a sub-path


class _SubPathHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the folder at PREFIX only, and 404.html for anything missing, as static hosts do."""

    def translate_path(self, path):
        path = urlsplit(path).path
        if not path.startswith(PREFIX):
            return str(Path(self.directory) / "no-such-file")
        return super().translate_path("/" + path[len(PREFIX):])

    def send_error(self, code, message=None, explain=None):
        if code != 404:
            return super().send_error(code, message, explain)
        body = (Path(self.directory) / "404.html").read_bytes()
        self.send_response(404)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):  # keep request logs out of the test output
        pass


@pytest.fixture(scope="module")
def served_at_sub_path(based_site) -> Iterator[str]:
    """The based build served under PREFIX by http.server; yields the site's URL."""
    handler = functools.partial(_SubPathHandler, directory=str(based_site))
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f"http://127.0.0.1:{server.server_port}{PREFIX}"
        server.shutdown()


class Fetcher:
    """GETs over HTTP, each URL once: (status, body, ids if HTML)."""

    def __init__(self):
        self.seen: dict[str, tuple[int, bytes, set[str]]] = {}

    def __call__(self, url: str) -> tuple[int, bytes, set[str]]:
        if url not in self.seen:
            try:
                with urllib.request.urlopen(url, timeout=10) as response:
                    status, body, kind = response.status, response.read(), response.headers.get_content_type()
            except urllib.error.HTTPError as exc:
                status, body, kind = exc.code, exc.read(), exc.headers.get_content_type()
            ids = set(parse_links(body.decode("utf-8")).ids) if kind == "text/html" else set()
            self.seen[url] = (status, body, ids)
        return self.seen[url]


def test_every_link_resolves_under_the_sub_path(served_at_sub_path, based_site):
    fetch = Fetcher()
    broken = []
    for file in sorted(based_site.rglob("*.html")):
        path = file.relative_to(based_site).as_posix()
        # 404.html is what the host sends for a missing URL, at any depth
        page_url = served_at_sub_path + ("no/such/page/" if path == "404.html" else target_of(path))
        status, body, _ = fetch(page_url)
        assert status == (404 if path == "404.html" else 200), page_url
        html = body.decode("utf-8")
        head, found = Head(), parse_links(html)
        head.feed(html)
        page_ids = set(found.ids)
        for link in [url for _, url in found.links] + [head.search_index]:
            url, fragment = urldefrag(urljoin(page_url, link))
            if urlsplit(url).netloc != urlsplit(served_at_sub_path).netloc:
                continue
            if not urlsplit(url).path.startswith(PREFIX):
                broken.append(f"{path}: {link} leaves {PREFIX}")
                continue
            status, _, ids = (200, None, page_ids) if url == page_url else fetch(url)
            if status != 200 or (fragment and fragment not in ids):
                broken.append(f"{path}: {link} -> {status}{' no #' + fragment if fragment else ''}")
    assert broken == []
    assert len(fetch.seen) > len(list(based_site.rglob("*.html")))


def test_pages_link_nothing_at_the_server_root_without_a_base_url(plain_build):
    site, _ = plain_build
    for file in site.rglob("*.html"):
        if file.name == "404.html":  # served at any depth, so it needs absolute links: see the test above
            continue
        for line, url in parse_links(file.read_text(encoding="utf-8")).links:
            assert not url.startswith("/"), f"{file.relative_to(site)}:{line}: {url}"


# --------------------------------------------------------------------------- the URL contract

CONTRACT = ROOT / "tests" / "url_contract.txt"


def contract_urls() -> list[str]:
    lines = CONTRACT.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith(("#", ":ref:"))]  # names: test_inventory


def test_every_url_in_the_contract_exists(served_at_sub_path):
    fetch = Fetcher()
    missing = []
    for entry in contract_urls():
        url, fragment = urldefrag(served_at_sub_path + entry.removeprefix("/"))
        status, body, ids = fetch(url)
        if status != 200:
            missing.append(f"{entry}: HTTP {status}")
        elif fragment and fragment not in ids:
            missing.append(f"{entry}: no id '{fragment}'")
        elif url.endswith(".json"):
            json.loads(body)
    assert missing == []


def test_the_contract_covers_every_code_class_and_source(reference):
    listed = set(contract_urls())
    wanted = ["/", "/#sources", "/api/codes.json", "/not-found/", "/content-too-large/", "/payload-too-large/",
              "/request-entity-too-large/"]
    for status_class in reference.classes:
        wanted += [f"/{status_class.key}/", f"/#{status_class.anchor}", f"/{status_class.key}/#{status_class.anchor}"]
    for code in reference.codes:
        wanted += [f"/{code.number}/", f"/{code.class_key}/#{code.number}", f"/#{code.number}",
                   f"/api/{code.number}.json"]
    wanted += [f"/sources/{page.source.id}/" for page in reference.sources]
    wanted += [f"/{page.slug}/" for page in reference.pages if page.sitemap]
    wanted += ["/compare/", "/#which-one"] + [f"/compare/{page.ref.slug}/" for page in reference.comparisons]
    wanted += [f"/compare/{page.ref.slug}/#{code.number}" for page in reference.comparisons for code in page.codes]
    missing = [url for url in wanted if url not in listed]
    assert missing == [], "add these lines to tests/url_contract.txt:\n" + "\n".join(missing)


# --------------------------------------------------------------------------- names as URLs


def test_issue_names_redirect_to_their_code(based_site, based_pages):
    for slug, number in [("not-found", 404), ("content-too-large", 413), ("payload-too-large", 413),
                         ("request-entity-too-large", 413)]:
        head = based_pages[f"{slug}/index.html"]
        assert head.meta["refresh"] == [f"0; url=../{number}/"], slug
        assert head.links["canonical"] == [f"{BASE_URL}{number}/"], slug
        assert f"{PREFIX}{slug}/ {PREFIX}{number}/ 301" in (based_site / "_redirects").read_text().splitlines()


def test_every_phrase_and_alias_has_a_name_url(reference, based_pages):
    routes = {route.slug: route for route in reference.names}
    for code in reference.codes:
        for name in [code.phrase, *(m.phrase for m in code.meanings), *(a.name for a in code.aliases)]:
            route = routes.get(slugify(name))
            assert route is not None, (code.number, name)
            # A name one standard code shares with vendor codes leads to the standard code (561 -> 401).
            standard = [c for c in route.codes if c.status == "standard"]
            assert code.number in [c.number for c in route.codes] or (
                code.status != "standard" and len(standard) == 1 and route.codes == tuple(standard)), (code.number, name)
            assert f"{route.slug}/index.html" in based_pages
    assert [c.number for c in routes["unauthorized"].codes] == [401]


def test_a_name_url_redirects_when_one_code_has_it_and_lists_codes_when_several_do(reference, based_site):
    shared = [route for route in reference.names if len(route.codes) > 1]
    assert shared, "the real content has a name shared by two codes ('(Unused)': 306 and 418)"
    redirects = set((based_site / "_redirects").read_text().splitlines())
    for route in reference.names:
        html = (based_site / route.slug / "index.html").read_text(encoding="utf-8")
        head = Head()
        head.feed(html)
        links = {url for _, url in parse_links(html).links}
        if len(route.codes) == 1:
            number = route.codes[0].number
            assert head.meta["refresh"] == [f"0; url=../{number}/"], route.slug
            assert head.links["canonical"] == [f"{BASE_URL}{number}/"], route.slug
            assert f"{PREFIX}{route.slug}/ {PREFIX}{number}/ 301" in redirects
        else:
            assert "refresh" not in head.meta and "canonical" not in head.links, route.slug
            assert {f"../{c.number}/" for c in route.codes} <= links, route.slug
            assert not any(line.startswith(f"{PREFIX}{route.slug}/ ") for line in redirects)
    assert len(redirects) == sum(len(route.codes) == 1 for route in reference.names)


# --------------------------------------------------------------------------- JSON


def test_json_matches_the_model_in_a_stable_key_order(based_site, reference):
    every = json.loads((based_site / "api" / "codes.json").read_text(encoding="utf-8"))
    assert [entry["code"] for entry in every] == [code.number for code in reference.codes]
    for code, entry in zip(reference.codes, every):
        assert json.loads((based_site / "api" / f"{code.number}.json").read_text(encoding="utf-8")) == entry
        assert list(entry) == JSON_KEYS
        assert (entry["name"], entry["class"], entry["status"]) == (code.phrase, code.class_key, code.status)
        assert entry["phrase"] == (code.registry_phrase or code.phrase)  # the registry's, "(Unused)" for 418
        assert entry["url"] == f"{BASE_URL}{code.number}/"
        assert entry["meanings"] == [
            {"phrase": m.phrase, "status": m.status, "origin": m.origin, "spec": m.spec, "section": m.section,
             "spec_url": m.url, "registered": m.registered} for m in code.meanings]
        assert all(list(m) == ["phrase", "status", "origin", "spec", "section", "spec_url", "registered"]
                   for m in entry["meanings"])
        assert [(a["name"], a["sources"]) for a in entry["aliases"]] == [
            (a.name, [s.id for s in a.sources]) for a in code.aliases]
        assert entry["sources"] == [{"id": q.source.id, "name": q.name, "description": q.description, "url": q.original}
                                    for q in code.quotes]


def test_json_page_url_without_base_url_resolves_from_the_json_file(plain_build, reference):
    site, _ = plain_build
    for code in reference.codes:
        entry = json.loads((site / "api" / f"{code.number}.json").read_text(encoding="utf-8"))
        served_at = f"https://any.example{PREFIX}"
        assert urljoin(served_at + f"api/{code.number}.json", entry["url"]) == f"{served_at}{code.number}/"


def test_the_same_content_builds_the_same_bytes(based_site, content_copy, tmp_path):
    again = tmp_path / "again"
    build_into(again, "--content", str(content_copy), "--base-url", BASE_URL)
    files = sorted(f.relative_to(based_site) for f in based_site.rglob("*") if f.is_file())
    assert files == sorted(f.relative_to(again) for f in again.rglob("*") if f.is_file())
    assert [f for f in files if (based_site / f).read_bytes() != (again / f).read_bytes()] == []


# --------------------------------------------------------------------------- link to this


def test_each_code_page_offers_its_url_and_a_markdown_link(based_pages, reference):
    for code in reference.codes:
        head = based_pages[f"{code.number}/index.html"]
        url = f"{BASE_URL}{code.number}/"
        assert head.text_by_id["permalink"] == url
        assert head.text_by_id["markdown-link"] == f"[{code.number} {code.phrase}]({url})"
