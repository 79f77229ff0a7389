"""The facts a developer acts on, as typed records: takes `content/semantics.yaml` (what the defining
specification requires of a response with each code, each fact with its section and verbatim words) and
`content/constants.yaml` (each code's name in standard libraries, with the source file read) and
`content/comparisons.yaml` ("which one?" pages), returns `Semantics` per code, `Library` and `Comparison`
records, recording every problem found."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass

from .load import SAFE_ID, KeyPath, YamlDoc, plain_value
from .problems import Problem, quoted
from .schema import MAX_SLUG_BYTES, Checker, Fields, describe, kind_problem

# BCP 14 keywords as worded, and "states": the spec says it in a plain sentence, with no keyword.
REQUIREMENTS = ("MUST", "MUST NOT", "SHOULD", "SHOULD NOT", "MAY", "states")
STATES = "states"
KEYWORD = re.compile(r"\b(MUST|SHOULD|MAY|REQUIRED|SHALL|RECOMMENDED|OPTIONAL)\b")
# What RFC 9110 Section 15.1, RFC 6585 and the other RFCs say a cache may do with a response, in a reader's words.
CACHE_STATES = {
    "heuristic": "heuristically cacheable by default",
    "not-heuristic": "not heuristically cacheable",
    "must-not-store": "must not be stored by a cache",
}
# HTTP's core specifications state rules for every status code, whichever document defines the code.
CORE_SPECS = frozenset({"RFC 9110", "RFC 9111"})
# How a client may treat the request method when it follows the redirect, in a reader's words.
METHODS = {
    "kept": "method kept (a POST stays a POST)",
    "may-change": "method may change (a POST may become a GET)",
    "changed-to-get": "changed to GET (or HEAD)",
}
SPEC = re.compile(r"RFC (\d{3,5})\Z")
SECTION = re.compile(r"\d+(\.\d+)*\Z")
COMMIT = re.compile(r"[0-9a-f]{40}\Z")

CITED: Fields = {"spec": ("text", True), "section": ("text", True), "excerpt": ("text", True)}
SEMANTICS_FIELDS: Fields = {"code": ("code", True), "definition": ("map", False), "headers": ("list", False),
                            "rules": ("list", False), "cacheable": ("map", False),
                            "redirect": ("map", False), "no_content": ("map", False)}
HEADER_FIELDS: Fields = {"field": ("text", True), "requirement": ("text", True), "condition": ("text", False), **CITED}
RULE_FIELDS: Fields = {"requirement": ("text", True), "statement": ("text", True), "condition": ("text", False),
                       **CITED}
CACHEABLE_FIELDS: Fields = {"state": ("text", True), **CITED}
REDIRECT_FIELDS: Fields = {"permanent": ("bool?", True), "method": ("text", True), **CITED}
COMPARISON_FIELDS: Fields = {"slug": ("text", True), "title": ("text", True), "question": ("text", True),
                             "codes": ("list", True), "columns": ("list", True), "advice": ("list", True)}
ADVICE_FIELDS: Fields = {"text": ("text", True), **CITED}
# The facts a comparison table can show, by the column heading a reader sees.
COLUMNS = {"meaning": "What it means", "headers": "Header fields", "cacheable": "Cacheable by default",
           "permanent": "Permanent", "method": "Request method", "content": "Content", "status": "Status"}
CONSTANTS_FIELDS: Fields = {"libraries": ("list", True)}
LIBRARY_FIELDS: Fields = {
    "id": ("text", True), "name": ("text", True), "language": ("text", True), "repo": ("text", True),
    "path": ("text", True), "commit": ("text", False), "tag": ("text", False), "release": ("text", True),
    "sha256": ("text", False), "format": ("text", True), "note": ("text", False), "codes": ("map", True),
}
# A name given as a mapping; `deprecated` (true, or the release that deprecated it) is checked on its own.
NAME_FIELDS: Fields = {"name": ("text", True), "since": ("text", False)}
RELEASE = re.compile(r"\d+(\.\d+)*\Z")
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
RUBY_BARE_SYMBOL = re.compile(r"[A-Za-z_][A-Za-z0-9_]*[?!]?\Z")
# How each language writes a name so that it pastes: "identifier" as it is, "ruby-symbol" as :name or
# :"quoted name", "js-string" as a double-quoted JavaScript string.
LANGUAGES = {"python": "identifier", "go": "identifier", "java": "identifier", "csharp": "identifier",
             "rust": "identifier", "php": "identifier", "ruby": "ruby-symbol", "javascript": "js-string"}


@dataclass(frozen=True)
class Citation:
    """Where a specification states a fact, and its words."""

    spec: str  # "RFC 9110"
    section: str  # "15.5.6"
    excerpt: str

    @property
    def url(self) -> str:
        return f"https://www.rfc-editor.org/rfc/rfc{SPEC.match(self.spec).group(1)}#section-{self.section}"


def requirement_words(requirement: str) -> str:
    return "stated, without a BCP 14 keyword" if requirement == STATES else requirement


@dataclass(frozen=True)
class HeaderRule:
    """A header field the specification ties to a code, how strongly it words it, and when."""

    field: str
    requirement: str  # one of REQUIREMENTS
    condition: str | None  # the spec's words for who must do it, or when; None: every response with the code
    cited: Citation

    @property
    def requirement_words(self) -> str:
        return requirement_words(self.requirement)


@dataclass(frozen=True)
class Rule:
    """A requirement that is not about one header field ("A proxy MUST NOT generate a 421 response")."""

    requirement: str  # one of REQUIREMENTS
    statement: str  # who must do what, in the spec's words
    condition: str | None  # when, in the spec's words; None: always
    cited: Citation

    @property
    def requirement_words(self) -> str:
        return requirement_words(self.requirement)


@dataclass(frozen=True)
class Cacheable:
    state: str  # one of CACHE_STATES
    cited: Citation

    @property
    def value(self) -> bool:
        """Heuristically cacheable by default."""
        return self.state == "heuristic"

    @property
    def words(self) -> str:
        return CACHE_STATES[self.state]


@dataclass(frozen=True)
class Redirect:
    permanent: bool | None  # None: the definition says neither (303)
    method: str  # one of METHODS
    cited: Citation

    @property
    def method_words(self) -> str:
        return METHODS[self.method]


@dataclass(frozen=True)
class Semantics:
    """What the defining specification says a response with `code` requires or allows."""

    code: int
    definition: Citation | None  # the sentence that opens the code's own section and says what it means
    headers: tuple[HeaderRule, ...]
    rules: tuple[Rule, ...]
    cacheable: Cacheable | None
    redirect: Redirect | None
    no_content: Citation | None  # the specification says such a response never has content

    @property
    def header_groups(self) -> tuple[tuple[tuple[str, ...], HeaderRule], ...]:
        """Rules that one sentence states alike for several fields (206's "Date, Cache-Control, ..."), as one
        row each: the fields, and the first rule (all share its requirement, condition and citation)."""
        groups: list[tuple[tuple[str, ...], HeaderRule]] = []
        for rule in self.headers:
            last = groups[-1][1] if groups else None
            if last and (last.requirement, last.condition, last.cited) == (rule.requirement, rule.condition,
                                                                           rule.cited):
                groups[-1] = (groups[-1][0] + (rule.field,), last)
            else:
                groups.append(((rule.field,), rule))
        return tuple(groups)

    @property
    def rule_groups(self) -> tuple[tuple[Citation, tuple[Rule, ...]], ...]:
        """Rules by the section that states them, in order: the page links each section once."""
        groups: list[tuple[Citation, tuple[Rule, ...]]] = []
        for rule in self.rules:
            if groups and (groups[-1][0].spec, groups[-1][0].section) == (rule.cited.spec, rule.cited.section):
                groups[-1] = (groups[-1][0], groups[-1][1] + (rule,))
            else:
                groups.append((rule.cited, (rule,)))
        return tuple(groups)

    @property
    def citations(self) -> tuple[Citation, ...]:
        """The passages the page's short facts rest on, once each, in the order the page states them. Rules are
        left out: the page states each in the spec's own words already (statement and condition), and its whole
        sentence is in the JSON; quoting it twice would cost a code page its weight budget."""
        cited = [rule.cited for rule in self.headers] + [fact.cited for fact in (self.cacheable, self.redirect) if fact]
        return tuple(dict.fromkeys(cited + ([self.no_content] if self.no_content else [])))


@dataclass(frozen=True)
class LibraryName:
    """One name a library gives a code, and the releases it works in."""

    name: str  # as the library spells it: "CONTENT_TOO_LARGE", "Payload Too Large"
    since: str | None  # the first release that has it; None: every release the page speaks of
    deprecated: bool | str  # False, True (release not stated) or the release that deprecated it


@dataclass(frozen=True)
class Library:
    """A library's names for status codes, and the source file and release they were read from."""

    id: str
    name: str
    language: str  # one of LANGUAGES
    repo: str
    path: str
    revision: str  # the commit read, else the tag
    release: str  # the release read, in the library's own numbering: "3.13.0"
    format: str  # how a developer writes a name: "http.{name}"
    names: tuple[tuple[int, tuple[LibraryName, ...]], ...]  # code -> names, the current one first
    note: str  # how the names and their releases were read and checked

    @property
    def source_url(self) -> str:
        return f"https://github.com/{self.repo}/blob/{self.revision}/{self.path}"

    def written(self, name: str) -> str:
        """`name` as a developer pastes it into code in the library's language."""
        style = LANGUAGES[self.language]
        if style == "js-string":
            name = json.dumps(name, ensure_ascii=False)
        elif style == "ruby-symbol":
            # `#` too: inside double quotes `#{` would interpolate.
            name = ":" + (name if RUBY_BARE_SYMBOL.match(name) else
                          '"' + re.sub(r'(["\\#])', r"\\\1", name) + '"')
        return self.format.replace("{name}", name)


def validate_semantics(doc: YamlDoc, specs: dict[int, set[str]], problems: list[Problem]) -> tuple[Semantics, ...]:
    """Typed facts per code; `specs` holds each registered code's defining specs, one of which each fact cites."""
    check = Checker(doc, problems)
    facts: dict[int, Semantics] = {}
    for path, fields in check.listed(SEMANTICS_FIELDS, "semantics.yaml", "semantics entry"):
        code = fields["code"]
        if code in facts:
            check.fail(doc.mark(path + ("code",)), f"code {code} is listed twice")
        if code not in specs:
            check.fail(doc.mark(path + ("code",)), f"code {code} is not in the registry: facts need its defining spec")
            continue
        cite = _Citer(check, specs[code], code)
        definition = None
        if "definition" in fields and (found := check.mapping(fields["definition"], path + ("definition",),
                                                              CITED, "definition")):
            definition = cite(found, path + ("definition",))
        headers = tuple(
            HeaderRule(rule["field"], rule["requirement"], rule.get("condition"), cited)
            for rule_path, rule in check.items(fields, path, "headers", HEADER_FIELDS, "a header rule")
            if (cited := cite(rule, rule_path, rule["requirement"], rule.get("condition"))) is not None
        )
        rules = tuple(
            Rule(rule["requirement"], rule["statement"], rule.get("condition"), cited)
            for rule_path, rule in check.items(fields, path, "rules", RULE_FIELDS, "a rule")
            if (cited := cite(rule, rule_path, rule["requirement"], rule.get("condition"), rule["statement"]))
        )
        cacheable = redirect = no_content = None
        if "cacheable" in fields and (found := check.mapping(fields["cacheable"], path + ("cacheable",),
                                                             CACHEABLE_FIELDS, "cacheable")):
            state = found["state"]
            if state not in CACHE_STATES:
                check.fail(doc.mark(path + ("cacheable", "state")), f"state '{state}' is not one of: "
                           + ", ".join(CACHE_STATES))
            # "must not be stored" is a requirement: its sentence says MUST NOT.
            cited = cite(found, path + ("cacheable",), "MUST NOT" if state == "must-not-store" else None)
            cacheable = Cacheable(state, cited) if cited and state in CACHE_STATES else None
        if "redirect" in fields and (found := check.mapping(fields["redirect"], path + ("redirect",),
                                                            REDIRECT_FIELDS, "redirect")):
            if found["method"] not in METHODS:
                check.fail(doc.mark(path + ("redirect", "method")), f"method {quoted(found['method'])} is not one of: "
                           + ", ".join(METHODS))
            cited = cite(found, path + ("redirect",))
            redirect = Redirect(found["permanent"], found["method"], cited) if cited else None
        if "no_content" in fields and (found := check.mapping(fields["no_content"], path + ("no_content",),
                                                              CITED, "no_content")):
            no_content = cite(found, path + ("no_content",))
        facts[code] = Semantics(code, definition, headers, rules, cacheable, redirect, no_content)
    return tuple(facts[code] for code in sorted(facts)) if check.ok else ()


def _quotes(excerpt: str, words: str) -> bool:
    """`words` are the excerpt's own, whitespace aside; a first letter may change case (a condition that opens
    the sentence reads "if ..." after a requirement)."""
    excerpt, words = " ".join(excerpt.split()), " ".join(words.split())
    return bool(words) and any(form in excerpt for form in (words, words[:1].upper() + words[1:],
                                                             words[:1].lower() + words[1:]))


class _Citer:
    """Checks a fact's citation: the code's own spec or HTTP's core, a section number, words that carry its
    keyword, and a condition and statement that are the excerpt's own words."""

    def __init__(self, check: Checker, specs: set[str], code: int | str):  # a code, or what a comparison cites for
        self.check, self.specs, self.code = check, specs, code

    def __call__(self, fields: dict, path: KeyPath, keyword: str | None = None, condition: str | None = None,
                 statement: str | None = None) -> Citation | None:
        mark = self.check.doc.mark
        ok = True
        if not SPEC.match(fields["spec"]):
            ok = False
            self.check.fail(mark(path + ("spec",)), f"spec {quoted(fields['spec'])} is not an RFC like 'RFC 9110'")
        elif fields["spec"] not in self.specs | CORE_SPECS:
            ok = False
            self.check.fail(mark(path + ("spec",)), f"{quoted(fields['spec'])} is not a spec the registry names for "
                            f"{self.code} ({', '.join(sorted(self.specs)) or 'none'}) nor HTTP's core "
                            f"({', '.join(sorted(CORE_SPECS))}): cite the defining document")
        section = str(fields["section"])
        if not SECTION.match(section):
            ok = False
            self.check.fail(mark(path + ("section",)), f"section {quoted(section)} is not a section number like 15.5.6")
        if keyword is not None:
            if keyword not in REQUIREMENTS:
                ok = False
                self.check.fail(mark(path + ("requirement",)), f"requirement {quoted(keyword)} is not one of: "
                                + ", ".join(REQUIREMENTS))
            elif keyword == STATES and KEYWORD.search(fields["excerpt"]):
                ok = False
                self.check.fail(mark(path + ("requirement",)), "the excerpt has a BCP 14 keyword: state it "
                                "instead of 'states'")
            elif keyword != STATES and not re.search(rf"\b{keyword}\b" + ("" if keyword.endswith("NOT") else
                                                                         r"(?! NOT)"), fields["excerpt"]):
                ok = False
                self.check.fail(mark(path + ("excerpt",)), f"the excerpt does not say {keyword}: quote the "
                                "sentence that states the requirement")
        for key, words in (("condition", condition), ("statement", statement)):
            if words is not None and not _quotes(fields["excerpt"], words):
                ok = False
                self.check.fail(mark(path + (key,)), f"the {key} is not in the excerpt: give the spec's own words")
        return Citation(fields["spec"], section, " ".join(fields["excerpt"].split())) if ok else None


@dataclass(frozen=True)
class Advice:
    """One sentence of a comparison's recommendation, in our words, and the passage of the spec it rests on."""

    text: str  # Markdown
    cited: Citation


@dataclass(frozen=True)
class Comparison:
    """A "which one?" page: codes for similar situations, compared on the facts that decide between them."""

    slug: str
    title: str
    question: str
    codes: tuple[int, ...]
    columns: tuple[tuple[str, str], ...]  # (key in COLUMNS, heading), in the order shown
    advice: tuple[Advice, ...]


@dataclass(frozen=True)
class Facts:
    """The three optional fact files, checked: none of them is needed for a site."""

    semantics: tuple[Semantics, ...] = ()
    libraries: tuple[Library, ...] = ()
    comparisons: tuple[Comparison, ...] = ()


def validate_comparisons(doc: YamlDoc, specs: dict[int, set[str]], problems: list[Problem]) -> tuple[Comparison, ...]:
    """Typed comparisons; `specs` holds each registered code's defining specs, one of which each advice cites."""
    check = Checker(doc, problems)
    registered = frozenset(specs)
    comparisons: dict[str, Comparison] = {}
    for path, fields in check.listed(COMPARISON_FIELDS, "comparisons.yaml", "comparison"):
        slug = fields["slug"]
        if not SAFE_ID.match(slug) or slug in comparisons or len(slug) > MAX_SLUG_BYTES:
            check.fail(doc.mark(path + ("slug",)), f"slug {quoted(slug)} must be unique, in lowercase letters, digits "
                       f"and single hyphens, at most {MAX_SLUG_BYTES} long (it names a folder)")
        for code_index, code in enumerate(fields["codes"]):
            problem = kind_problem("code", code)
            if problem:
                check.fail(doc.mark(path + ("codes", code_index)), f"a code {problem}")
            elif code not in registered:
                check.fail(doc.mark(path + ("codes", code_index)), f"code {code} is not in the registry")
        for column_index, column in enumerate(fields["columns"]):
            if column not in COLUMNS:
                check.fail(doc.mark(path + ("columns", column_index)), f"column {quoted(column)} is not one of: "
                           + ", ".join(COLUMNS))
        cite = _Citer(check, set().union(*(specs.get(code, set()) for code in fields["codes"]
                                           if not kind_problem("code", code))), f"the codes of {slug}")
        advice = tuple(
            Advice(found["text"], cited)
            for advice_path, found in check.items(fields, path, "advice", ADVICE_FIELDS, "an advice")
            if (cited := cite(found, advice_path)) is not None
        )
        comparisons[slug] = Comparison(slug, fields["title"], fields["question"], tuple(fields["codes"]),
                                       tuple((column, COLUMNS[column]) for column in fields["columns"]
                                             if column in COLUMNS), advice)
    return tuple(comparisons.values()) if check.ok else ()


def validate_constants(doc: YamlDoc, problems: list[Problem]) -> tuple[Library, ...]:
    check = Checker(doc, problems)
    fields = check.mapping(doc.value, (), CONSTANTS_FIELDS, "constants.yaml")
    if fields is None:
        return ()
    libraries = []
    for path, found in check.items(fields, (), "libraries", LIBRARY_FIELDS, "a library"):
        commit = found.get("commit")
        if commit is None and "tag" not in found:
            check.fail(doc.mark(path), "a library names the `commit` or the `tag` its names were read at")
        elif commit is not None and not COMMIT.match(commit):
            check.fail(doc.mark(path + ("commit",)), f"commit {quoted(commit)} is not 40 hexadecimal digits")
        if found["language"] not in LANGUAGES:
            check.fail(doc.mark(path + ("language",)), f"language {quoted(found['language'])} is not one of: "
                       + ", ".join(LANGUAGES))
            continue
        if "{name}" not in found["format"]:
            check.fail(doc.mark(path + ("format",)), "format must hold {name}, where each name goes")
        names = []
        for key, listed in found["codes"].items():
            where = path + ("codes", key)
            # A key is text: read as YAML reads an unquoted one, so '0404' is the octal number it looks like.
            problem = kind_problem("code", plain_value(key)) or \
                (None if isinstance(listed, list) and listed else "must list one or more names")
            if problem:
                check.fail(doc.key_mark(where), f"code {quoted(key)}: {problem}")
                continue
            checked = tuple(_library_name(check, item, where + (index,), found["language"])
                            for index, item in enumerate(listed))
            names.append((int(key), checked))
        libraries.append(Library(found["id"], found["name"], found["language"], found["repo"], found["path"],
                                 commit or found.get("tag", ""), found["release"], found["format"],
                                 tuple(sorted(names)), found.get("note", "")))
    return tuple(libraries) if check.ok else ()


def _library_name(check: Checker, item, path: KeyPath, language: str) -> LibraryName | None:
    """One listed name: a plain string, or {name, since, deprecated}; None (and a problem) when it is wrong."""
    mark = check.doc.mark
    if isinstance(item, dict):
        fields = dict(item)
        deprecated = fields.pop("deprecated", False)
        if not (deprecated is True or deprecated is False or isinstance(deprecated, str) and RELEASE.match(deprecated)):
            check.fail(mark(path + ("deprecated",)), f"'deprecated' must be true or the release that deprecated "
                       f"the name, like '3.1', not {describe(deprecated)}")
            return None
        if check.mapping(fields, path, NAME_FIELDS, "a name") is None:
            return None
        name, since = fields["name"], fields.get("since")
        if since is not None and not RELEASE.match(since):
            check.fail(mark(path + ("since",)), f"since '{since}' is not a release number like '3.13'")
            return None
    elif (problem := kind_problem("text", item)) is None:
        name, since, deprecated = item, None, False
    else:
        check.fail(mark(path), f"a name {problem}: write it as text, or as a mapping with keys name, since, "
                   "deprecated")
        return None
    if LANGUAGES[language] == "identifier" and not IDENTIFIER.match(name):
        check.fail(mark(path + (("name",) if isinstance(item, dict) else ())),
                   f"'{name}' is not an identifier in {language}: write the name exactly as the library does")
        return None
    return LibraryName(name, since, deprecated)
