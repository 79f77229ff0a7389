"""The page list and its links: takes the `Reference`, returns a `PageSpec` per HTML page (its path,
template, title and the page kind's own context), and `Links`, which turns a site-relative target into
the URL one page writes (relative, `index.html` in the offline bundle, absolute for `404.html`)."""
from __future__ import annotations

import functools
import posixpath
import re
from dataclasses import dataclass
from typing import Any

from .merge import Reference

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
        self._urls: dict[str, str] = {}  # a code page links each source two or three times
        # Most targets share no folder with the page: their URL is the way up to the root, then the target.
        plain = _PLAIN_PATH.match(self.page_dir)
        self._up = ("../" * len(self.page_dir.split("/")) if self.page_dir else "") if plain else None
        self._top = self.page_dir.split("/", 1)[0]

    def __call__(self, target: str) -> str:
        url = self._urls.get(target)
        if url is None:
            url = self._urls[target] = self._url(target)
        return url

    def _url(self, target: str) -> str:
        target, hash_, fragment = target.partition("#")
        if target == "" and hash_:
            return "#" + fragment
        is_dir = target == "" or target.endswith("/")
        if self.options.mode == BUNDLE and is_dir:
            target += "index.html"
            is_dir = False
        if self.absolute_root is not None:
            url = self.absolute_root + target
        elif self._up is not None and _PLAIN_PATH.match(target) and target.split("/", 1)[0] != self._top:
            url = self._up + target or "./"
        else:
            url = _relative(target, self.page_dir)
            if is_dir:
                url = "./" if url == "." else url + "/"
        return url + hash_ + fragment

    def canonical(self, target: str) -> str | None:
        base = self.options.base_url
        return None if base is None else base + target


# A path whose steps are plain names (no "", "." or ".." steps, none starting with a dot).
_PLAIN_PATH = re.compile(r"(?:[^./][^/]*/)*(?:[^./][^/]*)?\Z")


def _relative(target: str, start: str) -> str:
    """`posixpath.relpath("/" + target, "/" + start)`, its steps done by hand for paths without "." or ".."
    parts (all the site links): 500 pages of 100 sources each ask 120,000 times, nearly all different."""
    to = [part for part in target.split("/") if part]
    at = [part for part in start.split("/") if part]
    if "." in to or ".." in to or "." in at or ".." in at:
        return posixpath.relpath("/" + target, "/" + start)
    common = 0
    for mine, theirs in zip(to, at):
        if mine != theirs:
            break
        common += 1
    return "/".join([".."] * (len(at) - common) + to[common:]) or "."


def page_specs(reference: Reference) -> list[PageSpec]:
    """Every HTML page of the site, in a stable order."""
    site = reference.site
    home = (("Home", ""),)
    footer = tuple((page.slug, page.title) for page in reference.pages)
    page_spec = functools.partial(PageSpec, footer=footer)  # every page's footer links the Markdown pages
    specs = [page_spec("index.html", "home.html", site.title, site.description, True, (), (
        ("classes", reference.classes), ("sources", tuple(s.ref for s in reference.sources)),
        ("comparisons", tuple(comparison.ref for comparison in reference.comparisons)),
    ))]
    codes = reference.codes
    for index, code in enumerate(codes):
        previous = codes[index - 1].ref if index > 0 else None
        following = codes[index + 1].ref if index + 1 < len(codes) else None
        title = f"{code.number} {code.phrase}"
        description = f"HTTP {code.number} {code.phrase}: {plain_text(code.summary.summary)}"
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
    if reference.comparisons:
        specs.append(page_spec("compare/index.html", "compare_index.html", "Which one?",
                               "HTTP status codes for similar situations, compared on what the specifications "
                               "say.", True, home, (("comparisons", reference.comparisons),)))
    for comparison in reference.comparisons:
        ref = comparison.ref
        specs.append(page_spec(
            f"compare/{ref.slug}/index.html", "compare.html", f"{ref.title}: {ref.question}",
            f"HTTP {', '.join(str(code.number) for code in comparison.codes)} compared: required header fields, "
            "caching, redirects, and what the sources call each.", True, home + (("Which one?", "compare/"),),
            (("comparison", comparison), ("page_css", ("compare.css",)))))
    if reference.libraries:
        specs.append(page_spec("libraries/index.html", "libraries.html", "Libraries",
                               "The standard libraries whose names for HTTP status codes the code pages show: the "
                               "release, repository, file and commit each was read from.", True, home,
                               (("libraries", reference.libraries),)))
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


def plain_text(markdown: str) -> str:
    return markdown.replace("`", "").replace("*", "").replace("_", "")  # a regex is 4x slower


def site_path(options: Options) -> str:
    """The URL path the site is served at ("/http/"); "/" when no base URL says otherwise."""
    return (options.base_url and re.sub(r"^https?://[^/]+", "", options.base_url)) or "/"

