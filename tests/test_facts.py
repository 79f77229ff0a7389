"""What a developer acts on: header requirements, caching, redirects and library constants on the code
pages, in the JSON and in the comparison pages, each checked against what can be checked here."""
from __future__ import annotations

import json
import platform
import re
import shutil
import subprocess
from html.parser import HTMLParser
from http import HTTPStatus
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, run_build

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
    (401, "WWW-Authenticate", "MUST"), (407, "Proxy-Authenticate", "MUST"), (416, "Content-Range", "SHOULD, to a "
     "byte-range request"), (426, "Upgrade", "MUST"), (429, "Retry-After", "MAY"), (503, "Retry-After", "MAY"),
])
def test_header_fields_tied_to_a_code(site_dir, code, field, requirement):
    rows = page(site_dir, str(code)).rows["header-rules"]
    assert [field, requirement] in [row[:2] for row in rows]


SENT_IN_200 = "if the field would have been sent in a 200 (OK) response to the same request"
WOULD_HAVE_BEEN_SENT = "that would have been sent in a 200 (OK) response to the same request"
# The 19 rows issue 20 found stated without their condition: (code, fields of the row, requirement cell).
CONDITIONAL_ROWS = [
    (206, "Date Cache-Control ETag Expires Content-Location Vary", f"MUST, {SENT_IN_200}"),
    (206, "Content-Range", "MUST, if a single part is being transferred"),
    (206, "Content-Range", "MUST NOT, in the HTTP header section of a multiple part response"),
    (206, "Content-Type", "MUST, if multiple parts are being transferred"),
    (304, "Content-Location Date ETag Vary", f"MUST, {WOULD_HAVE_BEEN_SENT}"),
    (304, "Cache-Control Expires", f"MUST, {WOULD_HAVE_BEEN_SENT}"),
    (300, "Location", "SHOULD, if the server has a preferred choice"),
    (201, "Location", "SHOULD, if one or more resources has been created on the origin server as a result of "
     "successfully processing a POST request"),
    (413, "Retry-After", "SHOULD, if the condition is temporary"),
    (416, "Content-Range", "SHOULD, to a byte-range request"),
]


@pytest.mark.parametrize(("code", "fields", "requirement"), CONDITIONAL_ROWS)
def test_conditional_header_rows_say_their_condition(site_dir, code, fields, requirement):
    rows = page(site_dir, str(code)).rows["header-rules"]
    assert [fields, requirement] in [row[:2] for row in rows]
    assert sum(len(f.split()) for c, f, _ in CONDITIONAL_ROWS) == 19


def test_no_header_row_or_comparison_cell_drops_a_condition(site_dir):
    """Every conditional requirement in semantics.yaml is shown with its condition, on its page and in the
    comparison pages; and no page shows a bare requirement that semantics.yaml only states conditionally."""
    semantics = yaml.safe_load((ROOT / "content" / "semantics.yaml").read_text(encoding="utf-8"))
    compared = {}  # code -> its header cell, and the rules shared by every code on its page (said under the table)
    for compare_page in (site_dir / "compare").glob("*/index.html"):
        heading, *rows = page(site_dir, f"compare/{compare_page.parent.name}").rows["compare"]
        shared = re.findall(r'<p class="shared-rules">(.*?)</p>', compare_page.read_text(encoding="utf-8"), re.S)
        shared_text = " ".join(re.sub(r"<[^>]+>", "", text) for text in shared)
        if "Header fields" in heading:
            compared.update({int(row[0].split()[0]): row[heading.index("Header fields")] + " | " + shared_text
                             for row in rows})
    assert 206 not in compared and {300, 401} <= set(compared)
    checked = 0
    for entry in semantics:
        cells = [row[1] for row in page(site_dir, str(entry["code"])).rows.get("header-rules", [])[1:]]
        for header in entry.get("headers", []):
            shown = header["requirement"] if header["requirement"] != "states" else "stated, without a BCP 14 keyword"
            if header.get("condition"):
                shown += ", " + header["condition"]
                checked += 1
            assert shown in cells, (entry["code"], header["field"], shown)
            if entry["code"] in compared:
                assert f"{header['field']} {shown}" in compared[entry["code"]], (entry["code"], header["field"])
        conditional = {h["requirement"] for h in entry.get("headers", []) if h.get("condition")}
        unconditional = {h["requirement"] for h in entry.get("headers", []) if not h.get("condition")}
        assert not [cell for cell in cells if cell in conditional - unconditional], entry["code"]
    assert checked >= 19


def test_the_json_gives_each_requirement_its_condition(site_dir):
    headers = json.loads((site_dir / "api" / "206.json").read_text(encoding="utf-8"))["headers"]
    assert all(list(rule)[:3] == ["field", "requirement", "condition"] for rule in headers)
    assert {(rule["field"], rule["requirement"], rule["condition"]) for rule in headers} >= {
        ("Date", "MUST", SENT_IN_200), ("Vary", "MUST", SENT_IN_200),
        ("Content-Range", "MUST", "if a single part is being transferred"),
        ("Content-Range", "MUST NOT", "in the HTTP header section of a multiple part response"),
        ("Content-Type", "MUST", "if multiple parts are being transferred")}
    location = json.loads((site_dir / "api" / "201.json").read_text(encoding="utf-8"))["headers"]
    assert [(rule["requirement"], rule["section"], rule["condition"])
            for rule in location if rule["field"] == "Location"] == [
        ("SHOULD", "9.3.3", "if one or more resources has been created on the origin server as a result of "
                            "successfully processing a POST request")]
    allow = json.loads((site_dir / "api" / "405.json").read_text(encoding="utf-8"))["headers"]
    assert next(rule for rule in allow if rule["field"] == "Allow")["condition"] is None


@pytest.mark.parametrize("code", [428, 429, 431, 511])
def test_must_not_store_is_said_where_the_cacheability_is(site_dir, code):
    assert fact(site_dir, code, "Cacheable by default").startswith("no (must not be stored by a cache)")
    data = json.loads((site_dir / "api" / f"{code}.json").read_text(encoding="utf-8"))["cacheable"]
    assert (data["state"], data["value"], data["spec"]) == ("must-not-store", False, "RFC 6585")
    assert data["excerpt"] == f"Responses with the {code} status code MUST NOT be stored by a cache."


def test_comparison_cells_say_must_not_store(tmp_path):
    """No real comparison shows 429's cacheability yet: a copy of the content whose overload page does."""
    content = tmp_path / "content"
    shutil.copytree(ROOT / "content", content)
    comparisons = (content / "comparisons.yaml").read_text(encoding="utf-8")
    overload = "codes: [429, 502, 503, 504]\n  columns: [meaning, headers]"
    assert overload in comparisons
    (content / "comparisons.yaml").write_text(comparisons.replace(overload, overload[:-1] + ", cacheable]"),
                                              encoding="utf-8")
    result = run_build("build", "--content", str(content), "--out", str(tmp_path / "site"))
    assert result.returncode == 0, result.stderr
    heading, *rows = page(tmp_path / "site", "compare/overload").rows["compare"]
    cacheable = {row[0].split()[0]: row[heading.index("Cacheable by default")] for row in rows}
    assert cacheable["429"].startswith("no: must not be stored by a cache RFC 6585 §4")
    assert cacheable["503"] == "no RFC 9110 §15.1"


# Requirements issue 20 listed as missing, each on its page and in its JSON: (code, kind, requirement, words).
LISTED = [
    (451, "headers", "SHOULD", "Link"), (451, "rules", "MUST", '"rel" parameter whose value is "blocked-by"'),
    (425, "rules", "SHOULD NOT", "A server SHOULD NOT emit the 425 status code"),
    (101, "rules", "MUST", 'send an "Upgrade" connection option in the Connection header field'),
    (426, "rules", "MUST", 'send an "Upgrade" connection option in the Connection header field'),
    (426, "rules", "MUST", "in order of descending preference"),
    (101, "rules", "MUST NOT", "A server MUST NOT switch to a protocol that was not indicated by the client"),
    (100, "rules", "MUST NOT", "a server MUST NOT send a 1xx response to an HTTP/1.0 client"),
    (102, "headers", "MUST NOT", "Content-Length"), (103, "headers", "MUST NOT", "Content-Length"),
    (304, "headers", "MUST NOT", "Content-Length"), (304, "headers", "MAY", "Content-Length"),
    (304, "rules", "SHOULD NOT", "representation metadata other than the above listed fields"),
    (206, "rules", "SHOULD NOT", "If-Range"), (206, "headers", "MUST", "Content-Range"),
    (206, "rules", "MUST NOT", "A server MUST NOT generate a multipart response"),
    (206, "rules", "MUST NOT", "a cache MUST NOT store incomplete or partial-content responses"),
    (200, "rules", "SHOULD", "validator fields"), (200, "headers", "MUST", "Date"), (404, "headers", "MUST", "Date"),
    (200, "headers", "MUST NOT", "Transfer-Encoding"), (415, "headers", "MUST NOT", "Accept-Encoding"),
    (421, "rules", "MUST NOT", "A proxy MUST NOT generate a 421 response"), (303, "headers", "states", "Location"),
    (302, "headers", "states", "Retry-After"), (428, "rules", "SHOULD", "explain how to resubmit the request"),
    (431, "rules", "SHOULD", "specify which header field was too large"),
    (511, "rules", "SHOULD", "contain a link to a resource that allows the user to submit credentials"),
]


@pytest.mark.parametrize(("code", "kind", "requirement", "words"), LISTED)
def test_each_listed_requirement_is_on_its_page_and_in_its_json(site_dir, code, kind, requirement, words):
    data = json.loads((site_dir / "api" / f"{code}.json").read_text(encoding="utf-8"))[kind]
    key = "field" if kind == "headers" else "statement"
    assert any(item["requirement"] == requirement and words in item[key] for item in data), (code, words)
    shown = "stated, without a BCP 14 keyword" if requirement == "states" else requirement
    html = (site_dir / str(code) / "index.html").read_text(encoding="utf-8")
    if kind == "headers":
        rows = page(site_dir, str(code)).rows["header-rules"]
        assert any(words in row[0].split() and (row[1] == shown or row[1].startswith(shown + ", ")) for row in rows), \
            (code, words)
    else:
        items = re.findall(r'<li><span class="req">([^<]*)</span> (.*?)</li>', html.split('class="spec-rules"')[1])
        assert any(req == shown and words in text.replace("&#34;", '"') for req, text in items), (code, words)


def test_every_rfc_code_page_opens_with_its_definition(site_dir):
    html = (site_dir / "429" / "index.html").read_text(encoding="utf-8")
    assert html.index('<figure class="definition">') < html.index('id="for-developers"')  # the status line above it, no facts box
    assert "The 429 status code indicates that the user has sent too many requests" in html
    assert 'href="https://www.rfc-editor.org/rfc/rfc6585#section-4">RFC 6585 §4</a>' in html
    for code in (100, 200, 206, 304, 404, 451, 425, 511):
        data = json.loads((site_dir / "api" / f"{code}.json").read_text(encoding="utf-8"))
        assert data["definition"]["text"] and "#section-" in data["definition"]["url"], code


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


NINE = ("Python http.HTTPStatus (3.13.0)", "Go net/http (1.19.8)", "Node.js http.STATUS_CODES (20.20.2)",
        "Java java.net.HttpURLConnection (17.0.15)", ".NET System.Net.HttpStatusCode (main at 8b9361fc)",
        "Rust http::StatusCode (1.4.2)", "Rack (Rails) status symbols (3.2.7)",
        "Symfony HttpFoundation Response (7.1.5)", "Spring Framework HttpStatus (7.0.9)")


def constants(site: Path, code: int) -> dict[str, str]:
    """The "In code" rows of a code page: library and the release read -> the names as shown."""
    return dict(page(site, str(code)).pairs["constants"])


def no_constant(site: Path, code: int) -> str | None:
    match = re.search(r'<p class="no-constant">(.*?)</p>', (site / str(code) / "index.html").read_text(encoding="utf-8"))
    return match and re.sub(r"<[^>]+>", "", match[1])


def test_413_names_the_current_constant_in_all_nine_libraries_with_versions(site_dir):
    assert constants(site_dir, 413) == dict(zip(NINE, (
        "HTTPStatus.CONTENT_TOO_LARGE (3.13+) or HTTPStatus.REQUEST_ENTITY_TOO_LARGE (all versions)",
        "http.StatusRequestEntityTooLarge",
        '"Payload Too Large"',
        "HttpURLConnection.HTTP_ENTITY_TOO_LARGE",
        "HttpStatusCode.RequestEntityTooLarge",
        "StatusCode::PAYLOAD_TOO_LARGE",
        ":content_too_large (3.1+) or :payload_too_large (1.6+, deprecated since 3.1)",
        "Response::HTTP_REQUEST_ENTITY_TOO_LARGE",
        "HttpStatus.CONTENT_TOO_LARGE (7.0+) or HttpStatus.PAYLOAD_TOO_LARGE (4.1+, deprecated since 7.0)",
    )))
    assert no_constant(site_dir, 413) is None


def test_422_429_103_425_name_every_library_that_has_one_and_say_which_lack_it(site_dir):
    at_422 = constants(site_dir, 422)
    assert at_422[NINE[0]] == "HTTPStatus.UNPROCESSABLE_CONTENT (3.13+) or HTTPStatus.UNPROCESSABLE_ENTITY (all versions)"
    assert at_422[NINE[4]] == "HttpStatusCode.UnprocessableContent or HttpStatusCode.UnprocessableEntity"
    assert at_422[NINE[6]] == ":unprocessable_content (3.1+) or :unprocessable_entity (deprecated since 3.1)"
    assert at_422[NINE[8]] == "HttpStatus.UNPROCESSABLE_CONTENT (7.0+) or HttpStatus.UNPROCESSABLE_ENTITY (deprecated since 7.0)"
    at_429 = constants(site_dir, 429)
    assert at_429[NINE[6]] == ":too_many_requests"
    assert at_429[NINE[7]] == "Response::HTTP_TOO_MANY_REQUESTS" and at_429[NINE[8]] == "HttpStatus.TOO_MANY_REQUESTS"
    at_103 = constants(site_dir, 103)
    assert at_103[NINE[1]] == "http.StatusEarlyHints" and at_103[NINE[5]] == "StatusCode::EARLY_HINTS (1.4+)"
    at_425 = constants(site_dir, 425)
    assert at_425[NINE[1]] == "http.StatusTooEarly" and at_425[NINE[5]] == "StatusCode::TOO_EARLY (1.2+)"
    java = "Java java.net.HttpURLConnection (17.0.15)"
    for code, rows, lacking in ((422, 8, java), (429, 8, java), (103, 8, java),
                                (425, 7, f"{java}, .NET System.Net.HttpStatusCode (main at 8b9361fc)")):
        assert len(constants(site_dir, code)) == rows, code
        assert no_constant(site_dir, code) == f"No constant for {code} in {lacking}.", code


def test_no_code_page_offers_a_name_that_raises_here_without_saying_its_release(site_dir):
    """Every Python name the site shows resolves on this interpreter, unless the page gives the newer
    release it needs; Rack's symbols that raise ArgumentError since Rack 2.1 are never shown."""
    here = tuple(int(part) for part in platform.python_version_tuple()[:2])
    checked = 0
    for code_page in site_dir.glob("[1-5][0-9][0-9]/index.html"):
        code = int(code_page.parent.name)
        for library, names in page(site_dir, code_page.parent.name).pairs.get("constants", []):
            if library.startswith("Python"):
                for shown in names.split(" or "):
                    name, _, versions = shown.partition(" (")
                    since = re.match(r"(\d+)\.(\d+)\+", versions)
                    if since and (int(since[1]), int(since[2])) > here:
                        assert name.removeprefix("HTTPStatus.") not in HTTPStatus.__members__, (code, shown)
                    else:
                        assert HTTPStatus[name.removeprefix("HTTPStatus.")] == code, (code, shown)
                    checked += 1
            if library.startswith("Rack"):
                assert not re.search(r"request_entity_too_large|request_uri_too_long|requested_range|i'm_a_teapot", names)
    assert checked >= 66


def test_node_names_paste_as_javascript_that_gives_the_phrase(site_dir):
    shown = {}
    for code_page in site_dir.glob("[1-5][0-9][0-9]/index.html"):
        for library, names in page(site_dir, code_page.parent.name).pairs.get("constants", []):
            if library.startswith("Node.js"):
                shown[code_page.parent.name] = names
    assert len(shown) >= 60 and shown["418"] == '"I\'m a Teapot"'
    # Each shown name, pasted as an expression, must be the phrase http.STATUS_CODES gives for its code.
    script = "const s = require('http').STATUS_CODES; const shown = {" + ", ".join(
        f"{code}: {names}" for code, names in shown.items()) + "};" \
        " console.log(Object.entries(shown).filter(([c, p]) => s[c] !== p).length)"
    assert subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True).stdout.strip() == "0"


def test_names_are_written_so_that_they_paste():
    from httpref.facts import Library

    def written(language: str, fmt: str, name: str) -> str:
        return Library("x", "X", language, "o/r", "p", "t", "X 1", fmt, (), "").written(name)

    assert written("ruby", "{name}", "too_many_requests") == ":too_many_requests"
    assert written("ruby", "{name}", "i'm_a_teapot") == ':"i\'m_a_teapot"'
    assert written("ruby", "{name}", 'a"b#{c}') == ':"a\\"b\\#{c}"'
    assert written("javascript", "{name}", "I'm a Teapot") == '"I\'m a Teapot"'
    assert written("javascript", "{name}", 'say "hi"') == '"say \\"hi\\""'
    assert written("php", "Response::{name}", "HTTP_TOO_MANY_REQUESTS") == "Response::HTTP_TOO_MANY_REQUESTS"


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
            assert spec in specs[code] | {"RFC 9110", "RFC 9111"}, (code, href)  # or HTTP's core, for every code
            assert match.group(2) in sections[spec], (code, href)
            linked += 1
    assert linked >= 70  # every code page with facts links at least one section


def test_the_json_carries_the_same_facts_with_stable_keys(site_dir):
    data = json.loads((site_dir / "api" / "405.json").read_text(encoding="utf-8"))
    assert list(data) == ["code", "phrase", "name", "class", "status", "url", "definition", "meanings", "headers",
                          "rules", "cacheable", "redirect", "no_content", "constants", "aliases", "sources"]
    allow = next(rule for rule in data["headers"] if rule["field"] == "Allow")
    assert allow["requirement"] == "MUST" and allow["section"] == "15.5.6"
    assert allow["url"] == "https://www.rfc-editor.org/rfc/rfc9110#section-15.5.6"
    assert "MUST generate an Allow header field" in allow["excerpt"]
    assert data["cacheable"]["value"] is True and data["cacheable"]["state"] == "heuristic" and data["redirect"] is None
    redirect = json.loads((site_dir / "api" / "308.json").read_text(encoding="utf-8"))["redirect"]
    assert (redirect["permanent"], redirect["method"]) == (True, "kept")
    constants = json.loads((site_dir / "api" / "413.json").read_text(encoding="utf-8"))["constants"]
    assert len(constants) == 9 and all(c["source"].startswith("https://github.com/") for c in constants)
    python = constants[0]
    assert (python["library"], python["release"]) == ("Python http.HTTPStatus", "3.13.0")
    assert python["source"] == "https://github.com/python/cpython/blob/v3.13.0/Lib/http/__init__.py"
    assert python["names"] == [
        {"name": "HTTPStatus.CONTENT_TOO_LARGE", "since": "3.13", "deprecated": False, "deprecated_since": None},
        {"name": "HTTPStatus.REQUEST_ENTITY_TOO_LARGE", "since": None, "deprecated": False, "deprecated_since": None}]
    rack = constants[6]["names"][1]
    assert rack == {"name": ":payload_too_large", "since": "1.6", "deprecated": True, "deprecated_since": "3.1"}
    java_at_429 = json.loads((site_dir / "api" / "429.json").read_text(encoding="utf-8"))["constants"][3]
    assert java_at_429["library"].startswith("Java") and java_at_429["names"] == []
    listed = json.loads((site_dir / "api" / "codes.json").read_text(encoding="utf-8"))
    assert all(list(item) == list(data) for item in listed)


def test_compare_redirects_has_the_six_codes_and_is_linked(site_dir):
    assert page(site_dir, "compare/redirects").row_ids["compare"] == ["300", "301", "302", "303", "307", "308"]
    home = (site_dir / "index.html").read_text(encoding="utf-8")
    for slug in ("redirects", "no-access", "bad-input", "overload", "gone"):
        assert f'href="compare/{slug}/"' in home
        assert (site_dir / "compare" / slug / "index.html").is_file()
    assert 'href="../compare/redirects/"' in (site_dir / "308" / "index.html").read_text(encoding="utf-8")


def test_the_search_index_holds_each_requirement_with_its_condition(site_dir):
    index = (site_dir / "search-index.js").read_text(encoding="utf-8")
    records = {r["c"]: r for r in json.loads(index.removeprefix("window.SEARCH_INDEX=").rstrip().removesuffix(";"))
               if "c" in r}  # code records; class, comparison and source pages have none
    assert "Location SHOULD if the server has a preferred choice" in records[300]["t"]
    assert "A proxy MUST NOT generate a 421 response" in records[421]["t"]
    assert "must not be stored by a cache" in records[429]["t"]


def test_the_search_index_holds_each_codes_constants(site_dir):
    index = (site_dir / "search-index.js").read_text(encoding="utf-8")
    records = json.loads(index.removeprefix("window.SEARCH_INDEX=").rstrip().removesuffix(";"))
    by_code = {record["c"]: record for record in records if "c" in record}  # pages have no code
    assert "http.StatusTooManyRequests" in by_code[429]["k"]
    assert "StatusCode::PAYLOAD_TOO_LARGE" in by_code[413]["k"]
    assert "Response::HTTP_TOO_MANY_REQUESTS" in by_code[429]["k"] and "HttpStatus.CONTENT_TOO_LARGE" in by_code[413]["k"]


def test_each_librarys_row_links_the_libraries_page_that_names_its_source_and_release(site_dir, reference):
    """Code pages name each library's release; where its names were read (repository, file, commit) is said once,
    on /libraries/, which each row links to by the library's anchor."""
    libraries = (site_dir / "libraries" / "index.html").read_text(encoding="utf-8")
    page = (site_dir / "413" / "index.html").read_text(encoding="utf-8")
    for library in reference.libraries:
        section = libraries.split(f'id="{library.id}"', 1)[1].split("</section>", 1)[0]
        assert f'href="{library.source_url}"' in section and library.release in section, library.id
        assert f'href="../libraries/#{library.id}">{library.name}</a> ({library.release})' in page, library.id
