"""Words: when two names, or two descriptions, say the same, and where a description's first sentence ends.
Plain functions of text, used by the merge."""
from __future__ import annotations

import functools
import re


@functools.lru_cache(maxsize=None)  # names recur in every source: 50,000 entries use about a thousand
def name_key(name: str) -> str:
    """What makes two spellings the same name: case, punctuation and a trailing "(WebDAV)" aside."""
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", name) or name
    return " ".join(re.findall(r"[a-z0-9]+", bare.casefold())) or name.casefold()


_WORD = re.compile(r"\w+")


def words_key(text: str) -> str:
    """What two descriptions share when they say the same: case, spacing, punctuation, Markdown and "can not" aside."""
    return " ".join(_WORD.findall(text.casefold().replace("can not", "cannot")))


# Words whose full stop ends no sentence ("(e.g. POST, GET)"), compared case-folded.
ABBREVIATIONS = ("e.g.", "i.e.", "etc.", "cf.", "vs.", "viz.", "approx.", "incl.", "resp.", "no.")
_SENTENCE_END = re.compile(r"[.!?](?=\s+[A-Z(`\"“])")
_OPENS, _CLOSES = "([{“", ")]}”"  # not ‘’: ’ is also an apostrophe


def first_sentence(text: str) -> str:
    """`text` up to its first full stop (or ! ?) that is followed by a new sentence, is outside parentheses and
    quotation marks, and ends no abbreviation; all of `text` when there is none."""
    depth, straight_quotes, start = 0, 0, 0
    for end in _SENTENCE_END.finditer(text):
        for char in text[start:end.start()]:
            depth += (char in _OPENS) - (char in _CLOSES)
            straight_quotes += char == '"'
        start = end.start()
        words = text[:end.end()].rsplit(None, 1)
        if depth <= 0 and straight_quotes % 2 == 0 and words[-1].casefold() not in ABBREVIATIONS:
            return text[:end.end()]
    return text
