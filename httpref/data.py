"""Data files: takes the `Reference` and the page list, returns the files for programs and hosts: the JSON
API (`api/codes.json`, `api/<code>.json`), the search index, `_redirects`, the Sphinx inventory
`objects.inv`, and with a base URL `sitemap.xml` and `robots.txt`."""
from __future__ import annotations

import json
import zlib

import orjson

from .cache import Memo
from .facts import Citation, Semantics
from .merge import CLASS_TITLES, Code, Reference, slugify
from .pages import BUNDLE, Links, Options, PageSpec, plain_text, site_path, target_of

def data_files(reference: Reference, specs: list[PageSpec], options: Options, memo: Memo | None = None,
               encoded: dict[int, tuple[bytes, bytes, bytes]] | None = None) -> dict[str, bytes]:
    """JSON API, search index, redirects, sitemap and robots.txt.

    With a `memo` (`serve`), only the codes that changed are encoded again. `encoded` holds codes'
    `encode_code` results made elsewhere (by worker processes), by number.
    """
    memo = memo or Memo()
    encoded = encoded or {}
    api_links = Links("api/codes.json", options)
    files = {}
    list_items = []
    for code in reference.codes:
        page_url = _page_url(code, api_links)
        own_file, list_item = memo.get(("json", code.number), (code, page_url),
                                       lambda: encoded[code.number][:2] if code.number in encoded
                                       else _code_json_files(code, page_url))
        files[f"api/{code.number}.json"] = own_file
        list_items.append(list_item)
    items = tuple(list_items)
    files["api/codes.json"] = memo.get("codes.json", items, lambda: _json_list(items))
    records = tuple(memo.get(("search", code.number), (code,),
                             lambda: encoded[code.number][2] if code.number in encoded else _search_record(code))
                    for code in reference.codes) + _page_records(reference)
    files["search-index.js"] = memo.get("search-index.js", records, lambda: search_index(records))
    prefix = site_path(options)
    files["_redirects"] = "".join(
        f"{prefix}{route.slug}/ {prefix}{route.codes[0].number}/ 301\n"
        for route in reference.names if len(route.codes) == 1
    ).encode()
    if options.base_url and options.mode != BUNDLE:
        files["sitemap.xml"] = sitemap(specs, options.base_url)
        files["robots.txt"] = f"User-agent: *\nAllow: /\n\nSitemap: {options.base_url}sitemap.xml\n".encode()
    if options.mode != BUNDLE:  # the bundle has no address for docs to link to
        # What it is made of, so `serve` makes it again (1.8 ms) only when a name, phrase or heading changed.
        named = (reference.site.title, tuple((code.ref, code.meanings) for code in reference.codes),
                 tuple((status_class.key, status_class.heading) for status_class in reference.classes),
                 tuple(page.ref for page in reference.comparisons),
                 tuple((route.slug, route.name, tuple(summary.number for summary in route.codes))
                       for route in reference.names))
        files["objects.inv"] = memo.get("objects.inv", named, lambda: inventory(reference))
    return files


def encode_code(code: Code, options: Options) -> tuple[bytes, bytes, bytes]:
    """A code's JSON file, its item in codes.json and its search record: the data work that is per code."""
    return (*_code_json_files(code, _page_url(code, Links("api/codes.json", options))), _search_record(code))


def _page_url(code: Code, api_links: Links) -> str:
    """A code's page URL in JSON: absolute with a base URL, else relative to the JSON file (RFC 3986 resolves it)."""
    return api_links.canonical(f"{code.number}/") or api_links(f"{code.number}/")


def _code_json_files(code: Code, page_url: str) -> tuple[bytes, bytes]:
    """A code's own JSON file, and its item as codes.json lists it: each code is encoded once.

    orjson writes the bytes `json.dumps(..., indent=2, ensure_ascii=False)` would, ten times faster: the
    standard library encodes indented JSON in Python (0.37 s against 0.03 s for 100 x 500)."""
    encoded = orjson.dumps(_code_json(code, page_url), option=orjson.OPT_INDENT_2)
    # Encoded strings hold no raw newline, so every newline starts a line to indent one level deeper.
    return encoded + b"\n", b"  " + encoded.replace(b"\n", b"\n  ")


def _json_list(items: tuple[bytes, ...]) -> bytes:
    """A JSON file of a list, from its items as encoded by `_code_json_files`."""
    return b"".join((b"[\n", b",\n".join(items), b"\n]\n")) if items else b"[]\n"


def _code_json(code: Code, page_url: str) -> dict:
    return {
        "code": code.number,
        "phrase": code.registry_phrase or code.phrase,
        "name": code.phrase,
        "class": code.class_key,
        "status": code.status,
        "url": page_url,
        "definition": code.definition and {"text": code.definition.text, "cited_as": code.definition.cited_as,
                                           "url": code.definition.url},
        "meanings": [
            {"phrase": m.phrase, "status": m.status, "origin": m.origin, "spec": m.spec, "section": m.section,
             "spec_url": m.url, "registered": m.registered}
            for m in code.meanings
        ],
        **_facts_json(code.semantics),
        "constants": [
            {"library": c.library, "release": c.release, "source": c.source_url,
             "names": [{"name": n.written, "since": n.since, "deprecated": bool(n.deprecated),
                        "deprecated_since": n.deprecated if isinstance(n.deprecated, str) else None} for n in c.names]}
            for c in code.constants
        ],
        "aliases": [
            {"name": a.name, "sources": [s.id for s in a.sources], "documents": [d.source for d in a.documents]}
            for a in code.aliases
        ],
        "sources": [{"id": q.source.id, "name": q.name, "description": q.description, "url": q.original}
                    for q in code.quotes],
    }


def _facts_json(facts: Semantics | None) -> dict:
    """What the defining spec requires of the response: the same keys for every code, null where it says nothing."""
    def cited(citation: Citation) -> dict:
        return {"spec": citation.spec, "section": citation.section, "url": citation.url, "excerpt": citation.excerpt}

    if facts is None:
        return {"headers": [], "rules": [], "cacheable": None, "redirect": None, "no_content": None}
    return {
        "headers": [{"field": rule.field, "requirement": rule.requirement, "condition": rule.condition,
                     **cited(rule.cited)} for rule in facts.headers],
        "rules": [{"requirement": rule.requirement, "statement": rule.statement, "condition": rule.condition,
                   **cited(rule.cited)} for rule in facts.rules],
        "cacheable": facts.cacheable and {"state": facts.cacheable.state, "value": facts.cacheable.value,
                                          **cited(facts.cacheable.cited)},
        "redirect": facts.redirect and {"permanent": facts.redirect.permanent, "method": facts.redirect.method,
                                        **cited(facts.redirect.cited)},
        "no_content": facts.no_content and cited(facts.no_content),
    }


def _facts_words(facts: Semantics | None) -> list[str]:
    """The spec facts as the page states them, each requirement with its condition, for the search to find."""
    if facts is None:
        return []
    return ([" ".join(filter(None, (rule.field, rule.requirement_words, rule.condition))) for rule in facts.headers]
            + [" ".join(filter(None, (rule.statement, rule.condition))) for rule in facts.rules]
            + ([facts.cacheable.words] if facts.cacheable else []))


def _search_record(code: Code) -> bytes:
    """A code's record in the search index, as JSON: what it is called, what it means, and the words that find it."""
    words = " ".join(
        [q.name for q in code.quotes] + [plain_text(q.description) for q in code.quotes]
        + [m.origin for m in code.meanings] + [m.notes for m in code.meanings] + _facts_words(code.semantics)
        + [code.definition.text if code.definition else "", CLASS_TITLES[code.class_key]]
    )
    record = {
        "u": f"{code.number}/", "c": code.number, "p": code.phrase, "s": code.status,
        "m": plain_text(code.summary.summary),
        "o": ", ".join(dict.fromkeys(m.origin for m in code.meanings)),
        "a": [alias.name for alias in code.aliases] + [m.phrase for m in code.meanings if m.phrase != code.phrase],
        "k": [name.written for constant in code.constants for name in constant.names],
        "h": list(dict.fromkeys(rule.field for rule in code.semantics.headers)) if code.semantics else [],
        "t": " ".join(words.split()),
    }
    return _encoded_record(record)


def _page_records(reference: Reference) -> tuple[bytes, ...]:
    """Class, comparison and source pages in the search index: `x` says what kind of page each is."""
    records = [{"u": f"{status_class.key}/", "x": "Class", "p": status_class.heading, "s": "standard",
                "m": f"{len(status_class.codes)} codes, {status_class.codes[0].number} to "
                     f"{status_class.codes[-1].number}" if status_class.codes else status_class.heading,
                "t": " ".join(plain_text(category.description) for _, category in status_class.definitions)}
               for status_class in reference.classes]
    records += [{"u": f"compare/{page.ref.slug}/", "x": "Which one?", "p": page.ref.title, "s": "standard",
                 "m": page.ref.question, "t": " ".join(f"{code.number} {code.phrase}" for code in page.codes)}
                for page in reference.comparisons]
    records += [{"u": f"sources/{page.ref.id}/", "x": "Source", "p": page.ref.label, "s": "standard",
                 "m": page.ref.title, "t": f"{page.ref.id} {plain_text(page.source.note)}"}
                for page in reference.sources]
    return tuple(_encoded_record({"a": [], "k": [], "h": [], "o": "", **record, "t": " ".join(record["t"].split())})
                 for record in records)


def _encoded_record(record: dict) -> bytes:
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


def inventory(reference: Reference) -> bytes:
    """`objects.inv`, the Sphinx inventory (version 2) docs link to pages by name with: `:ref:`http-404``.

    Each name is a `std:label` (Sphinx lowercases `:ref:` targets; ours are lowercase slugs, all starting
    "http-" so they do not take a writer's own labels), its URI relative to the inventory as Sphinx expects,
    so the same bytes serve at any base URL; its display text is the page's heading. A name already taken
    by an entry before it keeps that entry: codes, then meanings, classes, comparisons and names.
    The format (4 header lines, then zlib-compressed `name domain:role priority uri dispname` lines, priority
    -1 as Sphinx gives labels) is what sphinx.util.inventory reads; it is a dozen lines, not a dependency.
    """
    entries: dict[str, tuple[str, str]] = {}  # name -> (uri, display text)

    def add(name: str, uri: str, text: str) -> None:
        entries.setdefault(f"http-{name}", (uri, " ".join(text.split())))

    for code in reference.codes:
        add(str(code.number), f"{code.number}/", f"{code.number} {code.phrase}")
    for code in reference.codes:
        for meaning in code.meanings if len(code.meanings) > 1 else ():  # as code.html anchors each
            slug = slugify(meaning.phrase)
            add(f"{code.number}-{slug}", f"{code.number}/#meaning-{slug}", f"{code.number} {meaning.phrase}")
            for former in meaning.former_phrases:  # a renamed meaning keeps its name, as its heading keeps its anchor
                slug = slugify(former.phrase)
                add(f"{code.number}-{slug}", f"{code.number}/#meaning-{slug}", f"{code.number} {meaning.phrase}")
    for status_class in reference.classes:
        add(status_class.key, f"{status_class.key}/", status_class.heading)
    if reference.comparisons:
        add("compare", "compare/", "Which one?")
    for comparison in reference.comparisons:
        add(f"compare-{comparison.ref.slug}", f"compare/{comparison.ref.slug}/", comparison.ref.title)
    for route in reference.names:  # one code: its page, as the name's redirect leads; several: the name's page
        only = route.codes[0] if len(route.codes) == 1 else None
        add(route.slug, f"{only.number}/" if only else f"{route.slug}/",
            f"{only.number} {only.phrase}" if only else route.name)
    header = f"# Sphinx inventory version 2\n# Project: {' '.join(reference.site.title.split())}\n# Version: \n" \
             "# The remainder of this file is compressed using zlib.\n"
    lines = "".join(f"{name} std:label -1 {uri} {text}\n" for name, (uri, text) in entries.items())
    return header.encode() + zlib.compress(lines.encode(), 9)
