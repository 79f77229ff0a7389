"""The content model (issue 2): the committed transcriptions and the rules that merge them per code."""
from __future__ import annotations

import pytest

from httpref.load import load
from httpref.facts import Facts
from httpref.merge import Code, merge, name_key
from httpref.validate import Content, Entry, FormerPhrase, Meaning, Site, Source, validate
from conftest import ROOT, run_build

SOURCE_IDS = ("api-design", "aws-alb", "cat-codes", "cloudflare-5xx", "code-table", "compsci-note", "laravel", "nginx",
              "pantheon", "response-codes", "resumable-upload-draft")


@pytest.fixture(scope="module")
def content() -> Content:
    return validate(load(ROOT / "content"))


@pytest.fixture(scope="module")
def codes(reference) -> dict[int, Code]:
    return {code.number: code for code in reference.codes}


def alias_users(code: Code) -> dict[str, tuple[list[str], list[str]]]:
    """Alias name -> (source ids, documents) as the page lists them."""
    return {alias.name: ([s.id for s in alias.sources], [d.source for d in alias.documents])
            for alias in code.aliases}


def quoted_names(code: Code) -> dict[str, str]:
    return {quote.source.id: quote.name for quote in code.quotes}


# --------------------------------------------------------------------------- the committed content


@pytest.mark.parametrize("source_id, count", [
    ("compsci-note", 34), ("cat-codes", 41), ("response-codes", 66), ("api-design", 35), ("code-table", 64),
    ("aws-alb", 4), ("cloudflare-5xx", 8), ("nginx", 6), ("laravel", 1), ("pantheon", 1), ("resumable-upload-draft", 1),
])
def test_each_source_keeps_every_code_its_document_lists(content, source_id, count):
    sources = {source.id: source for source in content.sources}
    entries = sources[source_id].entries
    assert len(entries) == count
    assert len({entry.code for entry in entries}) == count


def test_the_sources_are_loaded_in_one_stable_order(content, reference):
    assert tuple(source.id for source in content.sources) == SOURCE_IDS
    assert tuple(page.ref.id for page in reference.sources) == SOURCE_IDS


def test_there_is_one_code_per_number_in_the_union_of_registry_and_sources(content, reference):
    numbers = [code.number for code in reference.codes]
    registry = {meaning.code for meaning in content.meanings}
    listed = {entry.code for source in content.sources for entry in source.entries}
    assert len(numbers) == 86
    assert numbers == sorted(registry | listed)


def test_each_code_belongs_to_the_class_of_its_first_digit(reference):
    for status_class in reference.classes:
        assert {c.number // 100 for c in status_class.codes} == {int(status_class.key[0])}
    assert sum(len(c.codes) for c in reference.classes) == len(reference.codes)


def test_a_class_carries_each_sources_own_heading_for_it(reference):
    client_errors = {c.key: c for c in reference.classes}["4xx"]
    headings = {ref.id: category.heading for ref, category in client_errors.definitions}
    assert headings["compsci-note"] == "4XX Client errors"
    assert client_errors.anchor == "4xx-client-errors"


def test_413_is_content_too_large_with_both_older_names_and_who_uses_them(codes):
    code = codes[413]
    assert code.phrase == "Content Too Large"
    assert alias_users(code) == {
        "Payload Too Large": (["code-table", "compsci-note"], ["RFC 7231 Section 6.5.11"]),
        "Request Entity Too Large": (["api-design", "cat-codes"], ["RFC 2616 Section 10.4.14"]),
    }
    assert quoted_names(code)["response-codes"] == "Content Too Large"


def test_306_keeps_unused_and_switch_proxy_each_with_its_source(codes):
    code = codes[306]
    assert code.phrase == "(Unused)"
    assert quoted_names(code) == {"api-design": "Switch Proxy", "cat-codes": "(Unused)"}
    assert alias_users(code)["Switch Proxy"][0] == ["api-design"]
    assert "(Unused)" not in alias_users(code)
    assert code.sources_disagree


def test_599_is_described_only_by_code_table_and_marked_unofficial(codes):
    code = codes[599]
    assert [quote.source.id for quote in code.quotes] == ["code-table"]
    assert code.status == "unofficial"
    assert [s.id for s in code.omitted_by] == ["api-design", "cat-codes", "compsci-note", "response-codes"]


def test_527_known_only_to_the_registry_still_has_its_facts(content, codes):
    code = codes[527]
    assert code.quotes == ()
    assert code.meanings == tuple(m for m in content.meanings if m.code == 527)
    assert code.phrase == "Railgun Listener to Origin Error"
    assert (code.status, code.meanings[0].origin) == ("deprecated", "Cloudflare")
    assert code.summary.summary  # the lists still have a line to show for it
    assert not code.sources_disagree  # no source speaks, so none can disagree


def test_530_keeps_both_meanings_of_the_number(codes):
    phrases = [meaning.phrase for meaning in codes[530].meanings]
    origins = [meaning.origin for meaning in codes[530].meanings]
    assert phrases == ["Error 530", "Site Frozen"]  # Cloudflare titles its 530 "Error 530"
    assert origins == ["Cloudflare", "Pantheon"]


def test_quotes_follow_the_source_order_on_every_code_owners_first(reference):
    for code in reference.codes:
        order = [(quote.source.kind != "owner", SOURCE_IDS.index(quote.source.id)) for quote in code.quotes]
        assert order == sorted(order), code.number


def test_check_on_the_committed_content_passes_without_errors():
    result = run_build("check", cwd=ROOT)
    problems = result.stderr.splitlines()
    print(f"`build.py check` stderr ({len(problems)} lines):", *problems, sep="\n  ")
    assert result.returncode == 0
    assert not [line for line in problems if ": error:" in line]
    assert "11 sources" in result.stdout and "261 entries" in result.stdout


# --------------------------------------------------------------------------- merge rules, on tiny inputs


def source(source_id: str, *entries: tuple[int, str]) -> Source:
    return Source(source_id, "reference", source_id.title(), source_id.title(), None, None, "", (),
                  tuple(Entry(number, name, f"{source_id} on {number}.") for number, name in entries), ())


def meaning(number: int, phrase: str, *former: str) -> Meaning:
    return Meaning(number, phrase, "RFC 1", "1", None, "standard", "IETF", True, "",
                         tuple(FormerPhrase(old, "RFC 0", None) for old in former), ())


def merged(meanings: tuple[Meaning, ...], *sources: Source) -> dict[int, Code]:
    content = Content(Site("T", "D", None), meanings, Facts(), sources, (), ())
    return {code.number: code for code in merge(content).codes}


def test_without_a_registry_phrase_the_most_used_name_is_canonical():
    code = merged((), source("a", (299, "Odd Name")), source("b", (299, "Usual Name")),
                  source("c", (299, "usual name")))[299]
    assert code.phrase == "Usual Name"
    assert code.status == "unofficial"
    assert alias_users(code) == {"Odd Name": (["a"], [])}


def test_the_registry_phrase_wins_over_a_name_every_source_uses():
    code = merged((meaning(299, "Official", "Older"),), source("a", (299, "Popular")), source("b", (299, "Popular")))[299]
    assert code.phrase == "Official"
    assert alias_users(code) == {"Older": ([], ["RFC 0"]), "Popular": (["a", "b"], [])}


@pytest.mark.parametrize("one, other", [
    ("Switching protocols", "Switching Protocols"),
    ("Multi-Status (WebDAV)", "Multi-Status"),
    ("Non-Authoritative Information", "Non Authoritative Information"),
])
def test_spellings_of_one_name_share_a_name_key(one, other):
    assert name_key(one) == name_key(other)


@pytest.mark.parametrize("one, other", [
    ("(Unused)", "Switch Proxy"),
    ("(Unused)", ""),
    ("Payload Too Large", "Content Too Large"),
])
def test_different_names_keep_different_name_keys(one, other):
    assert name_key(one) != name_key(other)


def test_case_and_webdav_spellings_are_one_name_not_an_alias():
    code = merged((meaning(207, "Multi-Status"),), source("a", (207, "Multi-Status (WebDAV)")),
                  source("b", (207, "multi-status")))[207]
    assert code.aliases == ()
    assert [(use.name, [s.id for s in use.sources]) for use in code.names] == [("Multi-Status (WebDAV)", ["a", "b"])]
    assert not code.sources_disagree


def test_quotes_keep_the_order_of_the_sources_given():
    code = merged((), source("zed", (200, "OK")), source("alpha", (200, "OK")))[200]
    assert [quote.source.id for quote in code.quotes] == ["zed", "alpha"]
    assert [quote.description for quote in code.quotes] == ["zed on 200.", "alpha on 200."]


def test_sources_disagree_when_names_differ():
    code = merged((meaning(306, "(Unused)"),), source("a", (306, "(Unused)")), source("b", (306, "Switch Proxy")))[306]
    assert code.sources_disagree
    assert [use.name for use in code.names] == ["(Unused)", "Switch Proxy"]
    assert code.omitted_by == ()


def test_sources_disagree_when_one_omits_the_code():
    codes = merged((meaning(200, "OK"), meaning(201, "Created")),
                   source("a", (200, "OK"), (201, "Created")), source("b", (200, "OK")))
    assert not codes[200].sources_disagree
    assert codes[201].sources_disagree
    assert [ref.id for ref in codes[201].omitted_by] == ["b"]


def test_a_registry_only_code_exists_and_nobody_disagrees():
    code = merged((meaning(521, "Web Server Is Down"),), source("a", (200, "OK")))[521]
    assert (code.phrase, code.quotes) == ("Web Server Is Down", ())
    assert [ref.id for ref in code.omitted_by] == ["a"]
    assert not code.sources_disagree
