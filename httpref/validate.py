"""Validation: takes `LoadedContent`, returns typed `Content` (site settings, registry meanings, sources,
pages) or raises `BuildError` listing every problem in every file at once. The schema lives here: field
tables, their kinds, and the rules that span fields (a code's class, duplicated codes)."""
from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from .cache import Memo
from .facts import Facts, validate_comparisons, validate_constants, validate_semantics
from .load import CLASS_KEYS, KeyPath, LoadedContent, PageFile, YamlDoc
from .problems import BuildError, Problem, quoted, sorted_problems, warning
from .schema import Checker, Fields, kind_problem, slug_problem

# temporary: registered with IANA for an Internet-Draft, not (yet) defined by an RFC
STATUSES = ("standard", "temporary", "deprecated", "unused", "unofficial")
T = TypeVar("T")


@dataclass(frozen=True)
class Site:
    """content/site.yaml: what every page says the site is, and where it is served."""

    title: str
    description: str
    base_url: str | None


@dataclass(frozen=True)
class Category:
    """A source's own heading (and words, if any) for one class of codes."""

    heading: str
    description: str


@dataclass(frozen=True)
class Entry:
    code: int
    name: str
    description: str
    url: str | None = None  # the exact page these words were read from, when it is not the source's own url


@dataclass(frozen=True)
class Erratum:
    code: int | None
    note: str


@dataclass(frozen=True)
class Source:
    id: str
    kind: str  # one of SOURCE_KINDS
    title: str
    label: str  # how lists and quotations name it: its own short `label`, else its title
    url: str | None
    license: str | None
    note: str
    categories: tuple[tuple[str, Category], ...]
    entries: tuple[Entry, ...]
    errata: tuple[Erratum, ...]


@dataclass(frozen=True)
class FormerPhrase:
    """A name a code had before, and the document that used it."""

    phrase: str
    source: str
    url: str | None = None  # a page where that document uses the name, when one was read


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
    also_known_as: tuple[FormerPhrase, ...]  # (name, used_by, url): each name credited to its own user
    url_label: str | None = None  # what `url` is when there is no spec: "documentation", "source code", ...
    registration: str | None = None  # permanent | temporary
    expires: str | None = None  # the date IANA lists a temporary registration to expire, 'YYYY-MM-DD'


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
    facts: Facts
    sources: tuple[Source, ...]
    pages: tuple[Page, ...]
    warnings: tuple[Problem, ...]


SITE_FIELDS: Fields = {"title": ("text", True), "description": ("text", True), "base_url": ("url", False)}
# What a source is: a reference that describes codes others defined (the default), or the document of
# whoever defined the codes it lists, whose words a code page puts first.
SOURCE_KINDS = ("reference", "owner")
SOURCE_FIELDS: Fields = {
    "title": ("text", True), "label": ("text", False), "kind": ("text", False), "url": ("url", False),
    "license": ("text", False), "note": ("text", False), "categories": ("map", False), "entries": ("list", True), "errata": ("list", False),
}
CATEGORY_FIELDS: Fields = {"heading": ("text", True), "description": ("text", False)}
# `read_from` is provenance for tests/test_owner_sources.py ("owner/repo@commit:path#Lm-Ln" per file read); the site
# shows `url`, the page a reader can open.
ENTRY_FIELDS: Fields = {"code": ("code", True), "name": ("text", True), "description": ("text", True),
                        "url": ("url", False), "read_from": ("list", False)}
ERRATUM_FIELDS: Fields = {"code": ("code", False), "note": ("text", True)}
MEANING_FIELDS: Fields = {
    "code": ("code", True), "phrase": ("text", True), "spec": ("text?", True), "section": ("text?", True),
    "url": ("url?", True), "url_label": ("text", False), "status": ("text", True), "origin": ("text", True),
    "registered": ("bool", True), "registration": ("text", False), "expires": ("text", False),
    "iana_ref": ("text", False), "notes": ("text", False),
    "former_phrases": ("list", False), "also_known_as": ("list", False), "class": ("text", True),
}
ALIAS_FIELDS: Fields = {"name": ("text", True), "used_by": ("text", True), "url": ("url", False)}
REGISTRATIONS = ("permanent", "temporary")
FORMER_FIELDS: Fields = {"phrase": ("text", True), "source": ("text", True), "url": ("url", False)}
PAGE_FIELDS: Fields = {"title": ("text", True), "description": ("text", True), "sitemap": ("bool", False)}


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
    specs: dict[int, set[str]] = {}
    for meaning in meanings:
        specs.setdefault(meaning.code, set()).update([meaning.spec] if meaning.spec else [])
    semantics = checked("semantics", (loaded.semantics, meanings), lambda out: validate_semantics(
        loaded.semantics, specs, out)) if loaded.semantics and meanings else ()
    libraries = checked("constants", (loaded.constants,), lambda out: validate_constants(
        loaded.constants, out)) if loaded.constants else ()
    registered = frozenset(meaning.code for meaning in meanings)
    comparisons = checked("comparisons", (loaded.comparisons, meanings), lambda out: validate_comparisons(
        loaded.comparisons, specs, out)) if loaded.comparisons and meanings else ()
    if meanings:
        _unregistered([(doc.path, checked(("registered", source_id), (doc, registered),
                                          lambda out: _unregistered_codes(doc, registered)))
                       for source_id, doc in loaded.sources], problems)
    errors = [p for p in problems if p.severity == "error"]
    if errors or site is None:
        raise BuildError(sorted_problems(problems))
    return Content(site, meanings, Facts(semantics, libraries, comparisons), sources, pages,
                   tuple(p for p in problems if p.severity == "warning"))


def _with_problems(check: Callable[[list[Problem]], T]) -> tuple[T, tuple[Problem, ...]]:
    """What `check(problems)` returns, and the problems it found."""
    found: list[Problem] = []
    return check(found), tuple(found)


def _unregistered_codes(doc: YamlDoc, registered: frozenset[int]) -> dict[int, tuple[int, int]]:
    """Each code a source describes that the registry lacks, and where it first does."""
    entries = doc.value.get("entries") if isinstance(doc.value, dict) else None
    found: dict[int, tuple[int, int]] = {}
    for index, entry in enumerate(entries if isinstance(entries, list) else []):
        code = entry.get("code") if isinstance(entry, dict) else None
        if kind_problem("code", code) is None and code not in registered and code not in found:
            found[code] = doc.mark(("entries", index, "code"))
    return found


def _unregistered(uses: list[tuple[str, dict[int, tuple[int, int]]]], problems: list[Problem]) -> None:
    """One warning per code the registry lacks (not one per source that uses it), at its first use.

    `serve` runs this on every save: counting 100 sources x 419 codes one by one took 25 ms, so the
    counting and the set difference are left to C."""
    users: Counter[int] = Counter()
    first: dict[int, tuple[str, tuple[int, int]]] = {}
    for path, marks in uses:
        users.update(marks.keys())
        if len(users) > len(first):  # codes first used by this source
            first.update((code, (path, marks[code])) for code in marks.keys() - first.keys())
    for code, (path, mark) in first.items():
        count = f"{users[code]} sources use it" if users[code] > 1 else "1 source uses it"
        problems.append(warning(path, mark, f"code {code} is not in the registry ({count}); "
                                "its page will have no spec facts"))



def _validate_site(doc: YamlDoc, problems: list[Problem]) -> Site | None:
    fields = Checker(doc, problems).mapping(doc.value, (), SITE_FIELDS, "site.yaml")
    if fields is None:
        return None
    return Site(fields["title"], fields["description"], as_base_url(fields.get("base_url")))


def as_base_url(url: str | None) -> str | None:
    """A base URL (site.yaml's or --base-url, checked as a "url") as every output prints it, the one way:
    ending in a slash, and anything a URI may not hold raw (non-ASCII, quotes, angle brackets) percent-encoded."""
    return None if url is None else quote(url.rstrip("/") + "/", safe=":/?#[]@!$&'()*+,;=%")


def _validate_registry(doc: YamlDoc, problems: list[Problem]) -> tuple[Meaning, ...]:
    check = Checker(doc, problems)
    meanings = []
    seen: dict[tuple[int, str], int] = {}
    for path, fields in check.listed(MEANING_FIELDS, "the registry", "registry entry"):
        index = path[0]
        code = fields["code"]
        if fields["class"] != f"{code // 100}xx":
            check.fail(doc.mark(path + ("class",)),
                       f"class {quoted(fields['class'])} contradicts code {code} (expected {code // 100}xx)")
        if fields["status"] not in STATUSES:
            check.fail(doc.mark(path + ("status",)), f"status {quoted(fields['status'])} is not one of: "
                       + ", ".join(STATUSES))
        key = (code, fields["phrase"].casefold())
        if key in seen:
            check.fail(doc.mark(path), f"code {code} {quoted(fields['phrase'])} is listed twice "
                       f"(first at line {doc.mark((seen[key],))[0]})")
        _check_slug(check, path + ("phrase",), fields["phrase"])
        seen[key] = index
        former = tuple(
            FormerPhrase(f["phrase"], f["source"], f.get("url"))
            for former_path, f in check.items(fields, path, "former_phrases", FORMER_FIELDS, "a former phrase")
            if _check_slug(check, former_path + ("phrase",), f["phrase"])
        )
        aliases = tuple(
            FormerPhrase(a["name"], a["used_by"], a.get("url"))
            for alias_path, a in check.items(fields, path, "also_known_as", ALIAS_FIELDS, "an also_known_as name")
            if _check_slug(check, alias_path + ("name",), a["name"])
        )
        _check_link_and_registration(check, path, fields)
        meanings.append(Meaning(
            code, fields["phrase"], _text(fields["spec"]), _text(fields["section"]), fields["url"],
            fields["status"], fields["origin"], fields["registered"], fields.get("notes", ""),
            former, aliases, fields.get("url_label"), fields.get("registration"), fields.get("expires"),
        ))
    return tuple(meanings) if check.ok else ()


def _check_slug(check: Checker, path: KeyPath, name: str) -> bool:
    """Whether `name` can become a URL of the site (merge makes one of every name), failing the check if not."""
    problem = slug_problem(name)
    if problem:
        check.fail(check.doc.mark(path), problem)
    return problem is None


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _check_link_and_registration(check: Checker, path: KeyPath, fields: dict) -> None:
    """A link with no spec says what it is; `expires` belongs to a temporary registration and is a date."""
    mark = check.doc.mark
    if fields["url"] is not None and fields["spec"] is None and "url_label" not in fields:
        check.fail(mark(path + ("url",)), "a url with no spec needs url_label: what the link is "
                   "(documentation, source code, ...)")
    registration = fields.get("registration")
    if registration is not None and registration not in REGISTRATIONS:
        check.fail(mark(path + ("registration",)), f"registration {quoted(registration)} is not one of: "
                   + ", ".join(REGISTRATIONS))
    if "expires" in fields:
        if registration != "temporary":
            check.fail(mark(path + ("expires",)), "expires is only for a temporary registration")
        date = fields["expires"]
        if not (len(date) == 10 and date[4] == date[7] == "-" and (date[:4] + date[5:7] + date[8:]).isdigit()):
            check.fail(mark(path + ("expires",)), f"expires must be a date written 'YYYY-MM-DD', "
                       f"not {quoted(fields['expires'])}")


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
            check.fail(doc.key_mark(("categories", key)), f"class key {quoted(key)} is not one of "
                       f"{', '.join(CLASS_KEYS)}{hint}")
            continue
        checked = check.mapping(category, ("categories", key), CATEGORY_FIELDS, f"category {key}")
        if checked is not None:
            categories.append((key, Category(checked["heading"], checked.get("description", ""))))
    entries: dict[int, tuple[KeyPath, Entry]] = {}
    for path, item in check.items(fields, (), "entries", ENTRY_FIELDS, "an entry"):
        entry = Entry(item["code"], item["name"], item["description"], item.get("url"))
        _check_slug(check, path + ("name",), entry.name)
        for index, place in enumerate(item.get("read_from") or []):
            if kind_problem("text", place):
                check.fail(doc.mark(path + ("read_from", index)), f"each read_from item {kind_problem('text', place)}")
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
    if "kind" in fields and fields["kind"] not in SOURCE_KINDS:
        check.fail(doc.mark(("kind",)), f"kind '{fields['kind']}' is not one of: {', '.join(SOURCE_KINDS)}")
    if not check.ok:
        return None
    return Source(source_id, fields.get("kind", "reference"), fields["title"], fields.get("label", fields["title"]),
                  fields.get("url"), fields.get("license"), fields.get("note", ""),
                  tuple(sorted(categories)), tuple(entry for _, entry in entries.values()), errata)


def _validate_page(file: PageFile, problems: list[Problem]) -> Page | None:
    fields = Checker(file.front, problems).mapping(file.front.value, (), PAGE_FIELDS, "front matter")
    if fields is None:
        return None
    return Page(file.slug, fields["title"], fields["description"], fields.get("sitemap", True), file.body)
