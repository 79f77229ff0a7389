"""The offline bundle: `build.py bundle` writes a deterministic zip whose site works from file://
with no network at all, search included."""
from __future__ import annotations

import posixpath
import re
import shutil
import zipfile
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from conftest import ROOT, run_build
from linkcheck import parse_links

FOLDER = "http-status-codes"  # the zip's one top-level folder, named after the default file


@pytest.fixture(scope="module")
def default_zip(tmp_path_factory) -> Path:
    """`python build.py bundle` with no options, run where a copy of content/ lies (so dist/ is made there)."""
    work = tmp_path_factory.mktemp("work")
    shutil.copytree(ROOT / "content", work / "content")
    result = run_build("bundle", cwd=work)
    assert result.returncode == 0, result.stderr
    return work / "dist" / f"{FOLDER}.zip"


@pytest.fixture(scope="module")
def bundle(default_zip, tmp_path_factory) -> Path:
    """The unzipped bundle's folder."""
    out = tmp_path_factory.mktemp("unzipped")
    with zipfile.ZipFile(default_zip) as archive:
        archive.extractall(out)
    return out / FOLDER


def test_bundle_builds_to_the_same_bytes_with_out(default_zip, tmp_path):
    again = tmp_path / "elsewhere" / f"{FOLDER}.zip"
    result = run_build("bundle", "--content", str(ROOT / "content"), "--out", str(again))
    assert result.returncode == 0, result.stderr
    assert again.read_bytes() == default_zip.read_bytes()


def test_zip_holds_one_folder_in_a_fixed_order_with_fixed_times(default_zip):
    with zipfile.ZipFile(default_zip) as archive:
        infos = archive.infolist()
    names = [info.filename for info in infos]
    assert names == sorted(names)
    assert all(name.startswith(f"{FOLDER}/") and ".." not in name.split("/") for name in names)
    assert {info.date_time for info in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert f"{FOLDER}/index.html" in names and f"{FOLDER}/404/index.html" in names


def test_every_link_names_a_real_file_relatively(bundle):
    """From file:// a folder URL shows a listing, not the page: links name `404/index.html`."""
    pages = {f.relative_to(bundle).as_posix(): parse_links(f.read_text(encoding="utf-8"))
             for f in sorted(bundle.rglob("*.html"))}
    broken = []
    for page, found in pages.items():
        for line, url in found.links:
            parts = urlsplit(url)
            if parts.scheme in ("http", "https"):
                continue  # a link to follow, not something the page loads; loads are checked in the browser
            where = f"{page}:{line}: {url}"
            if parts.scheme or parts.netloc or parts.path.startswith("/"):
                broken.append(f"{where}: not relative")
                continue
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(parts.path))) \
                if parts.path else page
            if not (bundle / target).is_file():
                broken.append(f"{where}: no file {target}")
            elif parts.fragment and target in pages and parts.fragment not in pages[target].ids:
                broken.append(f"{where}: no id '{parts.fragment}' in {target}")
    assert broken == []


def test_bundle_has_no_sitemap_or_robots(bundle):
    assert not (bundle / "sitemap.xml").exists() and not (bundle / "robots.txt").exists()


# --------------------------------------------------------------------------- the browser walk


NOT_A_FILE = re.compile(r"^(?!file://)")  # every URL but file://; a pattern is matched in the browser, fast


class OfflineTab:
    """One browser tab where every request not to file:// is aborted and recorded, as are console errors."""

    def __init__(self, context):
        self.blocked: list[str] = []
        self.errors: list[str] = []
        context.route(NOT_A_FILE, self._block)
        self.page = context.new_page()
        self.page.on("console", lambda message: message.type == "error" and self.errors.append(
            f"{self.page.url}: {message.text}"))
        self.page.on("pageerror", lambda exc: self.errors.append(f"{self.page.url}: {exc}"))

    def _block(self, route):
        self.blocked.append(route.request.url)
        route.abort()


@pytest.fixture(scope="module")
def tab(browser) -> Iterator[OfflineTab]:
    context = browser.new_context()
    yield OfflineTab(context)
    context.close()


class _Refresh(HTMLParser):
    def __init__(self):
        super().__init__()
        self.target = None

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "meta" and values.get("http-equiv") == "refresh":
            self.target = values["content"].partition("url=")[2]


def refresh_target(file: Path) -> str | None:
    parser = _Refresh()
    parser.feed(file.read_text(encoding="utf-8"))
    return parser.target


def test_every_page_opens_offline_without_requests_or_errors(tab, bundle):
    pages = sorted(bundle.rglob("*.html"))
    for file in pages:
        tab.page.goto(file.as_uri())
        target = refresh_target(file)
        if target:  # a name URL: let it land on its code's page before the next one
            tab.page.wait_for_url((file.parent / target).resolve().as_uri())
    assert tab.blocked == []
    assert tab.errors == []


def test_the_walk_would_see_a_request_to_the_network(tab, bundle):
    """The guard itself: a page that asks the network is caught, so an empty list above means something."""
    tab.page.goto((bundle / "index.html").as_uri())
    outcome = tab.page.evaluate("fetch('https://example.org/probe.css').then(() => 'fetched', () => 'failed')")
    blocked = list(tab.blocked)
    tab.blocked.clear()
    tab.errors.clear()  # the aborted fetch logs a console error of its own
    assert (outcome, blocked) == ("failed", ["https://example.org/probe.css"])


@pytest.mark.parametrize("query, number", [("404", 404), ("teapot", 418)])
def test_search_finds_a_code_and_enter_opens_its_page(tab, bundle, query, number):
    tab.page.goto((bundle / "sources" / "compsci-note" / "index.html").as_uri())
    search = tab.page.locator("#search-input")
    search.press_sequentially(query)
    first = tab.page.locator("#search-results [role=option]").first
    first.locator(".num").wait_for()
    assert first.locator(".num").text_content() == str(number)
    search.press("Enter")
    tab.page.wait_for_url((bundle / str(number) / "index.html").as_uri())
    assert tab.page.locator("h1 .code-number").text_content() == str(number)
    assert tab.blocked == [] and tab.errors == []
