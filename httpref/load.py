"""Reading content files: takes the content folder, returns `LoadedContent` (every file parsed into plain
values with the line and column of each, not yet checked against the schema). YAML is read from libyaml's
event stream with size and depth limits; Markdown pages are split into front matter and body."""
from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .cache import FileCache
from .problems import BuildError, Mark, Problem, error, quoted

MAX_FILE_BYTES = 1_000_000  # no real source comes near; a bigger file is a mistake or an attack
MAX_DEPTH = 8  # the deepest real structure is 4 levels (registry -> meaning -> former_phrases -> item)
CLASS_KEYS = ("1xx", "2xx", "3xx", "4xx", "5xx")
SAFE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
# First-level URLs the site itself uses: no page or name may take them.
RESERVED_SLUGS = {"api", "assets", "compare", "libraries", "sources"} | set(CLASS_KEYS)

KeyPath = tuple  # keys and list indexes from the document root
# How a whole number is written in decimal; YAML 1.1 also reads 0x194, 0o624, 0404 (octal), 4_04, +404
# and 4:04 (base 60) as integers.
DECIMAL = re.compile(r"-?(?:0|[1-9][0-9]*)\Z")


class WrittenNumber(int):
    """An integer YAML 1.1 read from a form other than decimal digits ('0404' is 260): it keeps the text
    written, so a check can name it, and shows as that text."""

    written: str

    def __str__(self) -> str:
        return self.written


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
    semantics: YamlDoc | None  # optional: what the specs require of each code's responses
    constants: YamlDoc | None  # optional: each code's names in standard libraries
    comparisons: YamlDoc | None  # optional: "which one?" pages
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
    if "\r" in text:  # CRLF (or old Mac CR) line ends read as LF ones: YAML and Markdown treat them alike
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.removeprefix("\ufeff")


def _not_a_file(path: str, mode: int) -> Problem:
    kind = ("a folder" if stat.S_ISDIR(mode) else "a FIFO (named pipe)" if stat.S_ISFIFO(mode)
            else "a socket" if stat.S_ISSOCK(mode) else "a device")
    return error(path, (1, 1), f"not a regular file but {kind}: content files are plain files")


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
    elif "maximum nesting depth" in detail:  # libyaml (PyYAML 6.0.4+) stops some deep files before we can
        return error(path, where, f"nested more than {MAX_DEPTH} levels deep")
    elif getattr(exc, "context", None) and exc.context_mark is not None and exc.context_mark is not mark:
        # libyaml's context says where the unfinished thing (a quote, a bracket) began
        detail += f" ({exc.context} that starts at line {exc.context_mark.line + 1}, " \
                  f"column {exc.context_mark.column + 1})"
    return error(path, where, f"YAML syntax: {detail}")


class _Frame:
    """A mapping or list being filled while the YAML event stream is read."""

    __slots__ = ("container", "path", "is_list", "key", "key_path", "keys_seen")

    def __init__(self, container, path):
        self.container = container
        self.path = path
        self.is_list = isinstance(container, list)
        self.key = _NO_KEY
        self.key_path: KeyPath = ()  # path + (key,) once a key is read: its key mark's and its value's
        self.keys_seen: dict[str, Mark] = {}


_NO_KEY = object()
_BAD_KEY = object()
_MISSING = object()
# Plain scalars as read before (a key, a number, a name), by their text: a plain scalar's value
# depends only on its text, and 50,000 entries repeat the same few thousand. Bounded for `serve`.
_PLAIN: dict[str, Any] = {}
_PLAIN_LIMIT = 20_000
_PLAIN_LONGEST = 200


def parse_yaml(text: str, path: str, problems: list[Problem]) -> YamlDoc | None:
    """Plain values from YAML text, read from the event stream.

    Reading events (not PyYAML's composer) keeps memory bounded and avoids recursion:
    aliases are refused rather than expanded (no "billion laughs"), nesting depth is
    capped, duplicate keys are caught (PyYAML keeps the last silently), and only the
    plain YAML types are allowed (no `!!python/object`). Scalars, nine events in ten,
    take the short way below; the C parser's own work is about a third of the time.
    """
    doc = YamlDoc(path, None)
    marks, key_marks = doc.marks, doc.key_marks
    stack: list[_Frame] = []
    frame: _Frame | None = None  # stack[-1]
    documents = 0
    found_errors = False
    aliases_seen = False

    def fail(mark: Mark, message: str) -> None:
        nonlocal found_errors
        found_errors = True
        problems.append(error(path, mark, message))

    def place(value: Any, mark: Mark) -> None:
        if frame is None:
            doc.value = value
            marks[()] = mark
        elif frame.is_list:
            child = frame.path + (len(frame.container),)
            frame.container.append(value)
            marks.setdefault(child, mark)
        elif frame.key is _NO_KEY:
            if isinstance(value, (dict, list)):
                fail(mark, "a mapping key must be a plain word, not a list or mapping")
                frame.key = _BAD_KEY
                return
            key = "" if value is None else str(value)  # a WrittenNumber key keeps its text: '0404', not '260'
            if key in frame.keys_seen:
                line = frame.keys_seen[key][0]
                fail(mark, f"duplicated key {quoted(key)} (first at line {line}); "
                     "YAML would silently keep only the last one")
                frame.key = _BAD_KEY
                return
            frame.keys_seen[key] = mark
            frame.key_path = frame.path + (key,)
            key_marks[frame.key_path] = mark
            frame.key = key
        else:
            if frame.key is not _BAD_KEY:
                frame.container[frame.key] = value
                marks.setdefault(frame.key_path, mark)
            frame.key = _NO_KEY

    def child_path() -> KeyPath:
        if frame is None:
            return ()
        if frame.is_list:
            return frame.path + (len(frame.container),)
        if frame.key is _NO_KEY:  # a collection used as a key; it is refused in place()
            return frame.path + ("?",)
        return frame.key_path if frame.key is not _BAD_KEY else frame.path + (frame.key,)

    def check_tag(event, expected: str) -> None:
        if event.tag not in (None, "!", _TAG + expected):
            fail(_mark(event.start_mark), f"YAML tag {quoted(event.tag.replace(_TAG, '!!'))} is not allowed in content")

    loader = _Loader(text)
    try:
        get_event = loader.get_event
        while (event := get_event()) is not None:
            kind = event.__class__
            start = event.start_mark
            mark = (start.line + 1, start.column + 1)
            if kind is _ScalarEvent:
                if event.tag is not None:
                    value = _scalar(event, fail)
                elif not event.implicit[0]:  # quoted or a block: always a string
                    value = event.value
                else:
                    value = _PLAIN.get(event.value, _MISSING)
                    if value is _MISSING:
                        value = _plain(event, fail)
                place(value, mark)
            elif kind is _MappingStartEvent or kind is _SequenceStartEvent:
                is_list = kind is _SequenceStartEvent
                check_tag(event, "seq" if is_list else "map")
                if len(stack) >= MAX_DEPTH:
                    fail(mark, f"nested more than {MAX_DEPTH} levels deep")
                    return None
                frame = _Frame([] if is_list else {}, child_path())
                marks.setdefault(frame.path, mark)
                stack.append(frame)
            elif kind is _MappingEndEvent or kind is _SequenceEndEvent:
                done = stack.pop()
                frame = stack[-1] if stack else None
                place(done.container, doc.mark(done.path))
            elif kind is _AliasEvent:
                if not aliases_seen:  # one report per file: a "billion laughs" file holds thousands
                    fail(mark, f"YAML alias {quoted('*' + event.anchor)} is not allowed in content; "
                         "write the value out")
                aliases_seen = True
                place(None, mark)
            elif kind is _DocumentStartEvent:
                documents += 1
                if documents > 1:
                    fail(mark, "a content file holds one YAML document; found a second '---'")
                    break
    except yaml.YAMLError as exc:
        problems.append(_yaml_problem(path, text, exc))
        return None
    finally:
        loader.dispose()
    if documents == 0 or (doc.value is None and not found_errors):
        problems.append(error(path, (1, 1), "file is empty"))
        return None
    return None if found_errors else doc


_ScalarEvent, _AliasEvent, _DocumentStartEvent = yaml.ScalarEvent, yaml.AliasEvent, yaml.DocumentStartEvent
_MappingStartEvent, _SequenceStartEvent = yaml.MappingStartEvent, yaml.SequenceStartEvent
_MappingEndEvent, _SequenceEndEvent = yaml.MappingEndEvent, yaml.SequenceEndEvent


def _plain(event, fail: Callable[[Mark, str], None]) -> Any:
    """An untagged plain scalar's value (a key, a number, a name), kept in `_PLAIN` when it reads cleanly."""
    failed: list[tuple[Mark, str]] = []
    value = _scalar(event, lambda mark, message: failed.append((mark, message)))
    for mark, message in failed:
        fail(mark, message)
    if not failed and len(event.value) <= _PLAIN_LONGEST:
        if len(_PLAIN) >= _PLAIN_LIMIT:
            _PLAIN.clear()
        _PLAIN[event.value] = value
    return value


def _scalar(event, fail: Callable[[Mark, str], None]) -> Any:
    tag = event.tag
    if tag in (None, "!"):
        tag = _RESOLVER.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag not in _SCALAR_TYPES:
        fail(_mark(event.start_mark), f"YAML tag {quoted(tag.replace(_TAG, '!!'))} is not allowed in content")
        return None
    construct = _SCALAR_TYPES[tag]
    if construct is None:
        return event.value
    try:
        value = construct(yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark))
    except (ValueError, IndexError, KeyError, yaml.YAMLError):  # e.g. `!!float ""`, `!!bool x`
        fail(_mark(event.start_mark), f"cannot read {quoted(event.value)} as {tag.replace(_TAG, '')}")
        return None
    if tag == _TAG + "int" and not DECIMAL.match(event.value):
        value = WrittenNumber(value)
        value.written = event.value
    return value


def plain_value(text: str) -> Any:
    """What YAML reads from `text` written unquoted: 404 the number, '0404' the octal 260, 'x' the string."""
    mark = yaml.Mark("", 0, 0, 0, None, None)
    return _scalar(yaml.ScalarEvent(None, None, (True, False), text, mark, mark), lambda mark, message: None)


def read_yaml_file(file: Path, shown: str, problems: list[Problem]) -> YamlDoc | None:
    text = read_text(file, shown, problems)
    return None if text is None else parse_yaml(text, shown, problems)


def read_text(file: Path, shown: str, problems: list[Problem]) -> str | None:
    """A content file's text; only a regular file is read: a FIFO would block the build forever, and a
    device can be endless or act when opened."""
    try:
        mode = os.stat(file).st_mode
        if not stat.S_ISREG(mode):  # before opening: opening some devices does things
            problems.append(_not_a_file(shown, mode))
            return None
        # Not blocking, in case a FIFO took the file's place since: the descriptor's own stat decides.
        descriptor = os.open(file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
        with open(descriptor, "rb") as handle:
            info = os.fstat(descriptor)
            if not stat.S_ISREG(info.st_mode):
                problems.append(_not_a_file(shown, info.st_mode))
                return None
            size = info.st_size
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
        if _missing(file):
            problems.append(error(str(file), (1, 1), f"missing: every content folder has a {name}"))
            return None
        return yaml_at(file)

    try:
        with os.scandir(content):  # one error for a folder that cannot be read, not one per file in it
            pass
    except (FileNotFoundError, NotADirectoryError):
        raise BuildError([error(str(content), (1, 1), "content folder not found")]) from None
    except OSError as exc:
        raise BuildError([error(str(content), (1, 1), f"cannot read the content folder: {exc.strerror}")]) from None
    site = required("site.yaml")
    registry = required("registry.yaml")
    semantics, constants, comparisons = (None if _missing(content / name) else yaml_at(content / name)
                                         for name in ("semantics.yaml", "constants.yaml", "comparisons.yaml"))
    sources = []
    for file in _listing(content / "sources", problems):
        source_id = file.name.removesuffix(".yaml")
        if not file.name.endswith(".yaml"):
            problems.append(error(str(file), (1, 1), "not a source file: sources are named <id>.yaml"))
        elif not SAFE_ID.match(source_id) or len(source_id) > 40:
            problems.append(error(str(file), (1, 1), f"source id {quoted(source_id)} is not a safe id: use "
                                  "lowercase letters, digits and single hyphens, e.g. 'my-source.yaml'"))
        else:
            doc = yaml_at(file)
            if doc is not None:
                sources.append((source_id, doc))
    pages = []
    for file in _listing(content / "pages", problems):
        slug = file.name.removesuffix(".md")
        if not file.name.endswith(".md") or not SAFE_ID.match(slug) or slug in RESERVED_SLUGS or slug.isdigit():
            problems.append(error(str(file), (1, 1), f"page file {quoted(file.name)} must be <slug>.md with a safe "
                                  f"slug that is not a code or one of: {', '.join(sorted(RESERVED_SLUGS))}"))
            continue
        page, found = cache.get(file, lambda out, f=file: _read_page(f, out))
        problems.extend(found)
        if page is not None:
            pages.append(page)
    return LoadedContent(content, site, registry, semantics, constants, comparisons, sources, pages, problems)


def _missing(file: Path) -> bool:
    """Whether nothing is at `file`; something there that cannot be looked at is not missing: reading it says why."""
    try:
        os.lstat(file)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False


def _listing(folder: Path, problems: list[Problem]) -> list[Path]:
    """The files in `folder` (none if it is missing), hidden ones aside; a folder that cannot be listed is a problem."""
    try:
        with os.scandir(folder) as entries:
            names = [entry.name for entry in entries if not entry.name.startswith(".")]
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        problems.append(error(str(folder), (1, 1), f"cannot list the folder: {exc.strerror}"))
        return []
    return [folder / name for name in sorted(names)]


def _read_page(file: Path, problems: list[Problem]) -> PageFile | None:
    text = read_text(file, str(file), problems)
    if text is None:
        return None
    front, body = split_front_matter(text, str(file), problems)
    return None if front is None else PageFile(file.name.removesuffix(".md"), front, body)
