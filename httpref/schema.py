"""The schema's machinery: field tables (key -> kind, required) and `Checker`, which checks one parsed
YAML document against them and records every problem with its line and column. The tables themselves
live with the typed records they make (validate.py, facts.py)."""
from __future__ import annotations

import difflib
import functools
import re
from typing import Any

from .load import KeyPath, WrittenNumber, YamlDoc
from .problems import Mark, Problem, cut, error, quoted, warning

# Field kinds: text (non-empty string), text? (string or null), url, url?, code, bool, list, map.
Fields = dict[str, tuple[str, bool]]


def describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {cut(value)!r}"
    if isinstance(value, WrittenNumber):
        return f"the number {quoted(value)} (YAML 1.1 reads it as {int(value)})"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "a mapping"


# An absolute http(s) address with a host, and no whitespace or control character anywhere: the one rule for
# every URL the content or the command line gives, the site's base URL included.
_URL = re.compile(r"https?://[^\s\x00-\x1f\x7f-\x9f/$.?#][^\s\x00-\x1f\x7f-\x9f]*\Z")


def kind_problem(kind: str, value: Any) -> str | None:
    """Why `value` is not of field kind `kind`, or None when it is."""
    if kind.endswith("?"):
        if value is None:
            return None
        kind = kind[:-1]
    if kind == "code":
        if isinstance(value, WrittenNumber):
            return f"must be written as three decimal digits, e.g. 404, not {describe(value)}"
        if isinstance(value, int) and not isinstance(value, bool):
            return None if 100 <= value <= 599 else f"must be from 100 to 599, not {value}"
        hint = " (remove the quotes)" if isinstance(value, str) and value.strip().isdigit() else ""
        return f"must be a whole number from 100 to 599, not {describe(value)}{hint}"
    if kind == "text":
        if isinstance(value, str) and value.strip():
            return None
        return "must not be empty" if isinstance(value, str) else f"must be text, not {describe(value)}"
    if kind == "url":
        if isinstance(value, str) and _URL.match(value):
            return None
        return f"must be an http:// or https:// address, not {describe(value)}"
    expected = {"bool": bool, "list": list, "map": dict}[kind]
    if isinstance(value, expected):
        return None
    return f"must be {'true or false' if kind == 'bool' else 'a ' + ('list' if kind == 'list' else 'mapping')}, " \
           f"not {describe(value)}"


class Checker:
    """Checks one YAML document against field tables, collecting every problem."""

    def __init__(self, doc: YamlDoc, problems: list[Problem]):
        self.doc = doc
        self.problems = problems
        self.ok = True

    def fail(self, mark: Mark, message: str) -> None:
        self.ok = False
        self.problems.append(error(self.doc.path, mark, message))

    def warn(self, mark: Mark, message: str) -> None:
        self.problems.append(warning(self.doc.path, mark, message))

    def mapping(self, value: Any, path: KeyPath, fields: Fields, what: str) -> dict | None:
        """`value` as a mapping whose keys and types match `fields`, or None."""
        if not isinstance(value, dict):
            self.fail(self.doc.mark(path), f"{what} must be a mapping with {_key_list(fields)}, "
                      f"not {describe(value)}")
            return None
        ok = True
        for key in value:
            if key not in fields:
                ok = False
                close = difflib.get_close_matches(key, list(fields), n=1, cutoff=0.6)
                hint = f"did you mean '{close[0]}'?" if close else f"expected {_key_list(fields)}"
                self.fail(self.doc.key_mark(path + (key,)), f"unknown key {quoted(key)} in {what}; {hint}")
        for key, (kind, required) in fields.items():
            if key not in value:
                if required:
                    ok = False
                    self.fail(self.doc.mark(path), f"{what} is missing required key '{key}'")
                continue
            problem = kind_problem(kind, value[key])
            if problem:
                ok = False
                self.fail(self.doc.mark(path + (key,)), f"'{key}' {problem}")
        return value if ok else None

    def items(self, value: dict, path: KeyPath, key: str, fields: Fields, what: str) -> list[tuple[KeyPath, dict]]:
        """The checked mappings of the list under `key` (absent: none)."""
        checked = []
        for index, item in enumerate(value.get(key) or []):
            item_path = path + (key, index)
            mapping = self.mapping(item, item_path, fields, what)
            if mapping is not None:
                checked.append((item_path, mapping))
        return checked

    def listed(self, fields: Fields, what: str, item: str) -> list[tuple[KeyPath, dict]]:
        """The checked mappings of a document that is a list of them (`what` names the list, `item` one of them)."""
        if not isinstance(self.doc.value, list):
            self.fail(self.doc.mark(()), f"{what} must be a list, not {describe(self.doc.value)}")
            return []
        checked = []
        for index, value in enumerate(self.doc.value):
            mapping = self.mapping(value, (index,), fields, f"{item} {index + 1}")
            if mapping is not None:
                checked.append(((index,), mapping))
        return checked


def _key_list(fields: Fields) -> str:
    return "keys " + ", ".join(fields)


# A name's URL is a folder of the site (`/not-found/`): one path component, which file systems cap at 255 bytes.
MAX_SLUG_BYTES = 255


@functools.lru_cache(maxsize=None)  # every page's names and headings, every build: a few thousand strings
def slugify(text: str) -> str:
    """One slug rule for every anchor and name URL (GitHub-style: "4XX Client errors" -> "4xx-client-errors")."""
    slug = re.sub(r"[^\w\s-]", "", text.casefold()).strip()
    return re.sub(r"[\s_-]+", "-", slug).strip("-")


@functools.lru_cache(maxsize=None)  # checked for every entry: 50,000 entries use about a thousand names
def slug_problem(name: str) -> str | None:
    """Why `name`'s URL cannot be written as a folder of the site, or None when it can."""
    size = len(slugify(name).encode())
    if size <= MAX_SLUG_BYTES:
        return None
    return f"name {quoted(name)} is too long to be a URL: its slug is {size} bytes and names a folder, which " \
           f"file systems cap at {MAX_SLUG_BYTES} bytes; shorten it"
