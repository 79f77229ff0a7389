"""The registry's unofficial side (issue 15): who each alias is credited to, what each link is, and the
five published errors that must stay fixed."""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from httpref.load import load
from httpref.merge import Code, Reference, name_key
from httpref.problems import BuildError
from httpref.validate import Meaning, validate
from conftest import ROOT

VALID = ROOT / "tests" / "fixtures" / "broken" / "_valid"
SOURCE_CODE = re.compile(r"\.(h|c|cc|cpp|rs|go|py|php|java|js|ts|rb)(#.*)?\Z")
REPOSITORY_ROOT = re.compile(r"https://(github\.com|gitlab\.com|bitbucket\.org)/[^/]+/[^/]+/?\Z")


@pytest.fixture(scope="module")
def codes(reference: Reference) -> dict[int, Code]:
    return {code.number: code for code in reference.codes}


def meaning(codes: dict[int, Code], number: int, phrase: str) -> Meaning:
    (found,) = [m for m in codes[number].meanings if m.phrase == phrase]
    return found


# --------------------------------------------------------------------------- who uses each alias


def test_every_alias_user_is_a_source_using_the_name_or_a_linked_document(reference):
    checked = 0
    for code in reference.codes:
        former = {(f.phrase, f.source) for m in code.meanings for f in m.former_phrases}
        for alias in code.aliases:
            for source in alias.sources:
                names = [q.name for q in code.quotes if q.source.id == source.id]
                assert name_key(alias.name) in map(name_key, names), (code.number, alias.name, source.id, names)
            for document in alias.documents:
                # a former phrase names the specification that used it; any other user links where it does
                assert (document.phrase, document.source) in former or document.url, \
                    (code.number, alias.name, document.source)
            assert alias.sources or alias.documents, (code.number, alias.name)
            checked += 1
    assert checked > 10


def test_an_also_known_as_name_is_credited_to_its_own_user_not_the_meanings_origin(reference):
    for code in reference.codes:
        for m in code.meanings:
            for other in m.also_known_as:
                (alias,) = [a for a in code.aliases if name_key(a.name) == name_key(other.phrase)]
                assert other in alias.documents and other.url, (code.number, other)
                assert other.source != m.origin, (code.number, other)  # the vendor is not its own alias user


# --------------------------------------------------------------------------- what each link is


def test_a_meaning_linked_without_a_spec_says_what_the_link_is(reference):
    for code in reference.codes:
        for m in code.meanings:
            if m.spec is None and m.url is not None:
                assert m.url_label, (code.number, m.phrase)


def test_no_meaning_calls_a_source_file_or_a_repository_root_documentation(reference):
    labelled = 0
    for code in reference.codes:
        for m in code.meanings:
            if m.spec is None and m.url and "documentation" in (m.url_label or ""):
                labelled += 1
                assert not SOURCE_CODE.search(m.url), (code.number, m.phrase, m.url)
                assert not REPOSITORY_ROOT.match(m.url), (code.number, m.phrase, m.url)
                assert "/blob/" not in m.url and "/tree/" not in m.url, (code.number, m.phrase, m.url)
    assert labelled > 5


def test_source_links_are_labelled_source_code(codes):
    for number, phrase in ((494, "Request Header Too Large"), (499, "Client Closed Request"), (419, "Page Expired")):
        m = meaning(codes, number, phrase)
        assert m.url_label == "source code" and "/blob/" in m.url, (number, m.url)


def test_no_defining_document_shows_as_such(pages_599):
    assert "no defining document" in pages_599


@pytest.fixture(scope="module")
def pages_599(site_dir: Path) -> str:
    return (site_dir / "599" / "index.html").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- the five rows of the issue


def test_308_permanent_redirect_was_first_defined_in_rfc_7238(codes):
    assert "RFC 7238" in meaning(codes, 308, "Permanent Redirect").notes


def test_308_resume_incomplete_is_unofficial_not_deprecated(codes):
    assert meaning(codes, 308, "Resume Incomplete").status == "unofficial"


def test_420_method_failure_comes_from_a_webdav_draft_not_spring(codes):
    origin = meaning(codes, 420, "Method Failure").origin
    assert "WebDAV" in origin and "draft" in origin
    assert "Spring" not in origin


def test_599_has_no_defining_document(codes):
    m = meaning(codes, 599, "Network Connect Timeout Error")
    assert (m.spec, m.url) == (None, None)


def test_444_alias_is_credited_to_httpstatuses_not_nginx(codes):
    (alias,) = [a for a in codes[444].aliases if a.name == "Connection Closed Without Response"]
    users = [d.source for d in alias.documents]
    assert "httpstatuses.com" in users and "nginx" not in users
    assert all(d.url for d in alias.documents if d.source == "httpstatuses.com")


# --------------------------------------------------------------------------- temporary registrations


def test_104_is_a_temporary_registration_listed_to_expire(codes, site_dir):
    m = meaning(codes, 104, "Upload Resumption Supported")
    assert (m.status, m.registered, m.registration, m.expires) == ("temporary", True, "temporary", "2026-11-13")
    page = (site_dir / "104" / "index.html").read_text(encoding="utf-8")
    assert "temporary registration listed to expire 2026-11-13" in page


def test_the_experimental_rfcs_say_so(codes):
    for number, rfc in ((103, "RFC 8297"), (208, "RFC 5842"), (506, "RFC 2295"), (508, "RFC 5842")):
        assert f"{rfc} is an Experimental RFC." in codes[number].meanings[0].notes, number


# --------------------------------------------------------------------------- the schema


def registry_with(tmp_path: Path, entry: str) -> Path:
    content = tmp_path / "content"
    shutil.copytree(VALID, content)
    with (content / "registry.yaml").open("a", encoding="utf-8") as registry:
        registry.write(entry)
    return content


def problems_of(content: Path) -> list[str]:
    with pytest.raises(BuildError) as raised:
        validate(load(content))
    return [problem.message for problem in raised.value.problems]


VENDOR = """- code: 599
  phrase: Vendor Code
  spec: null
  section: null
  status: unofficial
  origin: Vendor
  registered: false
  class: 5xx
"""


@pytest.mark.parametrize("extra, expected", [
    ("  url: https://example.com/docs\n", "a url with no spec needs url_label"),
    ("  url: null\n  also_known_as:\n  - Bare Name\n", "an also_known_as name must be a mapping"),
    ("  url: null\n  also_known_as:\n  - name: Named\n", "missing required key 'used_by'"),
    ("  url: null\n  registration: permanent\n  expires: '2026-11-13'\n", "only for a temporary registration"),
    ("  url: null\n  registration: temporary\n  expires: 'soon'\n", "expires must be a date"),
    ("  url: null\n  registration: pending\n", "registration 'pending' is not one of"),
])
def test_the_schema_refuses(tmp_path, extra, expected):
    messages = problems_of(registry_with(tmp_path, VENDOR + extra))
    assert any(expected in message for message in messages), messages


def test_the_schema_accepts_a_labelled_link_and_a_credited_alias(tmp_path):
    entry = VENDOR + ("  url: https://example.com/docs\n  url_label: documentation\n"
                      "  also_known_as:\n  - name: Other Name\n    used_by: someone\n    url: https://example.org/\n")
    content = validate(load(registry_with(tmp_path, entry)))
    (vendor,) = [m for m in content.meanings if m.code == 599]
    assert vendor.url_label == "documentation"
    assert [(a.phrase, a.source, a.url) for a in vendor.also_known_as] == [
        ("Other Name", "someone", "https://example.org/")]
