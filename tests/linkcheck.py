"""Internal link checker for a built site folder.

Every relative or root-relative `href`/`src` (and a meta-refresh target) must name a file in
the folder, a directory URL meaning its `index.html`, and every `#fragment` must be an id in
the page it lands on. External links (any URL with a scheme or host) are not followed.

    from linkcheck import broken_links
    assert broken_links(site_dir) == []
"""
from __future__ import annotations

import posixpath
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

LINK_ATTRIBUTES = {"href", "src"}


@dataclass
class PageLinks:
    """What one HTML page offers (ids) and points to (links, with the line they are on)."""

    ids: list[str] = field(default_factory=list)  # in document order, repeats kept
    links: list[tuple[int, str]] = field(default_factory=list)


class _LinkParser(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.page = PageLinks()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        line = self.getpos()[0]
        values = dict(attrs)
        if values.get("id") is not None:
            self.page.ids.append(values["id"])
        for name, value in attrs:
            if name in LINK_ATTRIBUTES and value is not None:
                self.page.links.append((line, value))
        if tag == "meta" and (values.get("http-equiv") or "").lower() == "refresh":
            _, _, target = (values.get("content") or "").partition("url=")
            if target:
                self.page.links.append((line, target.strip()))

    handle_startendtag = handle_starttag


def parse_links(html: str) -> PageLinks:
    parser = _LinkParser()
    parser.feed(html)
    parser.close()
    return parser.page


def resolve(page: str, url: str) -> tuple[str, str] | None:
    """(site-relative file, fragment) that `url` on `page` points to; None for external URLs.

    The file is "" when the URL climbs out of the site folder.
    """
    parts = urlsplit(url)
    if parts.scheme or parts.netloc:
        return None
    path = unquote(parts.path)
    if path.startswith("/"):
        target = path.lstrip("/")
    elif path:
        target = posixpath.join(posixpath.dirname(page), path)
    else:
        return page, unquote(parts.fragment)
    is_dir = target == "" or path.endswith("/")
    target = posixpath.normpath(target or ".")
    if target == ".." or target.startswith("../"):
        return "", unquote(parts.fragment)
    if target == ".":
        target = ""
    if is_dir:
        target = posixpath.join(target, "index.html")
    return target, unquote(parts.fragment)


def broken_links(site: Path) -> list[str]:
    """Every internal link in `site` that does not resolve, as "page:line: url: why"."""
    pages = {
        file.relative_to(site).as_posix(): parse_links(file.read_text(encoding="utf-8"))
        for file in sorted(site.rglob("*.html"))
    }
    problems = []
    for page, found in pages.items():
        for line, url in found.links:
            why = _why_broken(site, pages, page, url)
            if why:
                problems.append(f"{page}:{line}: {url}: {why}")
    return problems


def _why_broken(site: Path, pages: dict[str, PageLinks], page: str, url: str) -> str | None:
    resolved = resolve(page, url)
    if resolved is None:
        return None
    target, fragment = resolved
    if not target:
        return "leaves the site folder"
    if (site / target).is_dir():  # a directory URL written without its slash
        target = posixpath.join(target, "index.html")
    if not (site / target).is_file():
        return f"no file {target}"
    if fragment and target in pages and fragment not in pages[target].ids:
        return f"no id '{fragment}' in {target}"
    if fragment and target not in pages:
        return f"fragment on {target}, which is not an HTML page"
    return None
