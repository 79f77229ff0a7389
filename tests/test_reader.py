"""What a reader meets first (issue 23): summaries cut at a real sentence end, quotations grouped by what they
say, a usable name for placeholder phrases, and quiet pages (no disagreement box for omission, no useless link box)."""
from __future__ import annotations

import re

import pytest

from httpref.merge import ABBREVIATIONS, first_sentence
from test_site import pages, parse_html  # noqa: F401  (pages is a fixture)


# --------------------------------------------------------------------------- summaries


@pytest.mark.parametrize("text, sentence", [
    ("The method specified in the request (e.g. POST, GET, DELETE) is not allowed. More.",
     "The method specified in the request (e.g. POST, GET, DELETE) is not allowed."),
    ("Use a safe method, i.e. GET or HEAD. Then retry.", "Use a safe method, i.e. GET or HEAD."),
    ("Headers, cookies etc. Are not the point? No.", "Headers, cookies etc. Are not the point?"),
    ("A proxy (it may say \"Retry. Later.\" to you) answers. Then stop.", "A proxy (it may say \"Retry. Later.\" to you) answers."),
    ("It says “Wait. Now.” twice. Then stop.", "It says “Wait. Now.” twice."),
    ("Compare 301 vs. 308 here. Then stop.", "Compare 301 vs. 308 here."),
    ("One sentence only", "One sentence only"),
])
def test_first_sentence_ends_at_a_real_sentence_end(text, sentence):
    assert first_sentence(text) == sentence


def summary_problems(summary: str) -> list[str]:
    problems = []
    if not re.search(r"[.!?][\"”’)]*\Z", summary):
        problems.append("does not end with sentence punctuation")
    if summary.count("(") != summary.count(")"):
        problems.append("unbalanced parentheses")
    if summary.rsplit(None, 1)[-1].casefold() in ABBREVIATIONS:
        problems.append("ends with an abbreviation")
    return problems


def test_every_summary_is_a_whole_sentence(reference):
    problems = {code.number: summary_problems(code.summary.summary) for code in reference.codes}
    assert {number: found for number, found in problems.items() if found} == {}


def test_every_summary_the_site_shows_is_a_whole_sentence(pages):
    """The lists' summary cells and every code page's meta description."""
    shown = [(path, cell.text().strip()) for path, page in pages.items()
             for cell in page.find_all("td", cls="col-summary")]
    shown += [(path, page.find("meta", name="description").attrs["content"].split(": ", 1)[1])
              for path, page in pages.items() if re.fullmatch(r"\d{3}/index\.html", path)]
    assert len(shown) > 82 * 2
    assert [(path, text) for path, text in shown if summary_problems(text)] == []


def test_405s_summary_is_not_cut_at_e_g(pages):
    row = pages["index.html"].find(id="405")
    assert "(e.g. POST, GET, DELETE) is not allowed for the resource." in row.text()
