"""What a developer acts on: header requirements, caching, redirects and library constants on the code
pages, in the JSON and in the comparison pages, each checked against what can be checked here."""
from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

SECTIONS = ROOT / "tests" / "data"


class FactsParser(HTMLParser):
    """The parts of a page that state facts: rows of tables, dt/dd pairs, and citation links."""

    def __init__(self):
        super().__init__()
        self.rows: dict[str, list[list[str]]] = {}  # table class -> rows of cell texts
        self.pairs: dict[str, list[tuple[str, str]]] = {}  # dl class -> (dt text, dd text)
        self.cites: list[str] = []  # href of every a.cite
        self.row_ids: dict[str, list[str]] = {}  # table class -> id of each body row
        self._table = self._dl = None
        self._cells: list[str] | None = None
        self._text: list[str] | None = None
        self._dt = ""

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self._table = attrs.get("class", "")
        elif tag == "tr" and self._table is not None:
            self._cells = []
            if attrs.get("id"):
                self.row_ids.setdefault(self._table, []).append(attrs["id"])
        elif tag in ("td", "th") and self._cells is not None or tag in ("dt", "dd") and self._dl is not None:
            self._text = []
        elif tag == "dl":
            self._dl = attrs.get("class", "")
        elif tag == "a" and "cite" in (attrs.get("class") or "").split():
            self.cites.append(attrs["href"])

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cells is not None and self._text is not None:
            self._cells.append(" ".join("".join(self._text).split()))
            self._text = None
        elif tag == "tr" and self._cells is not None:
            self.rows.setdefault(self._table, []).append(self._cells)
            self._cells = None
        elif tag == "table":
            self._table = None
        elif tag == "dt" and self._text is not None:
            self._dt, self._text = " ".join("".join(self._text).split()), None
        elif tag == "dd" and self._text is not None:
            self.pairs.setdefault(self._dl, []).append((self._dt, " ".join("".join(self._text).split())))
            self._text = None
        elif tag == "dl":
            self._dl = None

    def handle_data(self, data):
        if self._text is not None:
            self._text.append(data)


def page(site: Path, path: str) -> FactsParser:
    parser = FactsParser()
    parser.feed((site / path / "index.html").read_text(encoding="utf-8"))
    return parser


def fact(site: Path, code: int, label: str) -> str:
    return dict(page(site, str(code)).pairs["response-facts"])[label]


def test_405_requires_allow_with_its_section(site_dir):
    rows = page(site_dir, "405").rows["header-rules"]
    assert ["Allow", "MUST", "RFC 9110 §15.5.6"] in rows


@pytest.mark.parametrize(("code", "field", "requirement"), [
    (401, "WWW-Authenticate", "MUST"), (407, "Proxy-Authenticate", "MUST"), (416, "Content-Range", "SHOULD"),
    (426, "Upgrade", "MUST"), (429, "Retry-After", "MAY"), (503, "Retry-After", "MAY"),
])
def test_header_fields_tied_to_a_code(site_dir, code, field, requirement):
    rows = page(site_dir, str(code)).rows["header-rules"]
    assert [field, requirement] in [row[:2] for row in rows]


def test_redirects_say_what_happens_to_the_method(site_dir):
    assert "method kept" in fact(site_dir, 308, "Redirect")
    assert fact(site_dir, 308, "Redirect").startswith("permanent")
    assert "method may change" in fact(site_dir, 301, "Redirect")
    assert "method kept" in fact(site_dir, 307, "Redirect") and fact(site_dir, 307, "Redirect").startswith("temporary")


def test_cacheable_by_default(site_dir):
    assert fact(site_dir, 404, "Cacheable by default").startswith("yes")
    assert fact(site_dir, 403, "Cacheable by default").startswith("no")


def test_codes_without_content_say_so(site_dir):
    for code in (204, 304):
        assert fact(site_dir, code, "Content").startswith("never carries content")


def test_413_names_its_constant_in_all_seven_libraries(site_dir):
    constants = dict(page(site_dir, "413").pairs["constants"])
    assert constants == {
        "Python http.HTTPStatus": "HTTPStatus.REQUEST_ENTITY_TOO_LARGE",
        "Go net/http": "http.StatusRequestEntityTooLarge",
        "Node.js http.STATUS_CODES": "'Payload Too Large'",
        "Java java.net.HttpURLConnection": "HttpURLConnection.HTTP_ENTITY_TOO_LARGE",
        ".NET System.Net.HttpStatusCode": "HttpStatusCode.RequestEntityTooLarge",
        "Rust http::StatusCode": "StatusCode::PAYLOAD_TOO_LARGE",
        "Rack (Rails) status symbols": ":request_entity_too_large",
    }


def test_every_python_constant_on_the_site_is_this_pythons_httpstatus(site_dir):
    checked = 0
    for code_page in site_dir.glob("[1-5][0-9][0-9]/index.html"):
        code = int(code_page.parent.name)
        for library, names in page(site_dir, code_page.parent.name).pairs.get("constants", []):
            if library.startswith("Python"):
                for name in names.split(" or "):
                    assert HTTPStatus[name.removeprefix("HTTPStatus.")] == code, (code, name)
                    checked += 1
    assert checked >= 60


def rfc_sections() -> dict[str, set[str]]:
    """Section numbers per RFC, as read from the RFCs' XML (tests/data)."""
    sections: dict[str, set[str]] = {"RFC 9110": set()}
    for line in (SECTIONS / "rfc9110-sections.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            sections["RFC 9110"].add(line.split("\t")[0])
    for line in (SECTIONS / "rfc-sections.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            spec, number = line.split("\t")[:2]
            sections.setdefault(spec, set()).add(number)
    return sections


def test_every_section_link_is_a_section_of_a_spec_the_registry_names_for_the_code(site_dir):
    registry = yaml.safe_load((ROOT / "content" / "registry.yaml").read_text(encoding="utf-8"))
    specs: dict[int, set[str]] = {}
    for meaning in registry:
        if meaning["spec"]:
            specs.setdefault(meaning["code"], set()).add(meaning["spec"])
    sections = rfc_sections()
    linked = 0
    for code_page in site_dir.glob("[1-5][0-9][0-9]/index.html"):
        code = int(code_page.parent.name)
        for href in page(site_dir, code_page.parent.name).cites:
            match = re.fullmatch(r"https://www\.rfc-editor\.org/rfc/rfc(\d+)#section-([\d.]+)", href)
            assert match, href
            spec = f"RFC {match.group(1)}"
            assert spec in specs[code], (code, href)
            assert match.group(2) in sections[spec], (code, href)
            linked += 1
    assert linked >= 70  # every code page with facts links at least one section


def test_the_json_carries_the_same_facts_with_stable_keys(site_dir):
    data = json.loads((site_dir / "api" / "405.json").read_text(encoding="utf-8"))
    assert list(data) == ["code", "phrase", "class", "status", "url", "definition", "meanings", "headers", "cacheable",
                          "redirect", "no_content", "constants", "aliases", "sources"]
    allow = next(rule for rule in data["headers"] if rule["field"] == "Allow")
    assert allow["requirement"] == "MUST" and allow["section"] == "15.5.6"
    assert allow["url"] == "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.6"
    assert "MUST generate an Allow header field" in allow["excerpt"]
    assert data["cacheable"]["value"] is True and data["redirect"] is None
    redirect = json.loads((site_dir / "api" / "308.json").read_text(encoding="utf-8"))["redirect"]
    assert (redirect["permanent"], redirect["method"]) == (True, "kept")
    constants = json.loads((site_dir / "api" / "413.json").read_text(encoding="utf-8"))["constants"]
    assert len(constants) == 7 and all(c["source"].startswith("https://github.com/") for c in constants)
    listed = json.loads((site_dir / "api" / "codes.json").read_text(encoding="utf-8"))
    assert all(list(item) == list(data) for item in listed)


def test_compare_redirects_has_the_six_codes_and_is_linked(site_dir):
    assert page(site_dir, "compare/redirects").row_ids["compare"] == ["300", "301", "302", "303", "307", "308"]
    home = (site_dir / "index.html").read_text(encoding="utf-8")
    for slug in ("redirects", "no-access", "bad-input", "overload", "gone"):
        assert f'href="compare/{slug}/"' in home
        assert (site_dir / "compare" / slug / "index.html").is_file()
    assert 'href="../compare/redirects/"' in (site_dir / "308" / "index.html").read_text(encoding="utf-8")


def test_the_search_index_holds_each_codes_constants(site_dir):
    index = (site_dir / "search-index.js").read_text(encoding="utf-8")
    records = json.loads(index.removeprefix("window.SEARCH_INDEX=").rstrip().removesuffix(";"))
    by_code = {record["c"]: record for record in records if "c" in record}  # pages have no code
    assert "http.StatusTooManyRequests" in by_code[429]["k"]
    assert "StatusCode::PAYLOAD_TOO_LARGE" in by_code[413]["k"]
