"""Every fact in content/semantics.yaml checked, at test time, against the RFC text it cites.

The texts are the RFCs' XML sources kept in tests/data/rfc/ (provenance in tests/data/README.md). A
section is rendered the way semantics.yaml quotes it: BCP 14 keywords as printed, cross-references as
the RFC prints them ("Section 10.2.2", "[CACHING]", "Section 4.2.2 of [CACHING]"), whitespace
normalised. Standalone on purpose (no generator import): the check must not share the code it checks.
"""
from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
RFC_DIR = ROOT / "tests" / "data" / "rfc"
KINDS = ("headers", "rules", "cacheable", "redirect", "no_content", "definition")
# Elements whose words are not prose: examples, index entries, tables of ABNF.
NOT_PROSE = {"iref", "artwork", "sourcecode", "figure", "table", "anchor-alias", "preamble", "postamble"}
BLOCKS = {"t", "li", "dt", "dd", "blockquote", "aside", "ul", "ol", "dl", "list"}
# A sentence ends at ". " before a capital or a quotation; "e.g.," and "i.e.," are followed by commas.
SENTENCE_END = re.compile(r"(?<=[.?!])\s+(?=[A-Z\"(])")


def local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


@cache
def shown_anchors() -> dict[str, dict[str, str]]:
    """rfc number -> {anchor: how the RFC prints an xref to it}."""
    out: dict[str, dict[str, str]] = {}
    for line in (RFC_DIR / "anchors.tsv").read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            rfc, anchor, shown = line.split("\t")
            out.setdefault(rfc, {})[anchor] = shown
    return out


def xref_words(element: ET.Element, shown: dict[str, str]) -> str:
    target = shown[element.get("target")]
    section = next((value for name, value in element.attrib.items() if local(name) == "sec"), None)
    if section is None:
        return target
    where = ("Appendix " if section[0].isalpha() else "Section ") + section
    form = next(value for name, value in element.attrib.items() if local(name) == "fmt")
    return f"{where} of {target}" if form == "of" else f"{target}, {where}"


def words(element: ET.Element, shown: dict[str, str]) -> str:
    """The element's prose as the RFC prints it, whitespace not yet normalised."""
    tag = local(element.tag)
    if tag in NOT_PROSE:
        return ""
    if tag == "xref":
        return xref_words(element, shown)
    text = (element.text or "") + "".join(words(child, shown) + (child.tail or "") for child in element)
    return f" {text} " if tag in BLOCKS else text


def normalise(text: str) -> str:
    return " ".join(text.split())


@cache
def spec_sections(spec: str) -> dict[str, ET.Element]:
    """'RFC 9110' -> {section number: <section> element} for every section its extract holds."""
    number = spec.removeprefix("RFC ")
    root = ET.parse(RFC_DIR / f"rfc{number}.xml").getroot()
    assert root.get("rfc") == number
    found: dict[str, ET.Element] = {}

    def walk(section: ET.Element, label: str) -> None:
        found[label] = section
        numbered = [child for child in section if local(child.tag) == "section"
                    and child.get("numbered") not in ("no", "false")]
        for index, child in enumerate(numbered, 1):
            walk(child, f"{label}.{index}")

    for part in root:
        (section,) = part
        walk(section, part.get("section"))
    return found


def section_text(spec: str, section: str) -> str:
    """The section's own prose (not its subsections'), normalised."""
    element = spec_sections(spec)[section]
    shown = shown_anchors().get(spec.removeprefix("RFC "), {})
    return normalise(" ".join(words(child, shown) for child in element if local(child.tag) != "section"))


def first_sentence(spec: str, section: str) -> str:
    element = spec_sections(spec)[section]
    shown = shown_anchors().get(spec.removeprefix("RFC "), {})
    first = next(child for child in element if local(child.tag) == "t")
    return SENTENCE_END.split(normalise(words(first, shown)), maxsplit=1)[0]


def load_semantics() -> list[dict]:
    with open(ROOT / "content" / "semantics.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def cited_facts() -> list[tuple[int, str, dict]]:
    """(code, kind, fact) for every fact that quotes a spec."""
    out = []
    for entry in load_semantics():
        for kind in KINDS:
            found = entry.get(kind)
            for fact in found if isinstance(found, list) else [found] if found else []:
                out.append((entry["code"], kind, fact))
    return out


FACTS = cited_facts()


def fact_id(fact: tuple[int, str, dict]) -> str:
    code, kind, cited = fact
    return f"{code}-{kind}-{cited.get('field') or cited.get('requirement') or ''}-{cited['section']}".replace(" ", "_")


def test_every_cited_spec_and_section_is_in_the_texts():
    missing = sorted({(fact["spec"], str(fact["section"])) for _, _, fact in FACTS
                      if not (RFC_DIR / f"rfc{fact['spec'].removeprefix('RFC ')}.xml").exists()
                      or str(fact["section"]) not in spec_sections(fact["spec"])})
    assert not missing, f"no text kept for: {missing}"


def list_items(spec: str, section: str) -> set[str]:
    shown = shown_anchors().get(spec.removeprefix("RFC "), {})
    element = spec_sections(spec)[section]
    return {normalise(words(item, shown)) for block in element if local(block.tag) != "section"
            for item in block.iter() if local(item.tag) == "li"}


def is_quoted(excerpt: str, spec: str, section: str) -> bool:
    """Verbatim in the section, or (semantics.yaml's rule for bulleted lists) a lead-in sentence ending
    in a colon that is in the section, joined to one item of a list in that section."""
    text, excerpt = section_text(spec, section), normalise(excerpt)
    if excerpt in text:
        return True
    lead_in, colon, item = excerpt.partition(": ")
    return bool(colon) and f"{lead_in}:" in text and item in list_items(spec, section)


@pytest.mark.parametrize("fact", FACTS, ids=fact_id)
def test_excerpt_is_verbatim_in_the_section_it_cites(fact):
    code, kind, cited = fact
    assert is_quoted(cited["excerpt"], cited["spec"], str(cited["section"])), (
        f"{code} {kind}: not in {cited['spec']} Section {cited['section']}")


def keyword(requirement: str) -> re.Pattern:
    """The BCP 14 keyword as a whole phrase: MUST does not match inside MUST NOT."""
    return re.compile(rf"\b{requirement}\b" + ("" if requirement.endswith("NOT") else r"(?! NOT)"))


@pytest.mark.parametrize("fact", [fact for fact in FACTS if "requirement" in fact[2]], ids=fact_id)
def test_the_keyword_a_fact_states_is_in_its_excerpt(fact):
    code, kind, cited = fact
    if cited["requirement"] == "states":  # a plain statement: the sentence carries no BCP 14 keyword
        assert not re.search(r"\b(MUST|SHOULD|MAY|REQUIRED|SHALL|RECOMMENDED|OPTIONAL)\b", cited["excerpt"])
    else:
        assert keyword(cited["requirement"]).search(cited["excerpt"]), f"{code} {kind}"
        if kind == "rules":
            assert keyword(cited["requirement"]).search(cited["statement"]), f"{code}: the statement says it"


def in_words(words: str, excerpt: str) -> bool:
    """The words are the excerpt's own; the first letter may change case ("If ..." read after "MUST, ")."""
    words, excerpt = normalise(words), normalise(excerpt)
    return any(form in excerpt for form in (words, words[:1].upper() + words[1:], words[:1].lower() + words[1:]))


@pytest.mark.parametrize("fact", [fact for fact in FACTS if fact[2].get("condition")], ids=fact_id)
def test_every_condition_is_in_the_spec_words_of_its_excerpt(fact):
    code, kind, cited = fact
    assert in_words(cited["condition"], cited["excerpt"]), f"{code} {kind}: {cited['condition']}"


@pytest.mark.parametrize("fact", [fact for fact in FACTS if fact[1] == "rules"], ids=fact_id)
def test_every_rule_statement_is_in_the_spec_words_of_its_excerpt(fact):
    code, _, cited = fact
    assert in_words(cited["statement"], cited["excerpt"]), f"{code}: {cited['statement']}"


@pytest.mark.parametrize("fact", [fact for fact in FACTS if fact[1] == "cacheable"], ids=fact_id)
def test_must_not_store_is_what_its_sentence_says(fact):
    code, _, cited = fact
    says = bool(re.search(r"MUST NOT be stored by a cache", cited["excerpt"]))
    assert says is (cited["state"] == "must-not-store"), code


@pytest.mark.parametrize("fact", [fact for fact in FACTS if fact[1] == "definition"], ids=fact_id)
def test_every_definition_is_the_first_sentence_of_its_section(fact):
    code, _, cited = fact
    assert normalise(cited["excerpt"]) == first_sentence(cited["spec"], str(cited["section"])), code


def test_every_code_whose_defining_text_is_kept_has_its_definition():
    """A code whose defining section is in tests/data/rfc/ quotes the sentence that opens it."""
    with open(ROOT / "content" / "registry.yaml", encoding="utf-8") as f:
        registry = yaml.safe_load(f)
    defined = {code for code, kind, _ in FACTS if kind == "definition"}
    missing = []
    for entry in registry:
        spec, url = entry.get("spec") or "", entry.get("url") or ""
        section = url.partition("#section-")[2]
        if not (spec.startswith("RFC ") and section and (RFC_DIR / f"rfc{spec[4:]}.xml").exists()):
            continue
        if section in spec_sections(spec) and entry["code"] not in defined:
            missing.append(entry["code"])
    assert not missing, f"codes with a definition sentence in the kept texts but none in semantics.yaml: {missing}"


def test_the_extractor_reads_what_the_rfc_prints():
    """The renderer itself, on sentences whose printed form is known from the published RFCs."""
    assert first_sentence("RFC 9110", "15.5.6") == ("The 405 (Method Not Allowed) status code indicates that "
                                                   "the method received in the request-line is known by the "
                                                   "origin server but not supported by the target resource.")
    assert "Location header field that provides an identifier for the primary resource created " \
           "(Section 10.2.2)" in section_text("RFC 9110", "9.3.3")
    assert "(see Section 4.2.2 of [CACHING])" in section_text("RFC 9110", "15.3.1")
    assert first_sentence("RFC 6585", "4") == ("The 429 status code indicates that the user has sent too many "
                                               "requests in a given amount of time (\"rate limiting\").")
