"""objects.inv, the Sphinx inventory docs link to pages by name with: read back by Sphinx's own reader, resolved
by a real Sphinx project through intersphinx and a real MkDocs project through mkdocstrings, named in the URL
contract, the same bytes every build, and left out of the offline bundle."""
from __future__ import annotations

import os
import posixpath
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from sphinx.util.inventory import InventoryFile

from conftest import ROOT, run_build

from httpref.serve import DevBuild

BASE_URL = "https://example.org/http/"  # a sub-path: every link must keep "/http/"
CONTRACT = ROOT / "tests" / "url_contract.txt"


def build(out: Path, *args: str) -> Path:
    result = run_build("build", "--content", str(ROOT / "content"), "--out", str(out), *args)
    assert result.returncode == 0, result.stderr
    return out


@pytest.fixture(scope="module")
def based_site(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("based") / "site", "--base-url", BASE_URL)


def read_inventory(file: Path, base_url: str = BASE_URL) -> dict[str, tuple[str, str]]:
    """name -> (URL, display text) as intersphinx reads it for a site at `base_url`."""
    with file.open("rb") as stream:
        inventory = InventoryFile.load(stream, base_url, posixpath.join)  # intersphinx's join for URLs
    assert set(inventory) == {"std:label"}
    return {name: (item.uri, item.display_name) for name, item in inventory["std:label"].items()}


@pytest.fixture(scope="module")
def entries(based_site) -> dict[str, tuple[str, str]]:
    return read_inventory(based_site / "objects.inv")


def test_every_code_class_and_comparison_has_a_name_showing_its_heading(entries, reference):
    for code in reference.codes:
        assert entries[f"http-{code.number}"] == (f"{BASE_URL}{code.number}/", f"{code.number} {code.phrase}")
    for status_class in reference.classes:
        assert entries[f"http-{status_class.key}"] == (f"{BASE_URL}{status_class.key}/", status_class.heading)
    assert entries["http-compare"] == (f"{BASE_URL}compare/", "Which one?")
    for comparison in reference.comparisons:
        slug = comparison.ref.slug
        assert entries[f"http-compare-{slug}"] == (f"{BASE_URL}compare/{slug}/", comparison.ref.title)
    assert entries["http-404"] == (f"{BASE_URL}404/", "404 Not Found")
    assert entries["http-4xx"] == (f"{BASE_URL}4xx/", "4xx Client errors")


def test_each_meaning_of_a_number_has_a_name_leading_to_its_own_heading(entries, based_site):
    assert entries["http-530-site-frozen"] == (f"{BASE_URL}530/#meaning-site-frozen", "530 Site Frozen")
    assert entries["http-530-error-530"] == (f"{BASE_URL}530/#meaning-error-530", "530 Error 530")
    # Renamed from this reference's own label to Cloudflare's title: the old name and anchor still lead there.
    assert entries["http-530-origin-dns-error-1xxx-error"] == (
        f"{BASE_URL}530/#meaning-origin-dns-error-1xxx-error", "530 Error 530")
    page = (based_site / "530" / "index.html").read_text(encoding="utf-8")
    assert all(f'id="meaning-{slug}"' in page for slug in ("site-frozen", "error-530", "origin-dns-error-1xxx-error"))


def test_phrases_and_old_names_lead_to_the_code_and_a_shared_name_to_its_list(entries, reference):
    for name in ["http-content-too-large", "http-payload-too-large", "http-request-entity-too-large"]:
        assert entries[name] == (f"{BASE_URL}413/", "413 Content Too Large"), name
    assert entries["http-not-found"] == (f"{BASE_URL}404/", "404 Not Found")
    assert entries["http-gone"] == (f"{BASE_URL}410/", "410 Gone")  # the comparison "gone" is http-compare-gone
    shared = [route for route in reference.names if len(route.codes) > 1]
    assert shared
    for route in shared:
        assert entries[f"http-{route.slug}"] == (f"{BASE_URL}{route.slug}/", route.name)


def test_every_name_leads_to_a_built_page_and_anchor(entries, based_site):
    for name, (url, _) in entries.items():
        path, _, fragment = url.removeprefix(BASE_URL).partition("#")
        page = based_site / path / "index.html"
        assert page.is_file(), name
        assert not fragment or f'id="{fragment}"' in page.read_text(encoding="utf-8"), name


def contract_names() -> dict[str, str]:
    """The names the URL contract promises, with the site path each leads to."""
    lines = CONTRACT.read_text(encoding="utf-8").splitlines()
    found = (re.fullmatch(r":ref:`([^`]+)` (/\S*)", line) for line in lines)
    return {match[1]: match[2] for match in found if match}


def test_the_inventory_keeps_the_contract_and_the_contract_lists_every_name(entries):
    promised = contract_names()
    assert len(promised) > 200
    resolved = {name: "/" + url.removeprefix(BASE_URL) for name, (url, _) in entries.items()}
    assert {name: resolved.get(name) for name in promised} == promised
    missing = [f":ref:`{name}` {path}" for name, path in resolved.items() if name not in promised]
    assert missing == [], "add these lines to tests/url_contract.txt:\n" + "\n".join(missing)


def test_the_same_bytes_every_build_and_without_a_base_url(based_site, tmp_path, site_dir):
    again = build(tmp_path / "again", "--base-url", BASE_URL)
    data = (based_site / "objects.inv").read_bytes()
    assert data.startswith(b"# Sphinx inventory version 2\n# Project: HTTP Status Codes\n")
    assert (again / "objects.inv").read_bytes() == data
    # Its URLs are relative to the inventory, so a build without a base URL writes it too, byte for byte.
    assert (site_dir / "objects.inv").read_bytes() == data
    assert read_inventory(site_dir / "objects.inv", "https://docs.example.com/status")["http-418"][0] == \
        "https://docs.example.com/status/418/"


def test_serve_rewrites_it_when_a_phrase_or_a_comparison_title_is_edited(tmp_path):
    # serve keeps the inventory between saves while what it is made of is unchanged: an edit must still show.
    shutil.copytree(ROOT / "content", tmp_path / "content")
    dev = DevBuild(tmp_path / "content", tmp_path / "out")
    dev.rebuild()
    registry, comparisons = tmp_path / "content" / "registry.yaml", tmp_path / "content" / "comparisons.yaml"
    registry.write_text(registry.read_text(encoding="utf-8").replace("phrase: Not Found\n", "phrase: Not Here\n"),
                        encoding="utf-8")
    assert "objects.inv" in dev.rebuild([registry])
    comparisons.write_text(comparisons.read_text(encoding="utf-8").replace("title: Gone\n", "title: Not there\n"),
                           encoding="utf-8")
    assert "objects.inv" in dev.rebuild([comparisons])
    entries = read_inventory(tmp_path / "out" / "objects.inv")
    assert entries["http-404"] == (f"{BASE_URL}404/", "404 Not Here")
    assert entries["http-compare-gone"] == (f"{BASE_URL}compare/gone/", "Not there")


def test_the_offline_bundle_leaves_it_out(tmp_path):
    result = run_build("bundle", "--content", str(ROOT / "content"), "--out", str(tmp_path / "http-status-codes.zip"))
    assert result.returncode == 0, result.stderr
    names = zipfile.ZipFile(tmp_path / "http-status-codes.zip").namelist()
    assert "http-status-codes/404/index.html" in names
    assert not [name for name in names if name.endswith("objects.inv")]


def test_the_link_box_offers_the_sphinx_role(based_site):
    page = (based_site / "404" / "index.html").read_text(encoding="utf-8")
    assert '<code class="copy-source" id="sphinx-role">:ref:`http-404`</code>' in page
    assert 'data-copy="sphinx-role" hidden>Copy Sphinx role</button>' in page


LINKS = "Links\n=====\n\n:ref:`http-404`, :ref:`http-418`, :ref:`http-payload-too-large`, " \
        ":ref:`http-compare-redirects`, :ref:`httpstatus:http-530-site-frozen`.\n\n:ref:`http-999`\n"


def test_a_sphinx_project_links_codes_by_name_and_reports_an_unknown_one(based_site, tmp_path):
    # The README's configuration, the inventory read from disk (the second element) for the site at BASE_URL.
    (tmp_path / "conf.py").write_text(
        'extensions = ["sphinx.ext.intersphinx"]\n'
        f'intersphinx_mapping = {{"httpstatus": ({BASE_URL!r}, {str(based_site / "objects.inv")!r})}}\n'
        "nitpicky = True\n", encoding="utf-8")
    (tmp_path / "index.rst").write_text(LINKS, encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "sphinx", "-q", "-b", "html", str(tmp_path), str(tmp_path / "out")],
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "undefined label: 'http-999'" in result.stderr
    assert result.stderr.count("WARNING") == 1, result.stderr
    html = (tmp_path / "out" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a class="reference external" href="([^"]+)"[^>]*><span[^>]*>([^<]+)</span>', html)
    assert links == [(f"{BASE_URL}404/", "404 Not Found"), (f"{BASE_URL}418/", "418 I'm a teapot"),
                     (f"{BASE_URL}413/", "413 Content Too Large"), (f"{BASE_URL}compare/redirects/", "Redirects"),
                     (f"{BASE_URL}530/#meaning-site-frozen", "530 Site Frozen")]


def test_a_mkdocs_project_links_codes_by_name_through_mkdocstrings(based_site, tmp_path):
    # mkdocstrings reads inventories through urllib, which opens file:// URLs; it caches each for a day, so
    # the cache goes to this test's own folder. autorefs takes the URL from the inventory, the text from the link.
    (tmp_path / "mkdocs.yml").write_text(
        "site_name: Demo\nplugins:\n  - autorefs\n  - mkdocstrings:\n      handlers:\n        python:\n"
        "          inventories:\n"
        f"            - url: {(based_site / 'objects.inv').as_uri()}\n"
        f"              base_url: {BASE_URL}\n"
        "              domains: [std]\n", encoding="utf-8")
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "index.md").write_text(
        "# Links\n\n[404 Not Found][http-404], [Payload Too Large][http-payload-too-large], "
        "[which redirect][http-compare-redirects].\n\n[nothing][http-999]\n", encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build"], cwd=tmp_path, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")})
    assert result.returncode == 0, result.stderr
    assert "Could not find cross-reference target 'http-999'" in result.stderr
    html = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a class="autorefs autorefs-external" href="([^"]+)">([^<]+)</a>', html)
    assert links == [(f"{BASE_URL}404/", "404 Not Found"), (f"{BASE_URL}413/", "Payload Too Large"),
                     (f"{BASE_URL}compare/redirects/", "which redirect")]
