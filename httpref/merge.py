"""Merging: takes typed `Content`, returns the `Reference` every page is rendered from: one `Code` per
number in the union of registry and sources (its meanings, aliases with their users, each source's words,
where the sources disagree), the five classes, a page per source, and a URL per name."""
from __future__ import annotations

from dataclasses import dataclass, replace

from .cache import Memo
from .load import CLASS_KEYS, RESERVED_SLUGS
from .facts import Comparison, HeaderRule, Library, LibraryName, Semantics
from .schema import slugify
from .text import first_sentence, name_key, words_key
from .validate import Category, Content, Erratum, FormerPhrase, Meaning, Page, Site, Source

# Class headings as the reference note words them, so the home page keeps its anchors.
CLASS_TITLES = {
    "1xx": "Informational",
    "2xx": "Success",
    "3xx": "Redirection",
    "4xx": "Client errors",
    "5xx": "Server errors",
}


# The model's records have slots: a 100x500 site holds 50,000 quotes and as many references to them.
@dataclass(frozen=True, slots=True)
class SourceRef:
    """What a page needs to attribute a quotation."""

    id: str
    kind: str  # "reference" or "owner"
    title: str
    label: str
    url: str | None


@dataclass(frozen=True, slots=True)
class Definition:
    """What a code means, in the words of whoever defined it: its spec's opening sentence, else its owner's."""

    text: str
    markdown: bool  # an owner's words are Markdown; a spec's sentence is plain text, shown as printed
    cited_as: str  # "RFC 9110 §15.5.30", or the owner source's label
    url: str | None  # the section, or the owner's page


@dataclass(frozen=True, slots=True)
class Quote:
    """One source's words about one code."""

    source: SourceRef
    name: str
    description: str
    url: str | None = None  # the page the words were read from, when the entry names one

    @property
    def original(self) -> str | None:
        """Where a reader finds these words: the entry's own page, else the source's address."""
        return self.url or self.source.url


@dataclass(frozen=True, slots=True)
class QuoteGroup:
    """Sources that say the same thing, shown as one quotation: the longest of their words, every source named."""

    shown: Quote  # whose words are printed
    same: tuple[Quote, ...]  # others whose words are these, up to case, spacing, punctuation and "can not"
    part: tuple[Quote, ...]  # others whose words these contain whole
    renamed: tuple[str, ...]  # the ids of members whose name for the code is not the one the page shows

    @property
    def reworded(self) -> tuple[Quote, ...]:
        """Members whose exact words are not the printed ones: the page keeps them a click away."""
        return tuple(quote for quote in self.same + self.part if quote.description != self.shown.description)


@dataclass(frozen=True, slots=True)
class Alias:
    """A name for a code other than its canonical phrase, and who uses it."""

    name: str
    sources: tuple[SourceRef, ...]
    documents: tuple[FormerPhrase, ...]  # specs and products that used the name


@dataclass(frozen=True, slots=True)
class NameUse:
    name: str
    sources: tuple[SourceRef, ...]


@dataclass(frozen=True, slots=True)
class CodeRef:
    """What a link to a code shows (source pages, neighbours): a summary's edit leaves it equal."""

    number: int
    phrase: str
    registry_phrase: str | None = None  # the registry's phrase where the code goes by another name


@dataclass(frozen=True, slots=True)
class CodeSummary:
    """A code as lists show it: home page, class pages, name pages."""

    number: int
    phrase: str
    status: str
    origin: str
    summary: str  # Markdown, one sentence


@dataclass(frozen=True, slots=True)
class ConstantName:
    """One name for a code, as a developer pastes it, and the releases it works in."""

    written: str  # "HTTPStatus.CONTENT_TOO_LARGE", ':"i\'m_a_teapot"', '"Payload Too Large"'
    since: str | None  # the first release that has it
    deprecated: bool | str  # False, True (release not stated) or the release that deprecated it
    versions: str  # as the page says it: "3.13+", "all versions", "1.6+, deprecated since 3.1", or ""


@dataclass(frozen=True, slots=True)
class Constant:
    """A code's names in one library, as a developer writes them; no names: that release has none for it."""

    library_id: str  # its anchor on the libraries page, where its source file and release are named
    library: str  # "Go net/http"
    release: str  # the release the names were read from: "1.19.8"
    source_url: str  # the library's source file, at the version the names were read from
    names: tuple[ConstantName, ...]


@dataclass(frozen=True, slots=True)
class ComparisonPage:
    """A "which one?" page: one row per code, a column per fact that decides between them, and advice."""

    ref: Comparison  # its slug, title and question
    codes: tuple[Code, ...]

    @property
    def shared_headers(self) -> tuple[HeaderRule, ...]:
        """Header rules every compared code has alike (Date for 2xx-4xx): said once under the table, since they
        cannot decide between the codes. None where the page shows no header column."""
        if "headers" not in dict(self.ref.columns):
            return ()
        first = self.codes[0].semantics.headers if self.codes and self.codes[0].semantics else ()
        return tuple(rule for rule in first
                     if all(code.semantics and rule in code.semantics.headers for code in self.codes[1:]))

    @property
    def deciding_headers(self) -> tuple[tuple[HeaderRule, ...], ...]:
        """Each code's header rules but the shared ones, in the order of `codes`."""
        shared = self.shared_headers
        return tuple(tuple(rule for rule in (code.semantics.headers if code.semantics else ()) if rule not in shared)
                     for code in self.codes)


@dataclass(frozen=True, slots=True)
class Code:
    number: int
    class_key: str
    phrase: str  # the name pages show: the registry's phrase, or the common name that stands for a placeholder
    registry_phrase: str | None  # the registry's phrase where it is a placeholder ("(Unused)" for 418)
    status: str
    definition: Definition | None
    meanings: tuple[Meaning, ...]
    aliases: tuple[Alias, ...]
    quotes: tuple[Quote, ...]
    quote_groups: tuple[QuoteGroup, ...]  # the quotes as pages show them: one per distinct thing said
    names: tuple[NameUse, ...]  # each distinct name the sources use, with its users
    omitted_by: tuple[SourceRef, ...]
    errata: tuple[tuple[SourceRef, Erratum], ...]
    ref: CodeRef
    summary: CodeSummary
    summary_by: SourceRef | None  # whose first sentence the summary is; None when the registry's notes stand in
    semantics: Semantics | None  # what the defining spec requires of the response
    constants: tuple[Constant, ...]  # its names in standard libraries
    comparisons: tuple[Comparison, ...]  # the "which one?" pages it is compared on

    @property
    def summary_adds(self) -> bool:
        """Whether the summary says more than the definition above it (an owner's words are often both)."""
        return not (self.definition and words_key(self.summary.summary) in words_key(self.definition.text))

    @property
    def definition_source(self) -> str | None:
        """The owner whose whole description is the definition above: its quotation is not printed twice."""
        if self.definition and self.definition.markdown:
            for quote in self.quotes:
                if quote.source.kind == "owner" and quote.description == self.definition.text:
                    return quote.source.id
        return None

    @property
    def sources_disagree(self) -> bool:  # on the name: leaving a code out is no disagreement
        return len(self.names) > 1


@dataclass(frozen=True, slots=True)
class StatusClass:
    key: str  # "4xx"
    title: str  # "Client errors"
    heading: str  # "4xx Client errors"
    anchor: str  # "4xx-client-errors", as the reference note slugs it
    definitions: tuple[tuple[SourceRef, Category], ...]
    codes: tuple[CodeSummary, ...]


@dataclass(frozen=True, slots=True)
class Difference:
    """A name a source gives a code that differs from the canonical phrase."""

    code: CodeRef  # the code, and its canonical phrase
    name: str


@dataclass(frozen=True, slots=True)
class SourcePage:
    """A source's own page: the codes it covers and lacks, and where its names differ."""

    source: Source
    ref: SourceRef
    covers: tuple[CodeRef, ...]
    lacks: tuple[CodeRef, ...]
    differences: tuple[Difference, ...]


@dataclass(frozen=True, slots=True)
class NameRoute:
    """A URL made of a name (`/not-found/`) and the codes that go by that name."""

    slug: str
    name: str
    codes: tuple[CodeSummary, ...]


@dataclass(frozen=True, slots=True)
class Reference:
    """The merged model every page is rendered from."""

    site: Site
    codes: tuple[Code, ...]
    classes: tuple[StatusClass, ...]
    sources: tuple[SourcePage, ...]
    pages: tuple[Page, ...]
    names: tuple[NameRoute, ...]
    comparisons: tuple[ComparisonPage, ...]
    libraries: tuple[Library, ...]  # the libraries whose constants code pages show


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
    semantics = {facts.code: facts for facts in content.facts.semantics}
    constants = memo.get("constants", (content.facts.libraries,), lambda: _constants_by_code(content.facts.libraries))
    compared: dict[int, list[Comparison]] = {}
    for comparison in content.facts.comparisons:
        for number in comparison.codes:
            compared.setdefault(number, []).append(comparison)
    # Lists summarise a code in the words of the source that covers the most codes, so they read in one
    # voice; where it lacks a code, the next most complete source speaks (the About page says so).
    ranking = tuple(source.id for source in sorted(content.sources, key=lambda s: (-len(s.entries), s.id)))
    codes = []
    for number in sorted(meanings_by_code.keys() | quotes_by_code.keys()):
        inputs = (tuple(meanings_by_code.get(number, ())), tuple(quotes_by_code.get(number, ())), all_refs,
                  tuple(errata_by_code.get(number, ())), ranking, semantics.get(number),
                  constants.get(number, ()), tuple(compared.get(number, ())))
        codes.append(memo.get(("code", number), inputs, lambda: _merge_code(number, *inputs)))
    codes = tuple(codes)
    by_number = {code.number: code for code in codes}
    comparisons = tuple(
        ComparisonPage(comparison, tuple(by_number[number] for number in comparison.codes))
        for comparison in content.facts.comparisons
    )
    classes = tuple(_status_class(key, codes, content.sources, refs) for key in CLASS_KEYS)
    code_refs = tuple(code.ref for code in codes)
    sources = tuple(
        memo.get(("source page", source.id), (source, refs[source.id], code_refs),
                 lambda: _source_page(source, refs[source.id], code_refs))
        for source in content.sources
    )
    taken = {page.slug for page in content.pages}
    return Reference(content.site, codes, classes, sources, content.pages, _name_routes(codes, taken), comparisons,
                     content.facts.libraries)


def _constants_by_code(libraries: tuple[Library, ...]) -> dict[int, tuple[Constant, ...]]:
    """Each code's names in every library, for the codes at least one library names; a library without
    a name for such a code is listed with none, so the page can say it lacks one."""
    named: dict[int, dict[str, tuple[ConstantName, ...]]] = {}
    for library in libraries:
        for number, names in library.names:
            any_since = any(name.since for name in names)
            named.setdefault(number, {})[library.id] = tuple(
                ConstantName(library.written(name.name), name.since, name.deprecated, _versions(name, any_since))
                for name in names)
    return {number: tuple(Constant(library.id, library.name, library.release, library.source_url, by_library.get(library.id, ()))
                          for library in libraries)
            for number, by_library in named.items()}


def _versions(name: LibraryName, any_since: bool) -> str:
    """The releases a name works in, in a reader's words; "all versions" only beside a name that needs one."""
    words = [f"{name.since}+"] if name.since else []
    if name.deprecated:
        words.append("deprecated" + ("" if name.deprecated is True else f" since {name.deprecated}"))
    return ", ".join(words) or ("all versions" if any_since else "")


def _quotes(source: Source) -> tuple[SourceRef, tuple[Quote, ...]]:
    """How pages attribute `source`, and its words about each code, in the order of its entries."""
    ref = SourceRef(source.id, source.kind, source.title, source.label, source.url)
    return ref, tuple(Quote(ref, entry.name, entry.description, entry.url) for entry in source.entries)


def _merge_code(number: int, meanings: tuple[Meaning, ...], quotes: tuple[Quote, ...],
                all_refs: tuple[SourceRef, ...], errata: tuple[tuple[SourceRef, Erratum], ...],
                ranking: tuple[str, ...], semantics: Semantics | None, constants: tuple[Constant, ...],
                comparisons: tuple[Comparison, ...]) -> Code:
    names = _names_in_use(quotes)
    registered = meanings[0].phrase if meanings else max(names, key=lambda use: len(use.sources)).name
    phrase = meanings[0].common_name or registered if meanings else registered
    registry_phrase = registered if phrase != registered else None
    status = meanings[0].status if meanings else "unofficial"
    origin = meanings[0].origin if meanings else "unknown"
    quoted = {quote.source.id for quote in quotes}
    quotes = tuple(sorted(quotes, key=lambda quote: quote.source.kind != "owner"))  # the owner speaks first
    summary_text, summary_by = _summary(quotes, meanings, ranking)
    summary = CodeSummary(number, phrase, status, origin, summary_text)
    return Code(
        number=number, class_key=f"{number // 100}xx", phrase=phrase, registry_phrase=registry_phrase,
        status=status, definition=_definition(semantics, quotes), meanings=meanings,
        aliases=_aliases(registered, meanings, names), quotes=quotes, quote_groups=group_quotes(quotes, phrase),
        names=names,
        # an owner documents only its own codes: leaving out the others is not a disagreement
        omitted_by=tuple(ref for ref in all_refs if ref.id not in quoted and ref.kind == "reference"), errata=errata,
        ref=CodeRef(number, phrase, registry_phrase), summary=summary, summary_by=summary_by, semantics=semantics,
        constants=constants,
        comparisons=comparisons,
    )


def _definition(semantics: Semantics | None, quotes: tuple[Quote, ...]) -> Definition | None:
    """The defining spec's own sentence where one was read; for codes no spec defines, the owner's first paragraph."""
    if semantics and semantics.definition:
        cited = semantics.definition
        return Definition(cited.excerpt, False, f"{cited.spec} §{cited.section}", cited.url)
    for quote in quotes:
        if quote.source.kind == "owner":
            return Definition(quote.description.split("\n\n")[0], True, quote.source.label, quote.original)
    return None


def group_quotes(quotes: tuple[Quote, ...], phrase: str) -> tuple[QuoteGroup, ...]:
    """One group per thing said: quotes with the same words (by `words_key`) share one, and a quote whose words
    another contains whole joins that one's group. Groups keep the order of their first member."""
    keys = [words_key(quote.description) for quote in quotes]
    groups: list[list[int]] = []  # indexes into `quotes`, the one shown first
    shown: list[str] = []  # each group's shown key, padded so that containment is by whole words
    every_shown = ""  # all of them, NUL-separated: one search in C tells whether any contains a key
    by_key: dict[str, list[int]] = {}  # equal words join their group at once
    for index in sorted(range(len(quotes)), key=lambda i: -len(keys[i])):  # longest first; ties keep page order
        key = f" {keys[index]} "
        home = by_key.get(key)
        if home is None and keys[index] and key in every_shown:  # rare: most descriptions are nobody's part
            home = next(group for group, text in zip(groups, shown) if key in text)
        if home is None:
            home = [index]
            groups.append(home)
            shown.append(key)
            every_shown += "\0" + key
        else:
            home.append(index)
        by_key.setdefault(key, home)
    renamed = {quote.source.id for quote in quotes if name_key(quote.name) != name_key(phrase)}
    return tuple(QuoteGroup(quotes[group[0]], tuple(quotes[i] for i in sorted(group[1:]) if keys[i] == keys[group[0]]),
                            tuple(quotes[i] for i in sorted(group[1:]) if keys[i] != keys[group[0]]),
                            tuple(quotes[i].source.id for i in group if quotes[i].source.id in renamed))
                 for group in sorted(groups, key=min))


def _names_in_use(quotes: tuple[Quote, ...]) -> tuple[NameUse, ...]:
    """Distinct names (by `name_key`) in source order, each spelled as its first user spells it."""
    uses: dict[str, NameUse] = {}
    for quote in quotes:
        key = name_key(quote.name)
        known = uses.get(key)
        uses[key] = NameUse(known.name if known else quote.name, (known.sources if known else ()) + (quote.source,))
    return tuple(uses.values())


def _aliases(phrase: str, meanings: tuple[Meaning, ...], names: tuple[NameUse, ...]) -> tuple[Alias, ...]:
    """Every name but the registry's phrases, with who uses each (a common name shown in place of a placeholder
    phrase stays listed: this is where its users are named)."""
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
        for other in meaning.also_known_as:  # credited to its own user, not to the meaning's origin
            add(other.phrase, documents=(other,))
    for use in names:
        add(use.name, sources=use.sources)
    return tuple(aliases.values())


def _summary(quotes: tuple[Quote, ...], meanings: tuple[Meaning, ...],
             ranking: tuple[str, ...]) -> tuple[str, SourceRef | None]:
    """The first sentence of the highest-ranked source's words, for lists; registry notes when no source speaks."""
    if quotes:
        position = {source_id: index for index, source_id in enumerate(ranking)}
        speaker = min(quotes, key=lambda quote: position[quote.source.id])
        return first_sentence(speaker.description.split("\n\n")[0].replace("\n", " ").strip()), speaker.source
    meaning = meanings[0]
    return meaning.notes or f"Defined by {meaning.origin}.", None


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
    by_number = {code.number: code for code in codes}
    differences = tuple(
        Difference(by_number[entry.code], entry.name)
        for entry in sorted(source.entries, key=lambda e: e.code)
        if name_key(entry.name) != name_key(by_number[entry.code].registry_phrase or by_number[entry.code].phrase)
    )
    return SourcePage(
        replace(source, entries=()),  # its page shows no entry's words: a description's edit leaves it equal
        ref,
        covers=tuple(code for code in codes if code.number in listed),
        lacks=tuple(code for code in codes if code.number not in listed),
        differences=differences,
    )


def _name_routes(codes: tuple[Code, ...], taken: set[str]) -> tuple[NameRoute, ...]:
    """A URL for every canonical phrase, meaning and alias; a shared name lists all its codes, except that a name
    one standard code shares with unofficial ones leads to the standard code (/unauthorized/ is 401, not AWS's 561):
    that is what a link by name means, and what the address meant before a vendor's code took the name too.

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
    return tuple(NameRoute(slug, name, _standard_first(members)) for slug, (name, members) in sorted(routes.items()))


def _standard_first(members: list[CodeSummary]) -> tuple[CodeSummary, ...]:
    standard = [member for member in members if member.status == "standard"]
    return tuple(standard) if len(standard) == 1 else tuple(members)
