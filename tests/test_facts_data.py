"""The fact data of issue 12, checked on its own: content/semantics.yaml (content/constants.yaml is
checked against the libraries in tests/test_constants.py).

Standalone on purpose (no generator import): it reads the YAML with yaml.safe_load and checks it
against the section lists in tests/data/.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
DATA = ROOT / "tests" / "data"

REQUIREMENTS = ("MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY", "states")
CORE_SPECS = {"RFC 9110", "RFC 9111"}  # HTTP's rules for every code, whichever RFC defines it
METHODS = ("kept", "may-change", "changed-to-get")
FACT_KEYS = {"code", "definition", "headers", "rules", "cacheable", "redirect", "no_content"}
HEADER_KEYS = {"field", "requirement", "spec", "section", "excerpt"}  # and "condition" where the spec sets one
RULE_KEYS = {"requirement", "statement", "spec", "section", "excerpt"}  # likewise
CACHEABLE_KEYS = {"state", "spec", "section", "excerpt"}
CACHE_STATES = ("heuristic", "not-heuristic", "must-not-store")
REDIRECT_KEYS = {"permanent", "method", "spec", "section", "excerpt"}
NO_CONTENT_KEYS = DEFINITION_KEYS = {"spec", "section", "excerpt"}


def load(name: str):
    with open(CONTENT / name, encoding="utf-8") as f:
        return yaml.safe_load(f)


@pytest.fixture(scope="module")
def semantics() -> list[dict]:
    return load("semantics.yaml")


@pytest.fixture(scope="module")
def by_code(semantics) -> dict[int, dict]:
    return {entry["code"]: entry for entry in semantics}


def data_lines(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines and lines[0].startswith("# "), f"{path.name}: the first line names the source"
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


@pytest.fixture(scope="module")
def sections() -> dict[str, dict[str, str]]:
    """spec -> {section number: title} from the TSVs extracted from the RFCs' XML."""
    out: dict[str, dict[str, str]] = {"RFC 9110": {}}
    for row in data_lines(DATA / "rfc9110-sections.tsv"):
        assert len(row) == 2, row
        number, title = row
        assert number not in out["RFC 9110"], f"duplicate section {number}"
        out["RFC 9110"][number] = title
    for row in data_lines(DATA / "rfc-sections.tsv"):
        assert len(row) == 3, row
        spec, number, title = row
        assert number not in out.setdefault(spec, {}), f"duplicate section {spec} {number}"
        out[spec][number] = title
    return out


def facts(semantics):
    """(code, kind, fact) for every fact in semantics.yaml."""
    for entry in semantics:
        for header in entry.get("headers", []):
            yield entry["code"], "headers", header
        for rule in entry.get("rules", []):
            yield entry["code"], "rules", rule
        for kind in ("definition", "cacheable", "redirect", "no_content"):
            if kind in entry:
                yield entry["code"], kind, entry[kind]


# --- shape -----------------------------------------------------------------------------------

def test_one_entry_per_code_sorted(semantics):
    codes = [entry["code"] for entry in semantics]
    assert all(isinstance(code, int) and 100 <= code <= 599 for code in codes)
    assert codes == sorted(set(codes))


def test_keys_are_exactly_the_documented_ones(semantics):
    for entry in semantics:
        assert set(entry) <= FACT_KEYS and len(entry) > 1, entry
        for header in entry.get("headers", []):
            assert set(header) - {"condition"} == HEADER_KEYS, (entry["code"], header)
        for rule in entry.get("rules", []):
            assert set(rule) - {"condition"} == RULE_KEYS, (entry["code"], rule)
        if "cacheable" in entry:
            assert set(entry["cacheable"]) == CACHEABLE_KEYS, entry["code"]
            assert entry["cacheable"]["state"] in CACHE_STATES
        if "redirect" in entry:
            assert set(entry["redirect"]) == REDIRECT_KEYS, entry["code"]
            assert entry["redirect"]["permanent"] in (True, False, None)
            assert entry["redirect"]["method"] in METHODS
        if "no_content" in entry:
            assert set(entry["no_content"]) == NO_CONTENT_KEYS, entry["code"]
        if "definition" in entry:
            assert set(entry["definition"]) == DEFINITION_KEYS, entry["code"]


def test_excerpts_are_one_normalised_line(semantics):
    for code, kind, fact in facts(semantics):
        excerpt = fact["excerpt"]
        assert isinstance(excerpt, str) and excerpt, (code, kind)
        assert excerpt == " ".join(excerpt.split()), (code, kind, "whitespace not normalised")
        assert isinstance(fact["section"], str), (code, kind, "section must be a string, e.g. '15.1'")


# --- sections --------------------------------------------------------------------------------

def test_sections_tsv_has_the_known_rfc9110_sections(sections):
    rfc9110 = sections["RFC 9110"]
    assert rfc9110["15.1"] == "Overview of Status Codes"
    assert rfc9110["15.5.6"] == "405 Method Not Allowed"
    assert rfc9110["15.4.9"] == "308 Permanent Redirect"
    assert rfc9110["10.2.2"] == "Location"


def test_every_section_cited_is_a_real_section(semantics, sections):
    for code, kind, fact in facts(semantics):
        assert fact["spec"] in sections, (code, kind, f"no section list for {fact['spec']}")
        assert fact["section"] in sections[fact["spec"]], (code, kind, fact["spec"], fact["section"])


def test_registry_sections_are_real_sections(sections):
    """The sections the registry names also resolve, and are titled with their code (a check of the TSVs)."""
    for entry in load("registry.yaml"):
        if entry.get("spec") in sections:
            title = sections[entry["spec"]].get(str(entry["section"]))
            assert title is not None, (entry["code"], entry["spec"], entry["section"])
            assert re.search(rf"\b{entry['code']}\b", title), (entry["code"], title)


def test_every_fact_cites_the_rfc_the_registry_names_for_its_code_or_https_core(semantics):
    specs: dict[int, set] = {}
    for entry in load("registry.yaml"):
        specs.setdefault(entry["code"], set()).add(entry.get("spec"))
    for code, kind, fact in facts(semantics):
        assert code in specs and fact["spec"] in specs[code] | CORE_SPECS, (code, kind, fact["spec"])
        if kind == "definition":
            assert fact["spec"] in specs[code], (code, "a definition is the defining RFC's own")


# --- requirements as worded ------------------------------------------------------------------

def keyword(requirement: str) -> re.Pattern:
    """The BCP 14 keyword as a whole phrase: MUST does not match inside MUST NOT."""
    return re.compile(r"\b" + re.escape(requirement) + r"\b" + ("" if requirement.endswith("NOT") else r"(?! NOT)"))


def test_header_excerpts_contain_their_requirement_and_field(semantics):
    for code, kind, fact in facts(semantics):
        if kind not in ("headers", "rules"):
            continue
        assert fact["requirement"] in REQUIREMENTS, (code, fact)
        if fact["requirement"] != "states":
            assert keyword(fact["requirement"]).search(fact["excerpt"]), (code, fact["requirement"])
        if kind == "headers":
            assert fact["field"] in fact["excerpt"], (code, fact["field"])


def test_405_requires_allow(by_code):
    assert {"field": "Allow", "requirement": "MUST", "spec": "RFC 9110", "section": "15.5.6",
            "excerpt": "The origin server MUST generate an Allow header field in a 405 response containing a list "
                       "of the target resource's currently supported methods."} in by_code[405]["headers"]


@pytest.mark.parametrize("code, field, requirement", [
    (401, "WWW-Authenticate", "MUST"), (407, "Proxy-Authenticate", "MUST"), (101, "Upgrade", "MUST"),
    (426, "Upgrade", "MUST"), (206, "Content-Range", "MUST"), (416, "Content-Range", "SHOULD"),
    (201, "Location", "SHOULD"), (301, "Location", "SHOULD"), (308, "Location", "SHOULD")])
def test_header_requirements(by_code, code, field, requirement):
    assert any(h["field"] == field and h["requirement"] == requirement for h in by_code[code]["headers"])


def test_retry_after(by_code):
    assert [(h["requirement"], h["spec"]) for h in by_code[503]["headers"] if h["field"] == "Retry-After"] \
        == [("MAY", "RFC 9110")]
    assert [(h["requirement"], h["spec"], h["section"]) for h in by_code[429]["headers"]
            if h["field"] == "Retry-After"] == [("MAY", "RFC 6585", "4")]


# --- redirects, caching, content -------------------------------------------------------------

def test_redirect_methods(by_code):
    assert by_code[308]["redirect"]["method"] == "kept"
    assert by_code[307]["redirect"]["method"] == "kept"
    assert by_code[301]["redirect"]["method"] == "may-change"
    assert by_code[302]["redirect"]["method"] == "may-change"
    assert by_code[303]["redirect"]["method"] == "changed-to-get"
    assert [by_code[c]["redirect"]["permanent"] for c in (301, 302, 307, 308)] == [True, False, False, True]
    assert "MUST NOT change the request method" in by_code[307]["redirect"]["excerpt"]
    assert "MAY change the request method from POST to GET" in by_code[301]["redirect"]["excerpt"]


def test_cacheable_by_default(by_code):
    assert by_code[404]["cacheable"]["state"] == "heuristic"
    assert by_code[403]["cacheable"]["state"] == "not-heuristic"
    listed = {200, 203, 204, 206, 300, 301, 308, 404, 405, 410, 414, 501}
    for code, entry in by_code.items():
        if entry.get("cacheable", {}).get("spec") == "RFC 9110":
            assert (entry["cacheable"]["state"] == "heuristic") is (code in listed), code
            assert re.search(rf"\b{code}\b", entry["cacheable"]["excerpt"]) or code not in listed
    assert all(by_code[code]["cacheable"]["state"] == "heuristic" for code in listed)


@pytest.mark.parametrize("code, section", [(428, "3"), (429, "4"), (431, "5"), (511, "6")])
def test_rfc_6585_codes_must_not_be_stored(by_code, code, section):
    """RFC 6585 says a cache must not store these at all: more than "not heuristically cacheable"."""
    assert by_code[code]["cacheable"] == {
        "state": "must-not-store", "spec": "RFC 6585", "section": section,
        "excerpt": f"Responses with the {code} status code MUST NOT be stored by a cache."}


def test_451_and_425_cacheability_from_their_own_rfcs(by_code):
    assert by_code[451]["cacheable"]["state"] == "heuristic" and by_code[451]["cacheable"]["spec"] == "RFC 7725"
    assert by_code[425]["cacheable"]["state"] == "not-heuristic" and by_code[425]["cacheable"]["spec"] == "RFC 8470"


def test_no_content(by_code):
    for code in (100, 101, 204, 304):
        assert "cannot contain content" in by_code[code]["no_content"]["excerpt"], code
    assert "MUST NOT generate content in a 205 response" in by_code[205]["no_content"]["excerpt"]
