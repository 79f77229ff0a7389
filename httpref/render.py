"""Rendering: takes the `Reference` and the build's `Options`, returns every output file as bytes
(path -> bytes): the HTML pages from the Jinja templates, Markdown rendered once per text, the static
assets under content-hashed names, and the data files. Nothing here touches the output folder."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from pathlib import Path

import jinja2
from markdown_it import MarkdownIt
from mdit_py_plugins.anchors import anchors_plugin

from . import STATIC, TEMPLATES
from .cache import Memo, fork_processes, in_workers
from .data import data_files, encode_code
from .merge import CLASS_TITLES, Reference, slugify
from .pages import BUNDLE, DEV, Links, Options, PageSpec, page_specs, site_path, target_of
from .problems import BuildError, Problem, error, shown_path
from .validate import Site

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

    def forget(self) -> None:
        self._blocks.clear()
        self._inline.clear()

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


# Links are filters, `"404/"|url`, not functions in the page context: Jinja calls a filter directly, and a function
# through its Context.call, about 5 us more a link (with the shortcut in `Links`, the templates of 100 sources x
# 500 codes went from 1.99 s to 1.52 s of CPU).
# They read the page's `links` from the context, so they are never folded into constants when a template is
# compiled, and macros that link are imported "with context".
@jinja2.pass_context
def _url(context: jinja2.runtime.Context, target: str) -> str:
    """`target` ("404/", "sources/mdn/", "api/codes.json") as the page being rendered links to it."""
    return context["links"](target)


@jinja2.pass_context
def _asset(context: jinja2.runtime.Context, name: str) -> str:
    """A static file's URL (content-hashed except in dev mode) from the page being rendered."""
    return context["links"](context["assets"][name])


class _UnindentedLoader(jinja2.FileSystemLoader):
    """Templates without the indentation before a tag (or an expression) at a line's start: a browser shows none of it (the newline
    stays), about 450 bytes of a code page. Dropped once from each template's source, not from every page."""

    def get_source(self, environment: jinja2.Environment, template: str):
        source, filename, uptodate = super().get_source(environment, template)
        return _TEMPLATE_INDENT.sub("", source), filename, uptodate


_TEMPLATE_INDENT = re.compile(r"^[ \t]+(?=<|\{\{)", re.M)  # a tag, or an expression that makes one


class _CompiledTemplates(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs, like .pyc files (keyed by each template's source and path, and by
    this module's source: how a template compiles depends on the filters defined here, and a template compiled
    for another version of them fails to run).

    Compiling the templates is a quarter of a small build; loading them back takes a few milliseconds.
    """

    def __init__(self):
        version = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()[:12]
        super().__init__(pattern=f"__httpref_{version}_%s.cache")

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


# From about this much work (pages to render plus the quotations on them) worker processes pay for their
# start and for sending pages back: measured on 2 cores, they break even near 1,000 (10 sources x 100 codes);
# the real content (about 450) renders in one process.
WORKERS_FROM = 2_000

_shared: tuple | None = None  # what forked workers render from: set just before the fork, inherited by it


def _work(task: tuple[str, list[int]]) -> tuple:
    """In a worker: ("made", [bytes, ...]) for one task, or ("problems", index of the failing page, problems)."""
    renderer, specs, site, options, assets, codes = _shared
    what, indexes = task
    if what == "data":
        return "made", [encode_code(codes[index], options) for index in indexes]
    # A worker keeps nothing between tasks: its pages go back to the parent, and a description is on one page
    # (at 100 x 500, the kept Markdown grew each worker by about 12 MB).
    renderer._pages = {}
    renderer.markdown.forget()
    made = []
    for index in indexes:
        try:
            made.append(renderer._page(specs[index], site, options, assets))
        except BuildError as exc:
            return "problems", index, exc.problems
    return "made", made


class Renderer:
    """Templates + Markdown, with a memo of rendered pages so `serve` re-renders only what changed."""

    def __init__(self, templates: Path = TEMPLATES, static: Path = STATIC, jobs: int | None = None):
        self.templates = templates
        self.static = static
        self.jobs = jobs  # processes that render: None picks by the size of the work; 1 renders in this one only
        self._encoded_once = False  # whether workers have encoded each code's data files (on the first build)
        self.used_processes = 1  # how many rendered the last build's pages
        self.markdown = Markdown()
        self.env = jinja2.Environment(
            loader=_UnindentedLoader(templates), autoescape=True, undefined=jinja2.StrictUndefined,
            trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True, bytecode_cache=_template_cache(),
        )
        # Filters, unlike the page context, also reach imported macros; render() sets the mode they use.
        self.bundle = False
        self.inline_css: dict[str, jinja2.utils.markupsafe.Markup] | None = None  # stylesheets by name
        self.env.filters["markdown"] = lambda text: self.markdown.block(text, self.bundle)
        self.env.filters["markdown_inline"] = lambda text: self.markdown.inline(text, self.bundle)
        self.env.filters["url"] = _url
        self.env.filters["asset"] = _asset
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
        # Built pages carry the stylesheet inline: a reader mostly lands on one page from a search, and a
        # separate stylesheet is a request that blocks the first paint (one round trip, 150 ms on a phone's
        # 4G). In dev mode it stays a file, so that a save swaps it in without reloading the page. Every page
        # carries style.css; a page kind's own rules (compare.css) go only into the pages of that kind.
        self.inline_css = None if options.mode == DEV else {
            name: jinja2.utils.markupsafe.Markup(compact_css(data.decode("utf-8")))
            for name, (_, data) in assets.items() if name.endswith(".css")}
        outputs = {path: data for name, (path, data) in assets.items() if not (self.inline_css and name.endswith(".css"))}
        # Unchanged when only a static file's bytes changed: dev mode names assets without a hash.
        outputs.update(self._memo.get("site", (reference, options, asset_names, self._template_edits),
                                      lambda: self._pages_and_data(reference, options, asset_names)))
        self._memo.sweep()
        return dict(sorted(outputs.items()))

    def _pages_and_data(self, reference: Reference, options: Options, assets: dict[str, str]) -> dict[str, bytes]:
        specs = page_specs(reference)
        encoded = self._render_in_workers(specs, reference, options, assets)
        files = {spec.path: self._page(spec, reference.site, options, assets) for spec in specs}
        files.update(data_files(reference, specs, options, self._memo, encoded))
        return files

    def _cached(self, spec: PageSpec, options: Options, assets: dict[str, str]) -> bool:
        cached = self._pages.get(spec.path)
        return cached is not None and cached[0] == spec and cached[1] == options and cached[2] == assets

    def processes(self, work: int) -> int:
        """How many processes should render `work` (pages plus the quotations on them)."""
        return fork_processes(self.jobs, work >= WORKERS_FROM)

    def _render_in_workers(self, specs: list[PageSpec], reference: Reference, options: Options,
                           assets: dict[str, str]) -> dict[int, tuple[bytes, bytes, bytes]]:
        """Pages not memoised, rendered by forked worker processes into `self._pages`; on a first build each
        code's data files too, returned for `data_files`. Nothing when one process is best.

        Workers are forked once the model is built, so they share it without copying; each page comes back as
        its bytes, made by the same code as in one process, so the site is the same whatever the number.
        """
        global _shared
        self.used_processes = 1
        if self.processes(WORKERS_FROM) < 2:  # never more than one (`serve` after its first build): no need to count
            return {}
        todo = [index for index, spec in enumerate(specs) if not self._cached(spec, options, assets)]
        work = len(todo) + sum(len(code.quotes) for spec in (specs[i] for i in todo)
                               for key, code in spec.data if key == "code")
        processes = self.used_processes = self.processes(work)
        if processes < 2:
            return {}
        encode = not self._encoded_once  # a first build: every code's data is new
        self._encoded_once = True
        chunks = processes * 16  # small enough that the workers finish together
        tasks = [("pages", todo[k::chunks]) for k in range(chunks) if todo[k::chunks]]
        if encode:
            codes = range(len(reference.codes))
            tasks += [("data", list(codes[k::processes * 4])) for k in range(processes * 4) if codes[k::processes * 4]]
        _shared = (self, specs, reference.site, options, assets, reference.codes)
        try:
            results = in_workers(_work, tasks, processes)
        finally:
            _shared = None
        if results is None:  # a worker died: this process renders everything itself
            return {}
        failures = [result for result in results if result[0] == "problems"]
        if failures:  # the first failing page, as one process would have met it
            raise BuildError(min(failures)[2])
        encoded = {}
        for (what, indexes), (_, made) in zip(tasks, results):
            for index, data in zip(indexes, made):
                if what == "pages":
                    self._pages[specs[index].path] = (specs[index], options, assets, data)
                else:
                    encoded[reference.codes[index].number] = data
        return encoded

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
        if self._cached(spec, options, assets):
            return self._pages[spec.path][3]
        absolute_root = site_path(options) if spec.path == "404.html" and options.mode != BUNDLE else None
        links = Links(spec.path, options, absolute_root)
        context = {
            "site": site, "page": spec, "links": links, "assets": assets,
            "canonical": links.canonical(target_of(spec.path)) if spec.sitemap else None,
            "canonical_url": lambda target: links.canonical(target) or links(target),
            # A page's address to quote; none in a bundle without a base URL, where the path alone is useless.
            "stable_url": None if options.mode == BUNDLE and not options.base_url
            else (options.base_url or "/") + target_of(spec.path),
            "root": links(""), "bundle": options.mode == BUNDLE, "class_titles": CLASS_TITLES,
            "inline_css": self.inline_css, "page_css": (),  # a page kind's own stylesheets: its spec's data says
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




def compact_css(css: str) -> str:
    """The stylesheet as every page inlines it: no comments, no indentation, no space around punctuation that
    CSS does not need (2.6 KB less a page). Its strings hold none of these characters."""
    css = re.sub(r"\s+", " ", re.sub(r"/\*.*?\*/", "", css, flags=re.S))
    css = re.sub(r" ?([{};,>~]) ?|(:) ", r"\1\2", css).replace(";}", "}")
    return re.sub(r"(?<=[\s:(,])0\.(?=\d)", ".", css).strip()  # 0.5rem -> .5rem


def template_problem(exc: Exception, templates: Path) -> Problem:
    """Where in which template a rendering error happened."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        name = exc.filename or str(templates / (exc.name or "?"))
        return error(shown_path(name), (exc.lineno, 1), f"template: {exc.message}")
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.startswith(str(templates)):
            frames.append((tb.tb_frame.f_code.co_filename, tb.tb_lineno))
        tb = tb.tb_next
    name, line = frames[-1] if frames else (str(templates), 1)
    message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
    return error(shown_path(name), (line, 1), f"template: {message}")


