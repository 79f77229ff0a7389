"""Errata (issue 14): the known errors in each source document stay recorded, and each shows where it belongs.

KNOWN lists, per source id, the code of every erratum the source records (one erratum per code) and how many
errata name no code. A dropped erratum fails `test_no_known_erratum_is_dropped`; a new one must be added to
KNOWN (`test_known_list_names_every_erratum`), as the README's "Adding a source" section says.
"""
from __future__ import annotations

import html
import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "content" / "sources"

# source id -> (codes of the errata that name one, number of errata that name none)
KNOWN: dict[str, tuple[list[int], int]] = {
    "api-design": ([202, 205, 208, 306, 307, 413], 2),
    "aws-alb": ([], 0),
    "cat-codes": ([101, 300, 407, 411, 412], 0),
    "cloudflare-5xx": ([], 0),
    "code-table": ([100, 102, 203, 302, 307, 406, 408, 410, 412, 413, 414, 416, 417, 428, 431, 499, 506, 599], 2),
    "compsci-note": ([401, 408, 414, 503], 0),
    "laravel": ([], 0),
    "nginx": ([], 0),
    "pantheon": ([], 0),
    "response-codes": ([103, 208, 422, 428, 494, 508], 2),
    "resumable-upload-draft": ([104], 0),
}


def errata(source_id: str) -> list[dict]:
    data = yaml.safe_load((SOURCES / f"{source_id}.yaml").read_text(encoding="utf-8"))
    return data.get("errata") or []


def tally(source_id: str) -> tuple[Counter, int]:
    items = errata(source_id)
    return Counter(item["code"] for item in items if item.get("code") is not None), \
        sum(1 for item in items if item.get("code") is None)


def test_every_source_is_listed():
    assert sorted(path.stem for path in SOURCES.glob("*.yaml")) == sorted(KNOWN)


@pytest.mark.parametrize("source_id", sorted(KNOWN))
def test_no_known_erratum_is_dropped(source_id):
    known_codes, known_codeless = KNOWN[source_id]
    codes, codeless = tally(source_id)
    missing = Counter(known_codes) - codes
    assert not missing, f"{source_id}: errata dropped for code(s) {sorted(missing.elements())}"
    assert codeless >= known_codeless, f"{source_id}: {known_codeless - codeless} erratum/errata without a code dropped"


@pytest.mark.parametrize("source_id", sorted(KNOWN))
def test_known_list_names_every_erratum(source_id):
    known_codes, known_codeless = KNOWN[source_id]
    codes, codeless = tally(source_id)
    extra = codes - Counter(known_codes)
    assert not extra, f"{source_id}: add the errata for code(s) {sorted(extra.elements())} to KNOWN"
    assert codeless == known_codeless, f"{source_id}: update the count of errata without a code in KNOWN"


@pytest.mark.parametrize("source_id", sorted(KNOWN))
def test_one_erratum_per_code(source_id):
    codes, _ = tally(source_id)
    assert [code for code, n in codes.items() if n > 1] == []


# --------------------------------------------------------------------------- the built pages


class ErrataSection(HTMLParser):
    """The list items of the page's errata section (the <section> with id or aria-labelledby "errata")."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.depth = 0  # <section> nesting inside the errata section; 0 = outside
        self.found = False
        self.items: list[str] = []
        self._item: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            if self.depth:
                self.depth += 1
            elif "errata" in (attrs.get("id"), attrs.get("aria-labelledby")):
                self.depth, self.found = 1, True
        elif tag == "li" and self.depth:
            self._item = []

    def handle_endtag(self, tag):
        if tag == "section" and self.depth:
            self.depth -= 1
        elif tag == "li" and self._item is not None:
            self.items.append(plain("".join(self._item)))
            self._item = None

    def handle_data(self, data):
        if self._item is not None:
            self._item.append(data)


def plain(text: str) -> str:
    """Text as a reader sees it, give or take the typographer: straight quotes, no code/emphasis marks."""
    text = html.unescape(text)
    for curly, straight in (("“", '"'), ("”", '"'), ("‘", "'"), ("’", "'"), ("…", "...")):
        text = text.replace(curly, straight)
    text = re.sub(r"[`*]", "", text)
    return re.sub(r"\s+", " ", text).strip()


def errata_items(page: Path) -> list[str]:
    assert page.is_file(), f"{page} was not built"
    parser = ErrataSection()
    parser.feed(page.read_text(encoding="utf-8"))
    assert parser.found, f"{page} has no errata section"
    return parser.items


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("errata") / "site"
    result = subprocess.run([sys.executable, str(ROOT / "build.py"), "build", "--content", str(ROOT / "content"),
                             "--out", str(out)], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.parametrize("source_id", sorted(KNOWN))
def test_each_erratum_shows_on_its_code_page_and_its_source_page(built, source_id):
    source_items = errata_items(built / "sources" / source_id / "index.html")
    for item in errata(source_id):
        start = plain(item["note"])[:40]
        code = item.get("code")
        if code is None:
            assert any(start in text for text in source_items), f"{source_id}: {start!r} not on the source page"
            continue
        assert any(text.startswith(f"{code}:") and start in text for text in source_items), \
            f"{source_id}: erratum for {code} ({start!r}) not on the source page"
        code_items = errata_items(built / str(code) / "index.html")
        assert any(text.startswith(f"{source_id}:") and start in text for text in code_items), \
            f"{source_id}: erratum ({start!r}) not on the page of {code}"
