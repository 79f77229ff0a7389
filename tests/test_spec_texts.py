"""Every fact in content/semantics.yaml, and every passage content/comparisons.yaml's advice rests on,
checked at test time against the RFC text it cites.

The texts are kept in tests/data/rfc/ (provenance in tests/data/README.md): extracts of the RFCs' XML
sources (rfcN.xml), or, where no XML source could be read, lines of the RFC as published in plain text
(rfcN.txt). A section is rendered the way semantics.yaml quotes it: BCP 14 keywords as printed,
cross-references as the RFC prints them ("Section 10.2.2", "[CACHING]", "Section 4.2.2 of [CACHING]"),
whitespace normalised. Standalone on purpose (no generator import): the check must not share the code
it checks.
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
# The published plain-text format: a section starts at a numbered heading in the first column ("11.1.  207
# Multi-Status", RFC 2518's "10.1 102 Processing"); prose is indented. Each page ends with a footer
# ("Dusseault   Standards Track   [Page 78]"); a line holding a form feed follows, then the next page's
# running header ("RFC 4918   WebDAV   June 2007").
TEXT_HEADING = re.compile(r"(\d+(?:\.\d+)*)\.? +\S")
PAGE_FOOTER = re.compile(r".*\[Page \d+\]\Z")


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


def kept_text(spec: str) -> Path | None:
    """The file holding the spec's text, XML extract preferred; None if none is kept."""
    number = spec.removeprefix("RFC ")
    return next((path for path in (RFC_DIR / f"rfc{number}.xml", RFC_DIR / f"rfc{number}.txt")
                 if path.exists()), None)


def is_plain_text(spec: str) -> bool:
    return kept_text(spec).suffix == ".txt"


@cache
def text_sections(spec: str) -> dict[str, list[str]]:
    """'RFC 4918' -> {section number: its own paragraphs, normalised} from a plain-text extract. A page
    break (footer, form feed, running header) counts as a paragraph break."""
    number = spec.removeprefix("RFC ")
    found: dict[str, list[str]] = {}
    paragraphs: list[str] | None = None
    lines: list[str] = []
    after_form_feed = False
    for line in [*kept_text(spec).read_text(encoding="ascii").split("\n"), ""]:
        if after_form_feed:
            assert line.startswith(f"RFC {number} "), f"running header of another document: {line!r}"
            line = ""
        after_form_feed = line == "\f"
        if after_form_feed:
            line = ""
        heading = TEXT_HEADING.match(line)
        if not line.strip() or PAGE_FOOTER.match(line) or heading:
            if lines and paragraphs is not None:
                paragraphs.append(normalise(" ".join(lines)))
            lines = []
            if heading:
                paragraphs = found.setdefault(heading.group(1), [])
        else:
            lines.append(line)
    return found


def section_numbers(spec: str) -> set[str]:
    return set(text_sections(spec) if is_plain_text(spec) else xml_sections(spec))


@cache
def xml_sections(spec: str) -> dict[str, ET.Element]:
    """'RFC 9110' -> {section number: <section> element} for every section its XML extract holds."""
    number = spec.removeprefix("RFC ")
    root = ET.parse(kept_text(spec)).getroot()
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
    if is_plain_text(spec):
        return " ".join(text_sections(spec)[section])
    element = xml_sections(spec)[section]
    shown = shown_anchors().get(spec.removeprefix("RFC "), {})
    return normalise(" ".join(words(child, shown) for child in element if local(child.tag) != "section"))


def first_sentence(spec: str, section: str) -> str:
    if is_plain_text(spec):
        first = text_sections(spec)[section][0]
    else:
        element = xml_sections(spec)[section]
        shown = shown_anchors().get(spec.removeprefix("RFC "), {})
        first = normalise(words(next(child for child in element if local(child.tag) == "t"), shown))
    return SENTENCE_END.split(first, maxsplit=1)[0]


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


def cited_advice() -> list[tuple[str, str, dict]]:
    """(comparison page's slug, "advice", item) for every piece of advice; each item cites a passage."""
    with open(ROOT / "content" / "comparisons.yaml", encoding="utf-8") as f:
        pages = yaml.safe_load(f)
    return [(page["slug"], "advice", item) for page in pages for item in page.get("advice") or []]


ADVICE = cited_advice()


def fact_id(fact: tuple[int, str, dict]) -> str:
    code, kind, cited = fact
    return f"{code}-{kind}-{cited.get('field') or cited.get('requirement') or ''}-{cited['section']}".replace(" ", "_")


def test_every_cited_spec_and_section_is_in_the_texts():
    missing = sorted({(fact["spec"], str(fact["section"])) for _, _, fact in FACTS + ADVICE
                      if kept_text(fact["spec"]) is None or str(fact["section"]) not in section_numbers(fact["spec"])})
    assert not missing, f"no text kept for: {missing}"


def list_items(spec: str, section: str) -> set[str]:
    """The items of the section's bulleted lists (none are marked as such in plain text)."""
    if is_plain_text(spec):
        return set()
    shown = shown_anchors().get(spec.removeprefix("RFC "), {})
    element = xml_sections(spec)[section]
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


@pytest.mark.parametrize("advice", ADVICE, ids=fact_id)
def test_advice_rests_on_a_passage_verbatim_in_the_section_it_cites(advice):
    slug, _, cited = advice
    assert is_quoted(cited["excerpt"], cited["spec"], str(cited["section"])), (
        f"/compare/{slug}/: not in {cited['spec']} Section {cited['section']}: {cited['excerpt']}")


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
        if not (spec.startswith("RFC ") and section and kept_text(spec)):
            continue
        if section in section_numbers(spec) and entry["code"] not in defined:
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
    # Plain text: a section opening after a page break, with footer and running header left out.
    assert first_sentence("RFC 4918", "11.4") == ("The 424 (Failed Dependency) status code means that the method "
                                                  "could not be performed on the resource because the requested "
                                                  "action depended on another action and that action failed.")
    assert section_text("RFC 4918", "11.3").endswith("such as 'lock-token-submitted' or 'no-conflicting-lock'.")
    assert section_text("RFC 4918", "11") == "The following status codes are added to those defined in HTTP/1.1 [RFC2616]."
