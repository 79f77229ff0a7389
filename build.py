#!/usr/bin/env python3
"""Build the HTTP status code reference: content/ -> site/.

The build is a pipeline: load -> validate -> merge -> render -> write.
Each stage takes the previous stage's data and returns its own; only `write_site`
and `write_bundle` touch the disk.

    python build.py [build] [--content DIR] [--out DIR] [--base-url URL] [--strict]
    python build.py check   [--content DIR] [--strict]
    python build.py serve   [--content DIR] [--host 127.0.0.1] [--port 8000]
    python build.py bundle  [--content DIR] [--out FILE]
"""
from __future__ import annotations

import argparse
import contextlib
import difflib
import functools
import gc
import hashlib
import json
import os
import posixpath
import re
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Hashable, Iterable, Iterator, TypeVar

import jinja2
import yaml
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin

ROOT = Path(__file__).resolve().parent
TEMPLATES = ROOT / "templates"
STATIC = ROOT / "static"

MAX_FILE_BYTES = 1_000_000  # no real source comes near; a bigger file is a mistake or an attack
MAX_DEPTH = 8  # the deepest real structure is 4 levels (registry -> meaning -> former_phrases -> item)
CLASS_KEYS = ("1xx", "2xx", "3xx", "4xx", "5xx")
# Class headings as the reference note words them, so the home page keeps its anchors.
CLASS_TITLES = {
    "1xx": "Informational",
    "2xx": "Success",
    "3xx": "Redirection",
    "4xx": "Client errors",
    "5xx": "Server errors",
}
STATUSES = ("standard", "deprecated", "unused", "unofficial")
SAFE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
RESERVED_SLUGS = {"api", "assets", "sources"} | set(CLASS_KEYS)


# --------------------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    col: int
    severity: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"


class BuildError(Exception):
    """A stage found problems it cannot build past; carries every one of them."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def error(path: str, mark: tuple[int, int], message: str) -> Problem:
    return Problem(path, mark[0], mark[1], "error", message)


def warning(path: str, mark: tuple[int, int], message: str) -> Problem:
    return Problem(path, mark[0], mark[1], "warning", message)


# --------------------------------------------------------------------------- load

Mark = tuple[int, int]  # 1-based line and column
KeyPath = tuple  # keys and list indexes from the document root


@dataclass(eq=False)  # equal means the same parse: in YAML values 1 == true, so equal values can differ
class YamlDoc:
    """A parsed YAML file: plain Python values, plus where each value and key stood."""

    path: str
    value: Any
    marks: dict[KeyPath, Mark] = field(default_factory=dict)
    key_marks: dict[KeyPath, Mark] = field(default_factory=dict)

    def mark(self, path: KeyPath) -> Mark:
        return self.marks.get(path, (1, 1))

    def key_mark(self, path: KeyPath) -> Mark:
        return self.key_marks.get(path, self.mark(path))


@dataclass
class PageFile:
    slug: str
    front: YamlDoc
    body: str


@dataclass
class LoadedContent:
    """Every content file parsed, not yet checked against the schema."""

    root: Path
    site: YamlDoc | None
    registry: YamlDoc | None
    sources: list[tuple[str, YamlDoc]]
    pages: list[PageFile]
    problems: list[Problem]


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_RESOLVER = yaml.resolver.Resolver()
_CONSTRUCTOR = yaml.constructor.SafeConstructor()
_TAG = "tag:yaml.org,2002:"
_SCALAR_TYPES = {
    _TAG + "str": None,
    _TAG + "int": _CONSTRUCTOR.construct_yaml_int,
    _TAG + "float": _CONSTRUCTOR.construct_yaml_float,
    _TAG + "bool": _CONSTRUCTOR.construct_yaml_bool,
    _TAG + "null": _CONSTRUCTOR.construct_yaml_null,
    _TAG + "timestamp": None,  # kept as the text written
}


def _mark(event_mark) -> Mark:
    return (event_mark.line + 1, event_mark.column + 1)


def decode_text(data: bytes, path: str, problems: list[Problem]) -> str | None:
    """UTF-8 text of a content file (a byte-order mark is accepted and dropped)."""
    if len(data) > MAX_FILE_BYTES:
        problems.append(_too_big(path, len(data)))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        problems.append(error(path, (line, col), f"not valid UTF-8 (byte 0x{data[exc.start]:02x}); "
                              "save the file as UTF-8"))
        return None
    return text.removeprefix("\ufeff")


def _too_big(path: str, size: int) -> Problem:
    return error(path, (1, 1), f"file is {size / 1e6:.1f} MB; "
                 f"content files are limited to {MAX_FILE_BYTES // 1_000_000} MB")


def _yaml_problem(path: str, text: str, exc: yaml.YAMLError) -> Problem:
    mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
    if mark is not None:
        where = (mark.line + 1, mark.column + 1)
    else:  # a ReaderError only knows the character offset
        offset = getattr(exc, "position", 0)
        where = (text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1)
    detail = getattr(exc, "problem", None) or getattr(exc, "reason", None) or str(exc)
    lines = text.split("\n")
    line_text = lines[where[0] - 1] if where[0] <= len(lines) else ""
    if "tab character" in detail or line_text[where[1] - 1:where[1]] == "\t":
        detail = "a tab character cannot indent YAML; indent with spaces"
    elif getattr(exc, "context", None) and exc.context_mark is not None and exc.context_mark is not mark:
        # libyaml's context says where the unfinished thing (a quote, a bracket) began
        detail += f" ({exc.context} that starts at line {exc.context_mark.line + 1}, " \
                  f"column {exc.context_mark.column + 1})"
    return error(path, where, f"YAML syntax: {detail}")


class _Frame:
    """A mapping or list being filled while the YAML event stream is read."""

    __slots__ = ("container", "path", "key", "keys_seen")

    def __init__(self, container, path):
        self.container = container
        self.path = path
        self.key = _NO_KEY
        self.keys_seen: dict[str, Mark] = {}


_NO_KEY = object()
_BAD_KEY = object()


def parse_yaml(text: str, path: str, problems: list[Problem]) -> YamlDoc | None:
    """Plain values from YAML text, read from the event stream.

    Reading events (not PyYAML's composer) keeps memory bounded and avoids recursion:
    aliases are refused rather than expanded (no "billion laughs"), nesting depth is
    capped, duplicate keys are caught (PyYAML keeps the last silently), and only the
    plain YAML types are allowed (no `!!python/object`).
    """
    doc = YamlDoc(path, None)
    stack: list[_Frame] = []
    documents = 0
    found_errors = False
    aliases_seen = False

    def fail(mark: Mark, message: str) -> None:
        nonlocal found_errors
        found_errors = True
        problems.append(error(path, mark, message))

    def place(value: Any, mark: Mark) -> None:
        if not stack:
            doc.value = value
            doc.marks[()] = mark
            return
        frame = stack[-1]
        if isinstance(frame.container, list):
            child = frame.path + (len(frame.container),)
            frame.container.append(value)
            doc.marks.setdefault(child, mark)
        elif frame.key is _NO_KEY:
            if isinstance(value, (dict, list)) or value is _BAD_KEY:
                fail(mark, "a mapping key must be a plain word, not a list or mapping")
                frame.key = _BAD_KEY
                return
            key = "" if value is None else str(value)
            if key in frame.keys_seen:
                line = frame.keys_seen[key][0]
                fail(mark, f"duplicated key '{key}' (first at line {line}); "
                     "YAML would silently keep only the last one")
                frame.key = _BAD_KEY
                return
            frame.keys_seen[key] = mark
            doc.key_marks[frame.path + (key,)] = mark
            frame.key = key
        else:
            if frame.key is not _BAD_KEY:
                frame.container[frame.key] = value
                doc.marks.setdefault(frame.path + (frame.key,), mark)
            frame.key = _NO_KEY

    def child_path() -> KeyPath:
        if not stack:
            return ()
        frame = stack[-1]
        if isinstance(frame.container, list):
            return frame.path + (len(frame.container),)
        if frame.key is _NO_KEY:  # a collection used as a key; it is refused in place()
            return frame.path + ("?",)
        return frame.path + (frame.key,)

    def check_tag(event, expected: str) -> None:
        if event.tag not in (None, "!", _TAG + expected):
            fail(_mark(event.start_mark), f"YAML tag '{event.tag.replace(_TAG, '!!')}' is not allowed in content")

    try:
        for event in yaml.parse(text, Loader=_Loader):
            mark = _mark(event.start_mark)
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    fail(mark, "a content file holds one YAML document; found a second '---'")
                    break
            elif isinstance(event, yaml.AliasEvent):
                if not aliases_seen:  # one report per file: a "billion laughs" file holds thousands
                    fail(mark, f"YAML alias '*{event.anchor}' is not allowed in content; write the value out")
                aliases_seen = True
                place(None, mark)
            elif isinstance(event, yaml.ScalarEvent):
                place(_scalar(event, fail), mark)
            elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                is_list = isinstance(event, yaml.SequenceStartEvent)
                check_tag(event, "seq" if is_list else "map")
                if len(stack) >= MAX_DEPTH:
                    fail(mark, f"nested more than {MAX_DEPTH} levels deep")
                    return None
                frame = _Frame([] if is_list else {}, child_path())
                doc.marks.setdefault(frame.path, mark)
                stack.append(frame)
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                frame = stack.pop()
                place(frame.container, doc.mark(frame.path))
    except yaml.YAMLError as exc:
        problems.append(_yaml_problem(path, text, exc))
        return None
    if documents == 0 or (doc.value is None and not found_errors):
        problems.append(error(path, (1, 1), "file is empty"))
        return None
    return None if found_errors else doc


def _scalar(event, fail: Callable[[Mark, str], None]) -> Any:
    tag = event.tag
    if tag in (None, "!"):
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag not in _SCALAR_TYPES:
        fail(_mark(event.start_mark), f"YAML tag '{tag.replace(_TAG, '!!')}' is not allowed in content")
        return None
    construct = _SCALAR_TYPES[tag]
    if construct is None:
        return event.value
    try:
        return construct(yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark))
    except (ValueError, yaml.YAMLError):
        fail(_mark(event.start_mark), f"cannot read {event.value!r} as {tag.replace(_TAG, '')}")
        return None


def read_yaml_file(file: Path, shown: str, problems: list[Problem]) -> YamlDoc | None:
    text = read_text(file, shown, problems)
    return None if text is None else parse_yaml(text, shown, problems)


def read_text(file: Path, shown: str, problems: list[Problem]) -> str | None:
    try:
        with open(file, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            data = handle.read(MAX_FILE_BYTES + 1)  # never more: a huge file must not fill memory
    except OSError as exc:
        problems.append(error(shown, (1, 1), f"cannot read: {exc.strerror}"))
        return None
    if max(size, len(data)) > MAX_FILE_BYTES:
        problems.append(_too_big(shown, max(size, len(data))))
        return None
    return decode_text(data, shown, problems)


def split_front_matter(text: str, shown: str, problems: list[Problem]) -> tuple[YamlDoc | None, str]:
    """A Markdown page's YAML front matter (between `---` lines) and its body."""
    match = re.match(r"---[ \t]*\n(.*?\n)?---[ \t]*(?:\n|\Z)", text, re.S)
    if not match:
        problems.append(error(shown, (1, 1), "a page starts with YAML front matter between '---' lines"))
        return None, ""
    # The blank first line keeps YAML's line numbers equal to the file's.
    front = parse_yaml("\n" + (match.group(1) or ""), shown, problems)
    return front, text[match.end():]


class FileCache:
    """Parsed files by path and stat, so `serve` re-reads only what changed."""

    def __init__(self):
        self._entries: dict[Path, tuple[tuple, Any, list[Problem]]] = {}

    def get(self, file: Path, parse: Callable[[list[Problem]], Any]) -> tuple[Any, list[Problem]]:
        try:
            info = file.stat()
            signature = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            signature = None
        cached = self._entries.get(file)
        if cached is not None and signature is not None and cached[0] == signature:
            return cached[1], cached[2]
        problems: list[Problem] = []
        result = parse(problems)
        self._entries[file] = (signature, result, problems)
        return result, problems


T = TypeVar("T")


class Memo:
    """Stage results kept from one build to the next with the inputs they were made from, for `serve`.

    Inputs are tuples compared with `==`, which tries `is` on each item first: an unchanged file
    comes back from `FileCache` as the same object, and so does every result memoised from it, so
    a save costs identity checks for all it did not change. `sweep()` after a good build drops
    the results that build did not use.
    """

    def __init__(self):
        self._kept: dict[Hashable, tuple[tuple, Any]] = {}
        self._used: dict[Hashable, tuple[tuple, Any]] = {}

    def get(self, slot: Hashable, inputs: tuple, make: Callable[[], T]) -> T:
        """The result kept in `slot` if it was made from equal `inputs`, else `make()`'s."""
        kept = self._used.get(slot) or self._kept.get(slot)
        if kept is None or kept[0] != inputs:
            kept = (inputs, make())
        self._used[slot] = kept
        return kept[1]

    def sweep(self) -> None:
        self._kept, self._used = self._used, {}


def load(content: Path, cache: FileCache | None = None) -> LoadedContent:
    """Read and parse every file under `content/`."""
    cache = cache or FileCache()
    problems: list[Problem] = []

    def yaml_at(file: Path) -> YamlDoc | None:
        doc, found = cache.get(file, lambda out: read_yaml_file(file, str(file), out))
        problems.extend(found)
        return doc

    def required(name: str) -> YamlDoc | None:
        file = content / name
        if not file.is_file():
            problems.append(error(str(file), (1, 1), f"missing: every content folder has a {name}"))
            return None
        return yaml_at(file)

    if not content.is_dir():
        raise BuildError([error(str(content), (1, 1), "content folder not found")])
    site = required("site.yaml")
    registry = required("registry.yaml")
    sources = []
    for file in _listing(content / "sources", problems):
        source_id = file.name.removesuffix(".yaml")
        if not file.name.endswith(".yaml"):
            problems.append(error(str(file), (1, 1), "not a source file: sources are named <id>.yaml"))
        elif not SAFE_ID.match(source_id) or len(source_id) > 40:
            problems.append(error(str(file), (1, 1), f"source id '{source_id}' is not a safe id: use "
                                  "lowercase letters, digits and single hyphens, e.g. 'my-source.yaml'"))
        else:
            doc = yaml_at(file)
            if doc is not None:
                sources.append((source_id, doc))
    pages = []
    for file in _listing(content / "pages", problems):
        slug = file.name.removesuffix(".md")
        if not file.name.endswith(".md") or not SAFE_ID.match(slug) or slug in RESERVED_SLUGS or slug.isdigit():
            problems.append(error(str(file), (1, 1), f"page file '{file.name}' must be <slug>.md with a safe "
                                  f"slug that is not a code or one of: {', '.join(sorted(RESERVED_SLUGS))}"))
            continue
        page, found = cache.get(file, lambda out, f=file: _read_page(f, out))
        problems.extend(found)
        if page is not None:
            pages.append(page)
    return LoadedContent(content, site, registry, sources, pages, problems)


def _listing(folder: Path, problems: list[Problem]) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(f for f in folder.iterdir() if not f.name.startswith("."))


def _read_page(file: Path, problems: list[Problem]) -> PageFile | None:
    text = read_text(file, str(file), problems)
    if text is None:
        return None
    front, body = split_front_matter(text, str(file), problems)
    return None if front is None else PageFile(file.name.removesuffix(".md"), front, body)


# --------------------------------------------------------------------------- validate


@dataclass(frozen=True)
class Site:
    title: str
    description: str
    base_url: str | None


@dataclass(frozen=True)
class Category:
    heading: str
    description: str


@dataclass(frozen=True)
class Entry:
    code: int
    name: str
    description: str


@dataclass(frozen=True)
class Erratum:
    code: int | None
    note: str


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    url: str | None
    license: str | None
    note: str
    categories: tuple[tuple[str, Category], ...]
    entries: tuple[Entry, ...]
    errata: tuple[Erratum, ...]


@dataclass(frozen=True)
class FormerPhrase:
    phrase: str
    source: str
    url: str | None


@dataclass(frozen=True)
class Meaning:
    """One registry entry: a number can carry several meanings (e.g. 530)."""

    code: int
    phrase: str
    spec: str | None
    section: str | None
    url: str | None
    status: str
    origin: str
    registered: bool
    notes: str
    former_phrases: tuple[FormerPhrase, ...]
    also_known_as: tuple[str, ...]


@dataclass(frozen=True)
class Page:
    slug: str
    title: str
    description: str
    sitemap: bool
    body: str


@dataclass(frozen=True)
class Content:
    site: Site
    meanings: tuple[Meaning, ...]
    sources: tuple[Source, ...]
    pages: tuple[Page, ...]
    warnings: tuple[Problem, ...]


# Field kinds: text (non-empty string), text? (string or null), url, url?, code, bool, list, map.
Fields = dict[str, tuple[str, bool]]
SITE_FIELDS: Fields = {"title": ("text", True), "description": ("text", True), "base_url": ("url", False)}
SOURCE_FIELDS: Fields = {
    "title": ("text", True), "url": ("url", False), "license": ("text", False), "note": ("text", False),
    "categories": ("map", False), "entries": ("list", True), "errata": ("list", False),
}
CATEGORY_FIELDS: Fields = {"heading": ("text", True), "description": ("text", False)}
ENTRY_FIELDS: Fields = {"code": ("code", True), "name": ("text", True), "description": ("text", True)}
ERRATUM_FIELDS: Fields = {"code": ("code", False), "note": ("text", True)}
MEANING_FIELDS: Fields = {
    "code": ("code", True), "phrase": ("text", True), "spec": ("text?", True), "section": ("text?", True),
    "url": ("url?", True), "status": ("text", True), "origin": ("text", True), "registered": ("bool", True),
    "registration": ("text", False), "iana_ref": ("text", False), "notes": ("text", False),
    "former_phrases": ("list", False), "also_known_as": ("list", False), "class": ("text", True),
}
FORMER_FIELDS: Fields = {"phrase": ("text", True), "source": ("text", True), "url": ("url", False)}
PAGE_FIELDS: Fields = {"title": ("text", True), "description": ("text", True), "sitemap": ("bool", False)}


def describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "a mapping"


def kind_problem(kind: str, value: Any) -> str | None:
    """Why `value` is not of field kind `kind`, or None when it is."""
    if kind.endswith("?"):
        if value is None:
            return None
        kind = kind[:-1]
    if kind == "code":
        if isinstance(value, int) and not isinstance(value, bool):
            return None if 100 <= value <= 599 else f"must be from 100 to 599, not {value}"
        hint = " (remove the quotes)" if isinstance(value, str) and value.strip().isdigit() else ""
        return f"must be a whole number from 100 to 599, not {describe(value)}{hint}"
    if kind == "text":
        if isinstance(value, str) and value.strip():
            return None
        return "must not be empty" if isinstance(value, str) else f"must be text, not {describe(value)}"
    if kind == "url":
        if isinstance(value, str) and re.match(r"https?://[^\s/$.?#][^\s]*\Z", value):
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
                self.fail(self.doc.key_mark(path + (key,)), f"unknown key '{key}' in {what}; {hint}")
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


def _key_list(fields: Fields) -> str:
    return "keys " + ", ".join(fields)


def validate(loaded: LoadedContent, memo: Memo | None = None) -> Content:
    """Typed content from the parsed files; raises BuildError listing every error.

    With a `memo` (`serve`), only files parsed anew since the last build are checked again.
    """
    memo = memo or Memo()
    problems = list(loaded.problems)

    def checked(slot: Hashable, inputs: tuple, check: Callable[[list[Problem]], T]) -> T:
        result, found = memo.get(("validate", slot), inputs, lambda: _with_problems(check))
        problems.extend(found)
        return result

    site = checked("site", (loaded.site,), lambda out: _validate_site(loaded.site, out)) if loaded.site else None
    meanings = checked("registry", (loaded.registry,),
                       lambda out: _validate_registry(loaded.registry, out)) if loaded.registry else ()
    sources = tuple(
        source for source_id, doc in loaded.sources
        if (source := checked(("source", source_id), (doc,),
                              lambda out: _validate_source(source_id, doc, out))) is not None
    )
    pages = tuple(
        page for file in loaded.pages
        if (page := checked(("page", file.slug), (file,), lambda out: _validate_page(file, out))) is not None
    )
    if meanings:
        registered = frozenset(meaning.code for meaning in meanings)
        for source_id, doc in loaded.sources:
            checked(("registered", source_id), (doc, registered), lambda out: _unregistered(doc, registered, out))
    errors = [p for p in problems if p.severity == "error"]
    if errors or site is None:
        raise BuildError(sorted_problems(problems))
    return Content(site, meanings, sources, pages, tuple(p for p in problems if p.severity == "warning"))


def _with_problems(check: Callable[[list[Problem]], T]) -> tuple[T, tuple[Problem, ...]]:
    """What `check(problems)` returns, and the problems it found."""
    found: list[Problem] = []
    return check(found), tuple(found)


def _unregistered(doc: YamlDoc, registered: frozenset[int], problems: list[Problem]) -> None:
    """Warn of each code a source describes that the registry lacks."""
    entries = doc.value.get("entries") if isinstance(doc.value, dict) else None
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        code = entry.get("code") if isinstance(entry, dict) else None
        if isinstance(code, int) and 100 <= code <= 599 and code not in registered:
            problems.append(warning(doc.path, doc.mark(("entries", index, "code")),
                                    f"code {code} is not in the registry; its page will have no spec facts"))


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.col, p.message))


def _validate_site(doc: YamlDoc, problems: list[Problem]) -> Site | None:
    fields = Checker(doc, problems).mapping(doc.value, (), SITE_FIELDS, "site.yaml")
    if fields is None:
        return None
    return Site(fields["title"], fields["description"], _with_slash(fields.get("base_url")))


def _with_slash(url: str | None) -> str | None:
    return None if url is None else url.rstrip("/") + "/"


def _validate_registry(doc: YamlDoc, problems: list[Problem]) -> tuple[Meaning, ...]:
    check = Checker(doc, problems)
    if not isinstance(doc.value, list):
        check.fail(doc.mark(()), f"the registry must be a list of codes, not {describe(doc.value)}")
        return ()
    meanings = []
    seen: dict[tuple[int, str], int] = {}
    for index, item in enumerate(doc.value):
        path = (index,)
        fields = check.mapping(item, path, MEANING_FIELDS, f"registry entry {index + 1}")
        if fields is None:
            continue
        code = fields["code"]
        if fields["class"] != f"{code // 100}xx":
            check.fail(doc.mark(path + ("class",)),
                       f"class '{fields['class']}' contradicts code {code} (expected {code // 100}xx)")
        if fields["status"] not in STATUSES:
            check.fail(doc.mark(path + ("status",)), f"status '{fields['status']}' is not one of: "
                       + ", ".join(STATUSES))
        key = (code, fields["phrase"].casefold())
        if key in seen:
            check.fail(doc.mark(path), f"code {code} '{fields['phrase']}' is listed twice "
                       f"(first at line {doc.mark((seen[key],))[0]})")
        seen[key] = index
        former = tuple(
            FormerPhrase(f["phrase"], f["source"], f.get("url"))
            for _, f in check.items(fields, path, "former_phrases", FORMER_FIELDS, "a former phrase")
        )
        aliases = fields.get("also_known_as") or []
        for alias_index, alias in enumerate(aliases):
            problem = kind_problem("text", alias)
            if problem:
                check.fail(doc.mark(path + ("also_known_as", alias_index)), f"an also_known_as name {problem}")
        meanings.append(Meaning(
            code, fields["phrase"], _text(fields["spec"]), _text(fields["section"]), fields["url"],
            fields["status"], fields["origin"], fields["registered"], fields.get("notes", ""),
            former, tuple(str(a) for a in aliases),
        ))
    return tuple(meanings) if check.ok else ()


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _validate_source(source_id: str, doc: YamlDoc, problems: list[Problem]) -> Source | None:
    check = Checker(doc, problems)
    fields = check.mapping(doc.value, (), SOURCE_FIELDS, "a source")
    if fields is None:
        if not isinstance(doc.value, dict):
            return None
        # Keep checking the well-typed fields, so one run reports every problem in the file.
        fields = {key: value for key, value in doc.value.items()
                  if key in SOURCE_FIELDS and not kind_problem(SOURCE_FIELDS[key][0], value)}
    categories = []
    for key, category in (fields.get("categories") or {}).items():
        if key not in CLASS_KEYS:
            close = difflib.get_close_matches(key, CLASS_KEYS, n=1)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            check.fail(doc.key_mark(("categories", key)), f"class key '{key}' is not one of "
                       f"{', '.join(CLASS_KEYS)}{hint}")
            continue
        checked = check.mapping(category, ("categories", key), CATEGORY_FIELDS, f"category {key}")
        if checked is not None:
            categories.append((key, Category(checked["heading"], checked.get("description", ""))))
    entries: dict[int, tuple[KeyPath, Entry]] = {}
    for path, item in check.items(fields, (), "entries", ENTRY_FIELDS, "an entry"):
        entry = Entry(item["code"], item["name"], item["description"])
        if entry.code in entries:
            first_path, first = entries[entry.code]
            first_line = doc.mark(first_path)[0]
            if first == entry:
                check.warn(doc.mark(path + ("code",)), f"code {entry.code} is listed twice with the same "
                           f"text (first at line {first_line}); the repeat is ignored")
            else:
                check.fail(doc.mark(path + ("code",)), f"code {entry.code} is listed twice with different "
                           f"text (first at line {first_line})")
            continue
        entries[entry.code] = (path, entry)
    errata = tuple(
        Erratum(item.get("code"), item["note"])
        for _, item in check.items(fields, (), "errata", ERRATUM_FIELDS, "an erratum")
    )
    if not check.ok:
        return None
    return Source(source_id, fields["title"], fields.get("url"), fields.get("license"), fields.get("note", ""),
                  tuple(sorted(categories)), tuple(entry for _, entry in entries.values()), errata)


def _validate_page(file: PageFile, problems: list[Problem]) -> Page | None:
    fields = Checker(file.front, problems).mapping(file.front.value, (), PAGE_FIELDS, "front matter")
    if fields is None:
        return None
    return Page(file.slug, fields["title"], fields["description"], fields.get("sitemap", True), file.body)


# --------------------------------------------------------------------------- merge


@dataclass(frozen=True)
class SourceRef:
    """What a page needs to attribute a quotation."""

    id: str
    title: str
    url: str | None


@dataclass(frozen=True)
class Quote:
    """One source's words about one code."""

    source: SourceRef
    name: str
    description: str


@dataclass(frozen=True)
class Alias:
    """A name for a code other than its canonical phrase, and who uses it."""

    name: str
    sources: tuple[SourceRef, ...]
    documents: tuple[FormerPhrase, ...]  # specs and products that used the name


@dataclass(frozen=True)
class NameUse:
    name: str
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True)
class CodeRef:
    """What a link to a code shows (source pages, neighbours): a summary's edit leaves it equal."""

    number: int
    phrase: str


@dataclass(frozen=True)
class CodeSummary:
    """A code as lists show it: home page, class pages, name pages."""

    number: int
    phrase: str
    status: str
    origin: str
    summary: str  # Markdown, one sentence


@dataclass(frozen=True)
class Code:
    number: int
    class_key: str
    phrase: str
    status: str
    meanings: tuple[Meaning, ...]
    aliases: tuple[Alias, ...]
    quotes: tuple[Quote, ...]
    names: tuple[NameUse, ...]  # each distinct name the sources use, with its users
    omitted_by: tuple[SourceRef, ...]
    errata: tuple[tuple[SourceRef, Erratum], ...]
    ref: CodeRef
    summary: CodeSummary

    @property
    def sources_disagree(self) -> bool:
        return bool(self.quotes) and (len(self.names) > 1 or bool(self.omitted_by))


@dataclass(frozen=True)
class StatusClass:
    key: str  # "4xx"
    title: str  # "Client errors"
    heading: str  # "4xx Client errors"
    anchor: str  # "4xx-client-errors", as the reference note slugs it
    definitions: tuple[tuple[SourceRef, Category], ...]
    codes: tuple[CodeSummary, ...]


@dataclass(frozen=True)
class Difference:
    """A name a source gives a code that differs from the canonical phrase."""

    code: int
    name: str
    phrase: str


@dataclass(frozen=True)
class SourcePage:
    source: Source
    ref: SourceRef
    covers: tuple[CodeRef, ...]
    lacks: tuple[CodeRef, ...]
    differences: tuple[Difference, ...]


@dataclass(frozen=True)
class NameRoute:
    """A URL made of a name (`/not-found/`) and the codes that go by that name."""

    slug: str
    name: str
    codes: tuple[CodeSummary, ...]


@dataclass(frozen=True)
class Reference:
    """The merged model every page is rendered from."""

    site: Site
    codes: tuple[Code, ...]
    classes: tuple[StatusClass, ...]
    sources: tuple[SourcePage, ...]
    pages: tuple[Page, ...]
    names: tuple[NameRoute, ...]


@functools.lru_cache(maxsize=None)  # every page's names and headings, every build: a few thousand strings
def slugify(text: str) -> str:
    """One slug rule for every anchor and name URL (GitHub-style: "4XX Client errors" -> "4xx-client-errors")."""
    slug = re.sub(r"[^\w\s-]", "", text.casefold()).strip()
    return re.sub(r"[\s_-]+", "-", slug).strip("-")


@functools.lru_cache(maxsize=None)  # names recur in every source: 50,000 entries use about a thousand
def name_key(name: str) -> str:
    """What makes two spellings the same name: case, punctuation and a trailing "(WebDAV)" aside."""
    bare = re.sub(r"\s*\([^)]*\)\s*$", "", name) or name
    return " ".join(re.findall(r"[a-z0-9]+", bare.casefold())) or name.casefold()


def merge(content: Content, memo: Memo | None = None) -> Reference:
    """One `Code` per number in the union of registry and sources, plus classes, sources and names.

    With a `memo` (`serve`), a code, or a source's page, whose inputs are unchanged is the same object as
    last time, which tells the renderer its pages are unchanged at the cost of an identity check.
    """
    memo = memo or Memo()
    quoted = {source.id: memo.get(("quotes", source.id), (source,), lambda: _quotes(source))
              for source in content.sources}
    refs = {source_id: ref for source_id, (ref, _) in quoted.items()}
    meanings_by_code: dict[int, list[Meaning]] = {}
    for meaning in content.meanings:
        meanings_by_code.setdefault(meaning.code, []).append(meaning)
    quotes_by_code: dict[int, list[Quote]] = {}
    for source in content.sources:
        for entry, quote in zip(source.entries, quoted[source.id][1]):
            quotes_by_code.setdefault(entry.code, []).append(quote)
    errata_by_code: dict[int, list[tuple[SourceRef, Erratum]]] = {}
    for source in content.sources:
        for erratum in source.errata:
            if erratum.code is not None:
                errata_by_code.setdefault(erratum.code, []).append((refs[source.id], erratum))
    all_refs = tuple(refs.values())
    codes = []
    for number in sorted(meanings_by_code.keys() | quotes_by_code.keys()):
        inputs = (tuple(meanings_by_code.get(number, ())), tuple(quotes_by_code.get(number, ())), all_refs,
                  tuple(errata_by_code.get(number, ())))
        codes.append(memo.get(("code", number), inputs, lambda: _merge_code(number, *inputs)))
    codes = tuple(codes)
    classes = tuple(_status_class(key, codes, content.sources, refs) for key in CLASS_KEYS)
    code_refs = tuple(code.ref for code in codes)
    sources = tuple(
        memo.get(("source page", source.id), (source, refs[source.id], code_refs),
                 lambda: _source_page(source, refs[source.id], code_refs))
        for source in content.sources
    )
    taken = {page.slug for page in content.pages}
    return Reference(content.site, codes, classes, sources, content.pages, _name_routes(codes, taken))


def _quotes(source: Source) -> tuple[SourceRef, tuple[Quote, ...]]:
    """How pages attribute `source`, and its words about each code, in the order of its entries."""
    ref = SourceRef(source.id, source.title, source.url)
    return ref, tuple(Quote(ref, entry.name, entry.description) for entry in source.entries)


def _merge_code(number: int, meanings: tuple[Meaning, ...], quotes: tuple[Quote, ...],
                all_refs: tuple[SourceRef, ...], errata: tuple[tuple[SourceRef, Erratum], ...]) -> Code:
    names = _names_in_use(quotes)
    phrase = meanings[0].phrase if meanings else max(names, key=lambda use: len(use.sources)).name
    status = meanings[0].status if meanings else "unofficial"
    origin = meanings[0].origin if meanings else "unknown"
    quoted = {quote.source.id for quote in quotes}
    summary = CodeSummary(number, phrase, status, origin, _summary(quotes, meanings))
    return Code(
        number=number, class_key=f"{number // 100}xx", phrase=phrase, status=status, meanings=meanings,
        aliases=_aliases(phrase, meanings, names), quotes=quotes, names=names,
        omitted_by=tuple(ref for ref in all_refs if ref.id not in quoted), errata=errata,
        ref=CodeRef(number, phrase), summary=summary,
    )


def _names_in_use(quotes: tuple[Quote, ...]) -> tuple[NameUse, ...]:
    """Distinct names (by `name_key`) in source order, each spelled as its first user spells it."""
    uses: dict[str, NameUse] = {}
    for quote in quotes:
        key = name_key(quote.name)
        known = uses.get(key)
        uses[key] = NameUse(known.name if known else quote.name, (known.sources if known else ()) + (quote.source,))
    return tuple(uses.values())


def _aliases(phrase: str, meanings: tuple[Meaning, ...], names: tuple[NameUse, ...]) -> tuple[Alias, ...]:
    """Every name but the code's phrase and its meanings' phrases, with who uses each."""
    phrases = {name_key(meaning.phrase) for meaning in meanings} | {name_key(phrase)}
    aliases: dict[str, Alias] = {}

    def add(name: str, sources: tuple[SourceRef, ...] = (), documents: tuple[FormerPhrase, ...] = ()) -> None:
        key = name_key(name)
        if key in phrases:
            return
        known = aliases.get(key, Alias(name, (), ()))
        aliases[key] = Alias(known.name, known.sources + sources, known.documents + documents)

    for meaning in meanings:
        for former in meaning.former_phrases:
            add(former.phrase, documents=(former,))
        for other in meaning.also_known_as:
            add(other, documents=(FormerPhrase(other, meaning.origin, meaning.url),))
    for use in names:
        add(use.name, sources=use.sources)
    return tuple(aliases.values())


def _summary(quotes: tuple[Quote, ...], meanings: tuple[Meaning, ...]) -> str:
    """The first sentence of the first source's words, for lists; registry notes when no source speaks."""
    if quotes:
        text = quotes[0].description.split("\n\n")[0].replace("\n", " ").strip()
        sentence = re.match(r"(.+?[.!?])(?=\s+[A-Z(`\"“])", text)
        return sentence.group(1) if sentence else text
    meaning = meanings[0]
    return meaning.notes or f"Defined by {meaning.origin}; no source describes it yet."


def _status_class(key: str, codes: tuple[Code, ...], sources: tuple[Source, ...],
                  refs: dict[str, SourceRef]) -> StatusClass:
    heading = f"{key} {CLASS_TITLES[key]}"
    definitions = tuple(
        (refs[source.id], category)
        for source in sources for class_key, category in source.categories if class_key == key
    )
    members = tuple(code.summary for code in codes if code.class_key == key)
    return StatusClass(key, CLASS_TITLES[key], heading, slugify(heading), definitions, members)


def _source_page(source: Source, ref: SourceRef, codes: tuple[CodeRef, ...]) -> SourcePage:
    listed = {entry.code for entry in source.entries}
    phrases = {code.number: code.phrase for code in codes}
    differences = tuple(
        Difference(entry.code, entry.name, phrases[entry.code])
        for entry in sorted(source.entries, key=lambda e: e.code)
        if name_key(entry.name) != name_key(phrases[entry.code])
    )
    return SourcePage(
        source, ref,
        covers=tuple(code for code in codes if code.number in listed),
        lacks=tuple(code for code in codes if code.number not in listed),
        differences=differences,
    )


def _name_routes(codes: tuple[Code, ...], taken: set[str]) -> tuple[NameRoute, ...]:
    """A URL for every canonical phrase, meaning and alias; a shared name lists all its codes.

    Slugs `taken` by Markdown pages stay theirs: a page is written content, a name URL a convenience.
    """
    routes: dict[str, tuple[str, list[CodeSummary]]] = {}
    for code in codes:
        names = [code.phrase] + [m.phrase for m in code.meanings] + [a.name for a in code.aliases]
        for name in names:
            slug = slugify(name)
            if not slug or slug.isdigit() or slug in RESERVED_SLUGS or slug in taken:
                continue
            _, members = routes.setdefault(slug, (name, []))
            if code.summary not in members:
                members.append(code.summary)
    return tuple(NameRoute(slug, name, tuple(members)) for slug, (name, members) in sorted(routes.items()))


# --------------------------------------------------------------------------- render

HOSTED, BUNDLE, DEV = "hosted", "bundle", "dev"


@dataclass(frozen=True)
class Options:
    mode: str = HOSTED  # hosted: hashed assets, directory URLs; bundle: index.html URLs; dev: plain asset names
    base_url: str | None = None


@dataclass(frozen=True)
class PageSpec:
    """Everything one output page depends on; equal specs render equal bytes."""

    path: str  # output file, e.g. "404/index.html"
    template: str
    title: str
    description: str
    sitemap: bool
    crumbs: tuple[tuple[str, str], ...]  # (label, target) from Home down, the page itself excluded
    data: tuple[tuple[str, Any], ...]  # the page kind's own context
    footer: tuple[tuple[str, str], ...] = ()  # (slug, title) of the Markdown pages every page links to


def target_of(path: str) -> str:
    """The link target of an output file: "404/index.html" -> "404/"."""
    return path.removesuffix("index.html")


class Links:
    """Turns site-relative targets ("404/", "4xx/#404", "assets/x.css") into URLs for one page."""

    def __init__(self, page_path: str, options: Options, absolute_root: str | None = None):
        self.page_dir = posixpath.dirname(page_path)
        self.options = options
        self.absolute_root = absolute_root  # for 404.html, which hosts serve at any depth

    def __call__(self, target: str) -> str:
        target, hash_, fragment = target.partition("#")
        if target == "" and hash_:
            return "#" + fragment
        is_dir = target == "" or target.endswith("/")
        if self.options.mode == BUNDLE and is_dir:
            target += "index.html"
            is_dir = False
        if self.absolute_root is not None:
            url = self.absolute_root + target
        else:
            url = _relative(target, self.page_dir)
            if is_dir:
                url = "./" if url == "." else url + "/"
        return url + hash_ + fragment

    def canonical(self, target: str) -> str | None:
        base = self.options.base_url
        return None if base is None else base + target


def _relative(target: str, start: str) -> str:
    """`posixpath.relpath` for site paths, minus its `getcwd` calls (a fifth of a large build's time)."""
    path = [part for part in target.split("/") if part not in ("", ".")]
    base = [part for part in start.split("/") if part not in ("", ".")]
    if target.startswith("/") or ".." in path or ".." in base:
        return posixpath.relpath(target or ".", start or ".")
    common = 0
    while common < len(path) and common < len(base) and path[common] == base[common]:
        common += 1
    return "/".join([".."] * (len(base) - common) + path[common:]) or "."


class Markdown:
    """The one Markdown renderer for every description, note and page; results are memoised."""

    def __init__(self):
        self.md = MarkdownIt("commonmark", {"html": False, "typographer": True})
        self.md.enable(["replacements", "smartquotes"])
        self.md.disable("image")  # no content may make the page fetch anything
        self.md.validateLink = _safe_link
        anchors_plugin(self.md, min_level=1, max_level=6, slug_func=slugify, permalink=True,
                       permalinkSymbol="¶", permalinkBefore=False)
        self.md.add_render_rule("link_open", _link_open)
        self._blocks: dict[tuple[str, bool], str] = {}
        self._inline: dict[tuple[str, bool], str] = {}

    def block(self, text: str, bundle: bool = False) -> jinja2.utils.markupsafe.Markup:
        return self._rendered(self._blocks, self.md.render, text, bundle)

    def inline(self, text: str, bundle: bool = False) -> jinja2.utils.markupsafe.Markup:
        return self._rendered(self._inline, self.md.renderInline, text, bundle)

    @staticmethod
    def _rendered(memo: dict, render: Callable, text: str, bundle: bool) -> jinja2.utils.markupsafe.Markup:
        html = memo.get((text, bundle))
        if html is None:
            html = memo[text, bundle] = render(text, {"bundle": bundle})
        return jinja2.utils.markupsafe.Markup(html)


def _safe_link(url: str) -> bool:
    return not re.match(r"(javascript|vbscript|data|file):", url.strip().lower())


def _link_open(self, tokens, idx, options, env):
    token = tokens[idx]
    if token.attrGet("class") == "header-anchor":
        token.attrSet("aria-label", "Link to this section")
    if env.get("bundle"):
        token.attrSet("href", _file_link(token.attrGet("href")))
    return self.renderToken(tokens, idx, options, env)


def _file_link(href: str) -> str:
    """A relative folder link as file:// needs it, naming the page: "../#sources" -> "../index.html#sources"."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(href)
    if parts.scheme or parts.netloc or not parts.path or parts.path.startswith("/"):
        return href
    path = parts.path
    if path.endswith("/"):
        path += "index.html"
    elif path.rsplit("/", 1)[-1] in (".", ".."):
        path += "/index.html"
    return urlunsplit(("", "", path, parts.query, parts.fragment))


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs, like .pyc files (keyed by each template's source and path).

    Compiling the templates is a quarter of a small build; loading them back takes a few milliseconds.
    """

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:  # a read-only temp folder costs speed, never the build
            pass


def _template_cache() -> _CompiledTemplates | None:
    try:
        return _CompiledTemplates()  # a folder only this user can write, in the system temp folder
    except (OSError, RuntimeError):  # RuntimeError: jinja found that folder unsafe
        return None


class Renderer:
    """Templates + Markdown, with a memo of rendered pages so `serve` re-renders only what changed."""

    def __init__(self, templates: Path = TEMPLATES, static: Path = STATIC):
        self.templates = templates
        self.static = static
        self.markdown = Markdown()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(templates), autoescape=True, undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, bytecode_cache=_template_cache(),
        )
        # Filters, unlike the page context, also reach imported macros; render() sets the mode they use.
        self.bundle = False
        self.env.filters["markdown"] = lambda text: self.markdown.block(text, self.bundle)
        self.env.filters["markdown_inline"] = lambda text: self.markdown.inline(text, self.bundle)
        self.env.filters["slug"] = slugify
        self._pages: dict[str, tuple[PageSpec, Options, dict, bytes]] = {}
        self._memo = Memo()  # the site's pages and data files, each code's data
        self._template_edits = 0

    def forget_template(self, name: str) -> None:
        """Drop memoised pages that used `name` (every page, for the layout or a partial)."""
        self._template_edits += 1
        if name.startswith("_") or name == "base.html":
            self._pages.clear()
        else:
            self._pages = {path: cached for path, cached in self._pages.items() if cached[0].template != name}

    def render(self, reference: Reference, options: Options) -> dict[str, bytes]:
        """Every output file of the site, path -> bytes."""
        self.bundle = options.mode == BUNDLE
        assets = self.assets(options)
        asset_names = {name: path for name, (path, _) in assets.items()}
        outputs = {path: data for path, data in assets.values()}
        # Unchanged when only a static file's bytes changed: dev mode names assets without a hash.
        outputs.update(self._memo.get("site", (reference, options, asset_names, self._template_edits),
                                      lambda: self._pages_and_data(reference, options, asset_names)))
        self._memo.sweep()
        return dict(sorted(outputs.items()))

    def _pages_and_data(self, reference: Reference, options: Options, assets: dict[str, str]) -> dict[str, bytes]:
        specs = page_specs(reference)
        files = {spec.path: self._page(spec, reference.site, options, assets) for spec in specs}
        files.update(data_files(reference, specs, options, self._memo))
        return files

    def assets(self, options: Options) -> dict[str, tuple[str, bytes]]:
        """Static files by name -> (output path, bytes); content-hashed names except in dev mode."""
        assets = {}
        for file in sorted(self.static.iterdir()):
            if file.name.startswith(".") or not file.is_file():
                continue
            data = file.read_bytes()
            name = file.name
            if options.mode != DEV:
                stem, dot, ext = name.rpartition(".")
                name = f"{stem}.{hashlib.sha256(data).hexdigest()[:10]}{dot}{ext}"
            assets[file.name] = (f"assets/{name}", data)
        return assets

    def _page(self, spec: PageSpec, site: Site, options: Options, assets: dict[str, str]) -> bytes:
        cached = self._pages.get(spec.path)
        if cached is not None and cached[0] == spec and cached[1] == options and cached[2] == assets:
            return cached[3]
        absolute_root = site_path(options) if spec.path == "404.html" and options.mode != BUNDLE else None
        links = Links(spec.path, options, absolute_root)
        context = {
            "site": site, "page": spec, "url": links, "asset": lambda name: links(assets[name]),
            "canonical": links.canonical(target_of(spec.path)) if spec.sitemap else None,
            "canonical_url": lambda target: links.canonical(target) or links(target),
            "stable_url": (options.base_url or "/") + target_of(spec.path),
            "root": links(""), "bundle": options.mode == BUNDLE, "class_titles": CLASS_TITLES,
            "root_folder": links("").removesuffix("index.html") or "./",  # site.js appends paths to it
            **dict(spec.data),
        }
        try:
            html = self.env.get_template(spec.template).render(context)
        except Exception as exc:  # any failure inside a template is reported at its line, never as a traceback
            raise BuildError([template_problem(exc, self.templates)]) from None
        data = html.encode("utf-8")
        self._pages[spec.path] = (spec, options, assets, data)
        return data


def template_problem(exc: Exception, templates: Path) -> Problem:
    """Where in which template a rendering error happened."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        name = exc.filename or str(templates / (exc.name or "?"))
        return error(_shown(name), (exc.lineno, 1), f"template: {exc.message}")
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(str(templates)):
            frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    name, line = frames[-1] if frames else (str(templates), 1)
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    return error(_shown(name), (line, 1), f"template: {message}")


def _shown(path: str) -> str:
    """A path as messages show it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return path


def page_specs(reference: Reference) -> list[PageSpec]:
    """Every HTML page of the site, in a stable order."""
    site = reference.site
    home = (("Home", ""),)
    footer = tuple((page.slug, page.title) for page in reference.pages)
    page_spec = functools.partial(PageSpec, footer=footer)  # every page's footer links the Markdown pages
    specs = [page_spec("index.html", "home.html", site.title, site.description, True, (), (
        ("classes", reference.classes), ("sources", tuple(s.ref for s in reference.sources)),
    ))]
    codes = reference.codes
    for index, code in enumerate(codes):
        previous = codes[index - 1].ref if index > 0 else None
        following = codes[index + 1].ref if index + 1 < len(codes) else None
        title = f"{code.number} {code.phrase}"
        description = f"HTTP {code.number} {code.phrase}: {_plain(code.summary.summary)}"
        specs.append(page_spec(f"{code.number}/index.html", "code.html", title, description, True,
                               home + ((code.class_key, f"{code.class_key}/"),),
                               (("code", code), ("previous", previous), ("next", following))))
    for status_class in reference.classes:
        specs.append(page_spec(
            f"{status_class.key}/index.html", "class.html", status_class.heading,
            f"Every HTTP {status_class.key} status code ({status_class.title.lower()}), "
            "with what each source says about it.", True, home, (("status_class", status_class),)))
    for page in reference.sources:
        source = page.source
        specs.append(page_spec(
            f"sources/{source.id}/index.html", "source.html", f"Source: {source.title} ({source.id})",
            f"What the source '{source.title}' says about HTTP status codes: "
            f"{len(page.covers)} codes covered, {len(page.lacks)} not.", True, home, (("source", page),)))
    for page in reference.pages:
        specs.append(page_spec(f"{page.slug}/index.html", "page.html", page.title, page.description,
                               page.sitemap, home, (("body", page.body),)))
    for route in reference.names:
        specs.append(page_spec(
            f"{route.slug}/index.html", "name.html", route.name,
            f"'{route.name}' is the name of HTTP status code "
            + " and ".join(str(c.number) for c in route.codes) + ".", False, home, (("route", route),)))
    specs.append(page_spec("404.html", "not_found.html", "Page not found", "There is no page at this address.",
                           False, (), (("classes", reference.classes),)))
    return specs


def _plain(markdown: str) -> str:
    return markdown.replace("`", "").replace("*", "").replace("_", "")  # a regex is 4x slower


def site_path(options: Options) -> str:
    """The URL path the site is served at ("/http/"); "/" when no base URL says otherwise."""
    return (options.base_url and re.sub(r"^https?://[^/]+", "", options.base_url)) or "/"


def data_files(reference: Reference, specs: list[PageSpec], options: Options,
               memo: Memo | None = None) -> dict[str, bytes]:
    """JSON API, search index, redirects, sitemap and robots.txt.

    With a `memo` (`serve`), only the codes that changed are encoded again.
    """
    memo = memo or Memo()
    # A code's page URL in JSON: absolute with a base URL, else relative to the JSON file (RFC 3986 resolves it).
    api_links = Links("api/codes.json", options)
    files = {}
    list_items = []
    for code in reference.codes:
        page_url = api_links.canonical(f"{code.number}/") or api_links(f"{code.number}/")
        own_file, list_item = memo.get(("json", code.number), (code, page_url),
                                       lambda: _code_json_files(code, page_url))
        files[f"api/{code.number}.json"] = own_file
        list_items.append(list_item)
    items = tuple(list_items)
    files["api/codes.json"] = memo.get("codes.json", items, lambda: _json_list(items))
    records = tuple(memo.get(("search", code.number), (code,), lambda: _search_record(code))
                    for code in reference.codes)
    files["search-index.js"] = memo.get("search-index.js", records, lambda: search_index(records))
    prefix = site_path(options)
    files["_redirects"] = "".join(
        f"{prefix}{route.slug}/ {prefix}{route.codes[0].number}/ 301\n"
        for route in reference.names if len(route.codes) == 1
    ).encode()
    if options.base_url and options.mode != BUNDLE:
        files["sitemap.xml"] = sitemap(specs, options.base_url)
        files["robots.txt"] = f"User-agent: *\nAllow: /\n\nSitemap: {options.base_url}sitemap.xml\n".encode()
    return files


def _code_json_files(code: Code, page_url: str) -> tuple[bytes, bytes]:
    """A code's own JSON file, and its item as codes.json lists it: each code is encoded once (json is slow)."""
    text = json.dumps(_code_json(code, page_url), indent=2, ensure_ascii=False)
    # Encoded strings hold no raw newline, so every newline starts a line to indent one level deeper.
    return (text + "\n").encode("utf-8"), ("  " + text.replace("\n", "\n  ")).encode("utf-8")


def _json_list(items: tuple[bytes, ...]) -> bytes:
    """A JSON file of a list, from its items as encoded by `_code_json_files`."""
    return b"".join((b"[\n", b",\n".join(items), b"\n]\n")) if items else b"[]\n"


def _code_json(code: Code, page_url: str) -> dict:
    return {
        "code": code.number,
        "phrase": code.phrase,
        "class": code.class_key,
        "status": code.status,
        "url": page_url,
        "meanings": [
            {"phrase": m.phrase, "status": m.status, "origin": m.origin, "spec": m.spec, "section": m.section,
             "spec_url": m.url, "registered": m.registered}
            for m in code.meanings
        ],
        "aliases": [
            {"name": a.name, "sources": [s.id for s in a.sources], "documents": [d.source for d in a.documents]}
            for a in code.aliases
        ],
        "sources": [{"id": q.source.id, "name": q.name, "description": q.description} for q in code.quotes],
    }


def _search_record(code: Code) -> bytes:
    """A code's record in the search index, as JSON."""
    words = " ".join(
        [q.name for q in code.quotes] + [_plain(q.description) for q in code.quotes]
        + [m.origin for m in code.meanings] + [m.notes for m in code.meanings]
    )
    record = {
        "c": code.number, "p": code.phrase, "s": code.status,
        "o": ", ".join(dict.fromkeys(m.origin for m in code.meanings)),
        "a": [alias.name for alias in code.aliases] + [m.phrase for m in code.meanings[1:]],
        "t": " ".join(words.split()),
    }
    # ensure_ascii keeps U+2028 and friends out of the script source.
    return json.dumps(record, ensure_ascii=True, separators=(",", ":")).encode()


def search_index(records: tuple[bytes, ...]) -> bytes:
    """The search index as a script (not JSON to fetch), so search works from file:// too."""
    return b"".join((b"window.SEARCH_INDEX=[", b",".join(records), b"];\n"))


def sitemap(specs: list[PageSpec], base_url: str) -> bytes:
    from xml.sax.saxutils import escape

    urls = "".join(f"  <url><loc>{escape(base_url + target_of(spec.path))}</loc></url>\n"
                   for spec in specs if spec.sitemap)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n' + urls + "</urlset>\n").encode()


# --------------------------------------------------------------------------- write


def check_out_dir(out: Path, content: Path) -> None:
    """Refuse output folders that a swap would destroy or that would feed back into content."""
    out, content = out.resolve(), content.resolve()
    if out.exists() and not out.is_dir():
        raise BuildError([error(str(out), (1, 1), "output path exists and is not a folder")])
    for folder in (content, TEMPLATES, STATIC, ROOT):
        if out == folder or out in folder.parents:
            raise BuildError([error(str(out), (1, 1), f"output folder must not be or contain {folder}")])
    if content in out.parents:
        raise BuildError([error(str(out), (1, 1), "output folder must not lie inside the content folder")])
    nearest = next(folder for folder in out.parents if folder.exists())  # missing folders get made
    if not os.access(nearest, os.W_OK):
        raise BuildError([error(str(out), (1, 1), f"output folder's parent is not writable ({nearest})")])


def write_site(outputs: dict[str, bytes], out: Path) -> None:
    """Write every file into a fresh folder beside `out`, then swap it in atomically.

    A build that fails or is killed at any point leaves the previous `out` as it was;
    leftovers of killed builds are swept by the next one.
    """
    import fcntl
    import shutil
    import tempfile

    out.parent.mkdir(parents=True, exist_ok=True)
    lock = os.open(out.parent, os.O_RDONLY)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # a second build waits for the first
        for stale in out.parent.glob(f".{out.name}-*"):
            shutil.rmtree(stale, ignore_errors=True)
        fresh = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
        try:
            for path, data in outputs.items():
                target = fresh / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
        except BaseException:
            shutil.rmtree(fresh, ignore_errors=True)  # e.g. a full disk: leave no half-written copy behind
            raise
        os.chmod(fresh, 0o755)
        if out.exists():
            _exchange(fresh, out)
            shutil.rmtree(fresh)
        else:
            os.rename(fresh, out)
    finally:
        os.close(lock)


def _exchange(a: Path, b: Path) -> None:
    """Swap two folders in one step (Linux renameat2); elsewhere two renames."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    renameat2 = getattr(libc, "renameat2", None)
    at_fdcwd, rename_exchange = -100, 2
    if renameat2 is not None and renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return
    parked = a.with_name(a.name + "-old")
    os.rename(b, parked)
    os.rename(a, b)
    os.rename(parked, a)


def update_files(outputs: dict[str, bytes], previous: dict[str, bytes], out: Path) -> list[str]:
    """Write only files whose bytes changed (each atomically) and delete vanished ones; for `serve`."""
    changed = [path for path, data in outputs.items() if previous.get(path) != data]
    for path in changed:
        target = out / path
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        partial.write_bytes(outputs[path])
        os.replace(partial, target)
    for path in previous.keys() - outputs.keys():
        (out / path).unlink(missing_ok=True)
    return changed


def write_bundle(outputs: dict[str, bytes], zip_path: Path, folder: str) -> None:
    """A zip with fixed timestamps and order, so the same site gives the same bytes."""
    import zipfile

    zip_path.parent.mkdir(parents=True, exist_ok=True)
    partial = zip_path.with_name(f".{zip_path.name}.partial")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for path in sorted(outputs):
            info = zipfile.ZipInfo(f"{folder}/{path}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, outputs[path])
    os.replace(partial, zip_path)


# --------------------------------------------------------------------------- commands


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off for a while: a build keeps most of what it makes to the end and makes
    few reference cycles, so the collector's passes (2,000 at 50,000 entries) would free almost nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def build_outputs(content: Path, options: Options,
                  renderer: Renderer | None = None) -> tuple[dict[str, bytes], Content]:
    """load -> validate -> merge -> render, all in memory."""
    checked = validate(load(content))
    base_url = options.base_url or checked.site.base_url
    options = replace(options, base_url=base_url)
    reference = merge(checked)
    return (renderer or Renderer()).render(reference, options), checked


def report(problems: Iterable[Problem], strict: bool = False) -> int:
    """Print problems; the exit status they call for."""
    problems = sorted_problems(problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    failing = [p for p in problems if p.severity == "error" or strict]
    if problems:
        errors = sum(p.severity == "error" for p in problems)
        print(f"{errors} error(s), {len(problems) - errors} warning(s)", file=sys.stderr)
    return 1 if failing else 0


def command_check(args) -> int:
    try:
        content = validate(load(args.content))
    except BuildError as exc:
        return report(exc.problems)
    status = report(content.warnings, args.strict)
    if status == 0:
        print(f"{args.content}: {len(content.sources)} sources, {len(content.meanings)} registry meanings, "
              f"{sum(len(s.entries) for s in content.sources)} entries: ok")
    return status


def command_build(args) -> int:
    started = time.perf_counter()
    try:
        check_out_dir(args.out, args.content)
        outputs, content = build_outputs(args.content, Options(HOSTED, _with_slash(args.base_url)))
        if report(content.warnings, args.strict):
            return 1
        write_site(outputs, args.out)
    except BuildError as exc:
        return report(exc.problems)
    except OSError as exc:
        print(f"{args.out}: error: cannot write the site: {exc.strerror or exc}", file=sys.stderr)
        return 1
    if not (args.base_url or content.site.base_url):
        print("note: no base_url (content/site.yaml or --base-url): no sitemap.xml, robots.txt "
              "or canonical links were made", file=sys.stderr)
    pages = sum(path.endswith(".html") for path in outputs)
    print(f"built {pages} pages, {len(outputs)} files into {args.out} "
          f"in {time.perf_counter() - started:.2f} s")
    return 0


def command_bundle(args) -> int:
    try:
        outputs, content = build_outputs(args.content, Options(BUNDLE))
        if report(content.warnings, args.strict):
            return 1
        write_bundle(outputs, args.out, args.out.name.removesuffix(".zip"))
    except BuildError as exc:
        return report(exc.problems)
    except OSError as exc:
        print(f"{args.out}: error: cannot write the bundle: {exc.strerror or exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out} ({len(outputs)} files); unzip it and open index.html")
    return 0


# --------------------------------------------------------------------------- serve
#
# `serve` builds into a temp folder in dev mode and keeps the parsed files, the model and the
# rendered pages in memory (`DevBuild`). Polling the watched folders finds saves; once a poll sees
# nothing new, the site is rebuilt in-process and only the files whose bytes changed are rewritten.
# livereload's server serves the folder, injects its script into HTML responses (never into the
# files) and tells open tabs to reload. livereload and tornado are imported only in this section.

# Where the kernel reports saves (Linux inotify), the rebuild waits until the watched folders have
# been quiet this long, so an editor writing a file twice gives one rebuild.
SETTLE_TIME = 0.005
# Elsewhere, seconds between polls; a save must then stay unchanged for one poll. A poll stats
# about 20 files: ~0.1 ms, a few percent of one core.
WATCH_INTERVAL = 0.01


class DevBuild:
    """The site in dev mode, kept in memory and updated file by file in `out`: the engine of `serve`.

        dev = DevBuild(Path("content"), Path("/tmp/dev-site"))
        dev.rebuild()                # the first build writes every file
        dev.rebuild([saved_file])    # later ones write only the files whose bytes changed
    """

    def __init__(self, content: Path, out: Path, strict: bool = False,
                 templates: Path = TEMPLATES, static: Path = STATIC):
        self.content = content
        self.out = out
        self.strict = strict
        self.cache = FileCache()
        self.memo = Memo()
        self.renderer = Renderer(templates, static)
        self.reference: Reference | None = None  # the model of the content's last good build
        self.outputs: dict[str, bytes] = {}
        self.warnings: tuple[Problem, ...] = ()

    @property
    def watched(self) -> tuple[Path, ...]:
        return self.content, self.renderer.templates, self.renderer.static

    def rebuild(self, changed: Iterable[Path] = ()) -> list[str]:
        """The output paths rewritten after `changed` files were saved; raises BuildError.

        Saves of templates and static files only re-render the kept model; any other save (or none
        named) re-reads the content files whose stat changed. Templates must be named, as the memo
        of rendered pages cannot see a template's edits.
        """
        first = not self.outputs
        with collector_paused():  # the little a save leaves to the collector waits for the next pass
            written = self._update([Path(file).resolve() for file in changed])
        if first:
            # Most of the first build (model, memos, templates) lives all session: the collector's full
            # passes, a tenth of a second at 50,000 entries, need only scan what later saves make.
            gc.collect()
            gc.freeze()
        return written

    def _update(self, changed: list[Path]) -> list[str]:
        templates, static = self.renderer.templates.resolve(), self.renderer.static.resolve()
        for file in changed:
            if templates in file.parents:
                self.renderer.forget_template(file.relative_to(templates).as_posix())
        if self.reference is None or not changed or \
                any(templates not in file.parents and static not in file.parents for file in changed):
            self.reference = None  # while the content fails, a template save must not hide its errors
            checked = validate(load(self.content, self.cache), self.memo)
            if self.strict and checked.warnings:
                raise BuildError(list(checked.warnings))
            self.warnings = checked.warnings
            self.reference = merge(checked, self.memo)
            self.memo.sweep()
        outputs = self.renderer.render(self.reference, Options(DEV, self.reference.site.base_url))
        written = update_files(outputs, self.outputs, self.out)
        self.outputs = outputs
        return written


def snapshot(folders: Iterable[Path]) -> dict[str, tuple[int, int, int]]:
    """Every file under `folders` (dot-files aside, as `load` skips them) -> (mtime, size, inode)."""
    found = {}
    pending = [str(folder) for folder in folders]
    while pending:
        try:
            entries = list(os.scandir(pending.pop()))
        except OSError:  # a folder removed since it was listed
            continue
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                if entry.is_dir():
                    pending.append(entry.path)
                else:
                    info = entry.stat()
                    found[entry.path] = (info.st_mtime_ns, info.st_size, info.st_ino)
            except OSError:  # gone since the listing, like an editor's temp file
                continue
    return found


class SaveWatcher:
    """Files saved, added or removed under some folders since the last look."""

    def __init__(self, folders: Iterable[Path]):
        self.folders = tuple(folders)
        self.seen = snapshot(self.folders)

    def changes(self) -> set[Path]:
        now = snapshot(self.folders)
        changed = {Path(path) for path in now.keys() | self.seen.keys() if now.get(path) != self.seen.get(path)}
        self.seen = now
        return changed


class DevSite:
    """What `serve` keeps between saves: the build, the pending saves and the errors the browser shows."""

    def __init__(self, dev: DevBuild, reload_browsers: Callable[[str], None]):
        self.dev = dev
        self.watcher = SaveWatcher(dev.watched)
        self.pending: set[Path] = set()
        self.problems: list[Problem] = []  # non-empty while the last build failed
        self.reload_browsers = reload_browsers

    def poll(self) -> None:
        changed = self.watcher.changes()
        if changed:
            self.pending |= changed  # the editor may still be writing: wait for a quiet poll
        elif self.pending:
            saved, self.pending = self.pending, set()
            self.rebuild(saved)

    def settle(self) -> None:
        """Rebuild for every save since the last look; the caller knows the writing has stopped."""
        saved, self.pending = self.pending | self.watcher.changes(), set()
        if saved:
            self.rebuild(saved)

    def rebuild(self, saved: Iterable[Path] = ()) -> None:
        started = time.perf_counter()
        try:
            written = self.dev.rebuild(saved)
        except BuildError as exc:
            report(exc.problems)
            print("the browser shows these errors until the next good save", file=sys.stderr)
            self.problems = exc.problems
            self.reload_browsers("*")
            return
        except OSError as exc:
            print(f"{self.dev.out}: error: cannot write the site: {exc.strerror or exc}", file=sys.stderr)
            return
        took = (time.perf_counter() - started) * 1000
        report(self.dev.warnings)
        what = (", ".join(sorted(_shown(str(path)) for path in saved)) + ": rebuilt") if saved else "built"
        print(f"{what} in {took:.0f} ms, wrote {len(written)} files", flush=True)
        recovered, self.problems = bool(self.problems), []
        if written or recovered:
            # livereload.js swaps a lone stylesheet in place; any other path reloads the page
            only_css = len(written) == 1 and written[0].endswith(".css")
            self.reload_browsers(written[0] if only_css else "*")


class Inotify:
    """Linux's file-change notifications, used only to wake up: which files changed is still found
    by comparing snapshots, so saves are seen at once and an idle server costs nothing."""

    EVENTS = 0x2 | 0x8 | 0x40 | 0x80 | 0x100 | 0x200  # modify, close-write, moved from/to, create, delete

    def __init__(self, folders: Iterable[Path]):
        import ctypes

        self.libc = ctypes.CDLL(None, use_errno=True)
        self.folders = tuple(folders)
        self.fd = self.libc.inotify_init1(os.O_NONBLOCK | os.O_CLOEXEC)  # AttributeError off Linux
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify is not available")
        self.watch_folders()

    def watch_folders(self) -> None:
        """Watch every folder, including ones made since the last call (a repeat watch is a no-op)."""
        for folder in self.folders:
            for path, subfolders, _ in os.walk(folder):
                subfolders[:] = [name for name in subfolders if not name.startswith(".")]
                self.libc.inotify_add_watch(self.fd, os.fsencode(path), self.EVENTS)

    def drain(self) -> None:
        try:
            while os.read(self.fd, 65536):
                pass
        except BlockingIOError:
            pass
        self.watch_folders()


def watch_saves(site: DevSite, loop) -> None:
    """Rebuild after saves: woken by inotify once writing settles, or by polling where it is missing."""
    from tornado.ioloop import IOLoop, PeriodicCallback

    try:
        inotify = Inotify(site.dev.watched)
    except (AttributeError, OSError):
        PeriodicCallback(site.poll, WATCH_INTERVAL * 1000).start()
        return
    settling = None

    def woken(fd: int, events: int) -> None:
        nonlocal settling
        inotify.drain()
        if settling is not None:
            loop.remove_timeout(settling)
        settling = loop.call_later(SETTLE_TIME, site.settle)

    loop.add_handler(inotify.fd, woken, IOLoop.READ)


def error_page(problems: list[Problem]) -> bytes:
    """What the browser shows for any page while the build is broken (the terminal shows the same)."""
    from html import escape

    lines = "\n".join(escape(str(problem)) for problem in sorted_problems(problems))
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Build failed</title>\n"
            "<style>body{font:1rem/1.5 system-ui,sans-serif;margin:2rem;max-width:60rem}"
            "pre{white-space:pre-wrap;background:#fdecea;color:#611a15;padding:1rem}</style>\n"
            "</head>\n<body>\n<h1>The site could not be rebuilt</h1>\n"
            f"<pre>{lines}</pre>\n<p>The last good build is kept. Fix the file and save: "
            "this page reloads by itself.</p>\n</body>\n</html>\n").encode("utf-8")


def _is_page(url_path: str) -> bool:
    return url_path == "" or url_path.endswith(("/", ".html"))


def live_server(site: DevSite):
    """livereload's server (its websocket, script and injection) with our handler for the site's paths."""
    from livereload import Server
    from livereload.handlers import StaticFileHandler
    from tornado.web import HTTPError

    class SiteHandler(StaticFileHandler):
        """The built folder, the error page while the build is broken, the site's 404 page; nothing else."""

        def set_default_headers(self) -> None:
            self.set_header("Cache-Control", "no-store")  # a reload must never show a stale file

        async def get(self, path: str, include_body: bool = True) -> None:
            if site.problems and _is_page(path):
                self.set_status(500)
                self.set_header("Content-Type", "text/html; charset=utf-8")
                self.finish(error_page(site.problems))
                return
            try:
                await super().get(path, include_body)
            except HTTPError as exc:
                # tornado answers 403 for paths outside the folder; outside it there is nothing to serve
                raise HTTPError(404 if exc.status_code == 403 else exc.status_code) from None

        def write_error(self, status_code: int, **kwargs) -> None:
            not_found = site.dev.outputs.get("404.html")
            if status_code != 404 or not_found is None:
                return super().write_error(status_code, **kwargs)
            self.set_header("Content-Type", "text/html; charset=utf-8")
            self.finish(not_found)

    class LiveServer(Server):
        def get_web_handlers(self, script):
            return [(r"/(.*)", SiteHandler, {"path": str(site.dev.out), "default_filename": "index.html"})]

    return LiveServer()


def command_serve(args) -> int:
    import errno
    import signal
    import tempfile

    from livereload.handlers import LiveReloadHandler
    from tornado.ioloop import IOLoop

    with tempfile.TemporaryDirectory(prefix="http-status-serve-") as out:
        site = DevSite(DevBuild(args.content, Path(out), args.strict), LiveReloadHandler.reload_waiters)
        try:
            live_server(site).application(args.port, args.host, debug=False)
        except (OSError, OverflowError) as exc:
            hint = "; is another server running? pick a free port with --port" \
                if getattr(exc, "errno", None) == errno.EADDRINUSE else ""
            print(f"error: cannot serve on {args.host} port {args.port}: "
                  f"{getattr(exc, 'strerror', None) or exc}{hint}", file=sys.stderr)
            return 1
        loop = IOLoop.current()
        for signum in (signal.SIGINT, signal.SIGTERM):  # stop between two callbacks, never mid-write
            loop.asyncio_loop.add_signal_handler(signum, loop.stop)
        site.rebuild()
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"serving http://{host}:{args.port}/ from {out}; watching "
              f"{', '.join(_shown(str(folder)) for folder in site.dev.watched)}; Ctrl-C stops", flush=True)
        watch_saves(site, loop)
        loop.start()
    print("stopped", flush=True)
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="build.py", description="Build the HTTP status code reference.")
    commands = parser.add_subparsers(dest="command")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--content", type=Path, default=Path("content"), help="content folder (default content/)")
        sub.add_argument("--strict", action="store_true", help="treat warnings as errors")
        return sub

    build = add("build", "build the site (the default command)")
    build.add_argument("--out", type=Path, default=Path("site"), help="output folder (default site/)")
    build.add_argument("--base-url", help="absolute URL the site is served at (overrides site.yaml)")
    add("check", "validate content without writing anything")
    serve = add("serve", "build, serve and rebuild on every save, reloading the browser")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    bundle = add("bundle", "write the offline HTML bundle (a zip)")
    bundle.add_argument("--out", type=Path, default=Path("dist/http-status-codes.zip"))
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["build", *argv]
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        return command_serve(args)
    handlers = {"build": command_build, "check": command_check, "bundle": command_bundle}
    with collector_paused():
        return handlers[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
