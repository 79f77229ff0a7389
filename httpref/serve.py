"""The dev server: takes the content folder, builds it into a temp folder in dev mode and serves it with
live reload. `DevBuild` keeps the parsed files, the model and the rendered pages in memory and rewrites
only the files whose bytes changed; `SaveWatcher` (watchfiles) reports saves in bursts. A tornado server
serves the folder, adds livereload's script to HTML responses (never to the files) and keeps its websocket,
which reloads open tabs; it answers only requests naming this machine, from its own pages."""
from __future__ import annotations

import errno
import gc
import ipaddress
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterable
from html import escape
from pathlib import Path

import watchfiles
from livereload.handlers import LiveReloadHandler, LiveReloadJSHandler, StaticFileHandler
from livereload.server import LiveScriptInjector
from tornado.httpserver import HTTPServer
from tornado.ioloop import IOLoop
from tornado.netutil import bind_sockets
from tornado.web import Application, HTTPError, RequestHandler
from tornado.websocket import WebSocketClosedError

from . import STATIC, TEMPLATES
from .cache import FileCache, Memo, collector_paused
from .load import load
from .merge import Reference, merge
from .pages import DEV, Options
from .problems import BuildError, Problem, error, report, shown_path, sorted_problems
from .render import Renderer
from .validate import validate
from .write import update_files

# A burst of saves ends once the watched folders have been quiet this long (milliseconds): an editor
# writing a file twice gives one rebuild, and a save is rebuilt about this soon after it lands.
SETTLE_MS = 5
# How long the watcher waits before telling its thread that nothing happened (milliseconds): the first
# such word says the folders are watched, and a stop is noticed within this time.
WAKE_MS = 100


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
        self.outputs: dict[str, bytes] = {}  # what `out` holds, kept equal to it even when a write fails
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
        return update_files(outputs, self.outputs, self.out)


class ContentFilter(watchfiles.DefaultFilter):
    """watchfiles' default (version control folders, editors' swap and backup files), and every dot-file
    or dot-folder inside the watched folders, as `load` skips them too."""

    def __init__(self, folders: Iterable[Path]):
        super().__init__()
        self.folders = tuple(str(folder.resolve()) for folder in folders)

    def __call__(self, change: watchfiles.Change, path: str) -> bool:
        if not super().__call__(change, path):
            return False
        inner = next((path[len(folder):] for folder in self.folders if path.startswith(folder)), path)
        return not any(part.startswith(".") for part in Path(inner).parts)


class SaveWatcher:
    """Saves under some folders, from the operating system's file events, handed to `on_burst` in bursts
    from a thread of its own; `ready` is set once the folders are watched."""

    def __init__(self, folders: Iterable[Path], on_burst: Callable[[set[Path]], None]):
        self.folders = tuple(Path(folder).resolve() for folder in folders)
        self.ready = threading.Event()
        self.stopped = threading.Event()
        self.failure: OSError | None = None  # why the folders could not be watched
        self.thread = threading.Thread(target=self._watch, args=(on_burst,), name="save-watcher", daemon=True)
        self.thread.start()

    def _watch(self, on_burst: Callable[[set[Path]], None]) -> None:
        # The first wake-up with nothing to report says the folders are watched.
        try:
            for changes in watchfiles.watch(*self.folders, watch_filter=ContentFilter(self.folders),
                                            step=SETTLE_MS, rust_timeout=WAKE_MS, yield_on_timeout=True,
                                            stop_event=self.stopped, raise_interrupt=False):
                self.ready.set()
                if changes:
                    on_burst({Path(path) for _, path in changes})
        except OSError as exc:  # e.g. a folder removed before it was watched: said, never waited for
            self.failure = exc
        finally:
            self.ready.set()

    def close(self) -> None:
        self.stopped.set()
        self.thread.join()


class DevSite:
    """What `serve` keeps between saves: the build, and the errors the browser shows while it is broken."""

    def __init__(self, dev: DevBuild, reload_browsers: Callable[[str], None], verbose: bool = False):
        self.dev = dev
        self.verbose = verbose  # every warning, not the first few of each kind
        self.problems: list[Problem] = []  # non-empty while the last build failed
        self.reload_browsers = reload_browsers

    def rebuild(self, saved: Iterable[Path] = ()) -> None:
        started = time.perf_counter()
        try:
            written = self.dev.rebuild(saved)
        except BuildError as exc:
            self._failed(exc.problems)
            return
        except OSError as exc:  # the files written before it are kept, and the next save writes the rest
            self._failed([error(exc.filename or str(self.dev.out), (1, 1),
                                f"cannot write the site: {exc.strerror or exc}")])
            return
        took = (time.perf_counter() - started) * 1000
        report(self.dev.warnings, verbose=self.verbose)
        what = (", ".join(sorted(shown_path(str(path)) for path in saved)) + ": rebuilt") if saved else "built"
        print(f"{what} in {took:.0f} ms, wrote {len(written)} files", flush=True)
        recovered, self.problems = bool(self.problems), []
        if written or recovered:
            # livereload.js swaps a lone stylesheet in place; any other path reloads the page
            only_css = len(written) == 1 and written[0].endswith(".css")
            self.reload_browsers(written[0] if only_css else "*")

    def _failed(self, problems: list[Problem]) -> None:
        report(problems, verbose=self.verbose)
        print("the browser shows these errors until the next good save", file=sys.stderr)
        self.problems = problems
        self.reload_browsers("*")


def error_page(problems: list[Problem]) -> bytes:
    """What the browser shows for any page while the build is broken (the terminal shows the same)."""
    lines = "\n".join(escape(str(problem)) for problem in sorted_problems(problems))
    return ("<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>Build failed</title>\n"
            "<style>body{font:1rem/1.5 system-ui,sans-serif;margin:2rem;max-width:60rem}"
            "pre{white-space:pre-wrap;background:#fdecea;color:#611a15;padding:1rem}</style>\n"
            "</head>\n<body>\n<h1>The site could not be rebuilt</h1>\n"
            f"<pre>{lines}</pre>\n<p>The last good build is kept. Fix the file and save: "
            "this page reloads by itself.</p>\n</body>\n</html>\n").encode("utf-8")


def _is_page(url_path: str) -> bool:
    return url_path == "" or url_path.endswith(("/", ".html"))


# A Host header as browsers send it: a name or [IPv6 address], then maybe a port.
HOST = re.compile(r"(?:\[(?P<address>[0-9A-Fa-f:.]+)\]|(?P<name>[^\[\]:/@\s]+))(?::\d{1,5})?")


def names_this_machine(host: str, served_host: str) -> bool:
    """Whether a Host header names the server as only its own machine can be named: localhost, an IP
    address, or the --host it listens on. A page that rebinds a DNS name of its own to 127.0.0.1 (DNS
    rebinding) sends that name here. The port is not checked: a tunnel or proxy changes it, and a page
    cannot choose the port a browser writes here without also choosing the name."""
    match = HOST.fullmatch(host)
    if match is None:
        return False
    name = (match["address"] or match["name"]).lower()
    if name in ("localhost", served_host.lower().strip("[]")):
        return True
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class OwnOriginOnly(RequestHandler):
    """Refuses (403) a request whose Host is not a name of this machine, or whose Origin, when a browser
    sends one, is another site: the reload websocket and /forcereload must not be driven by other pages,
    nor the site and its error messages read by them."""

    served_host = "127.0.0.1"  # set once the server knows the --host it listens on

    def prepare(self) -> None:
        host = self.request.headers.get("Host", "")
        if not names_this_machine(host, self.served_host):
            raise HTTPError(403, "Host %r is not a name of this machine", host)
        origin = self.request.headers.get("Origin")
        if origin is not None and origin.lower() != f"http://{host}".lower():
            raise HTTPError(403, "Origin %r is not this server's own", origin)


class ReloadSocket(OwnOriginOnly, LiveReloadHandler):
    """livereload's websocket, which open tabs keep to hear of saves."""


class ReloadScript(OwnOriginOnly, LiveReloadJSHandler):
    """livereload.js, the script that keeps that websocket."""


class ForceReload(OwnOriginOnly):
    """GET /forcereload[?path=...] reloads every open tab (or swaps that stylesheet), as in livereload."""

    def get(self) -> None:
        reload_browsers(self.get_argument("path", default=None) or "*")
        self.write("ok")


def reload_browsers(path: str) -> None:
    """Every open tab reloads, or swaps in the stylesheet `path` names (livereload's protocol)."""
    for socket in list(LiveReloadHandler.waiters):
        try:
            socket.write_message({"command": "reload", "path": path, "liveCSS": True, "liveImg": True})
        except WebSocketClosedError:
            LiveReloadHandler.waiters.discard(socket)


class ScriptInjector(LiveScriptInjector):
    """Adds to each HTML response (never to the files) a loader of livereload.js from the page's own
    server; livereload.js reads the websocket's port from the query."""

    script = (b'<script>(function(){var s=document.createElement("script");'
              b's.src="/livereload.js?port="+(location.port||(location.protocol=="https:"?443:80));'
              b'document.head.appendChild(s);})();</script>')


def listen(site: DevSite, host: str, port: int) -> int:
    """Serve the site, its reload script and websocket on `host` and `port` (0: a free one); the port."""

    class SiteHandler(OwnOriginOnly, StaticFileHandler):
        """The built folder, the error page while the build is broken, the site's 404 page; nothing else."""

        def set_default_headers(self) -> None:
            self.set_header("Cache-Control", "no-store")  # a reload must never show a stale file

        async def get(self, path: str, include_body: bool = True) -> None:
            if site.problems and _is_page(path):
                self.set_status(500)
                self.set_header("Content-Type", "text/html; charset=utf-8")
                self.finish(error_page(site.problems))
                return
            if "\0" in path:  # no file is named so, and the file system calls refuse to look
                raise HTTPError(404)
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

    OwnOriginOnly.served_host = host
    sockets = bind_sockets(port, host)
    application = Application([
        (r"/livereload", ReloadSocket),
        (r"/livereload\.js", ReloadScript),
        (r"/forcereload", ForceReload),
        (r"/(.*)", SiteHandler, {"path": str(site.dev.out), "default_filename": "index.html"}),
    ], transforms=[ScriptInjector])
    HTTPServer(application).add_sockets(sockets)
    return sockets[0].getsockname()[1]


def command_serve(args) -> int:
    if not args.content.is_dir():
        problem = "content folder not found" if not args.content.exists() else "content path is not a folder"
        print(f"{args.content}: error: {problem}", file=sys.stderr)
        return 1
    # Until the server's loop runs, SIGTERM stops it as Ctrl-C does: KeyboardInterrupt unwinds the start-up
    # and removes the temporary folder. The loop then takes both signals over.
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    with tempfile.TemporaryDirectory(prefix="http-status-serve-") as out:
        try:
            _make_loop()
            status = _serve(args, Path(out))
        except KeyboardInterrupt:
            status = 0
        finally:  # a second Ctrl-C must not cut the removal of the folder short
            for signum in (signal.SIGINT, signal.SIGTERM):
                signal.signal(signum, signal.SIG_IGN)
    if status == 0:
        print("stopped", flush=True)
    return status


def _make_loop() -> None:
    """Make the event loop with SIGINT and SIGTERM held back: a KeyboardInterrupt inside its construction leaves a
    half-made loop whose finaliser prints a traceback. A signal that came meanwhile is raised once it is whole."""
    held = {signal.SIGINT, signal.SIGTERM}
    signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        IOLoop.current()
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, held)


def _serve(args, out: Path) -> int:
    """Build, serve and rebuild on saves until SIGINT or SIGTERM (0), or fail to start (1)."""
    site = DevSite(DevBuild(args.content, out, args.strict), reload_browsers, args.verbose)
    try:
        port = listen(site, args.host, args.port)
    except (OSError, OverflowError) as exc:
        hint = "; is another server running? pick a free port with --port" \
            if getattr(exc, "errno", None) == errno.EADDRINUSE else ""
        print(f"error: cannot serve on {args.host} port {args.port}: "
              f"{getattr(exc, 'strerror', None) or exc}{hint}", file=sys.stderr)
        return 1
    loop = IOLoop.current()
    site.rebuild()
    watcher = SaveWatcher(site.dev.watched, lambda saved: loop.add_callback(site.rebuild, saved))
    try:
        watcher.ready.wait()  # a save made once the line below is printed must be seen
        if watcher.failure is not None:
            print(f"error: cannot watch {', '.join(map(str, watcher.folders))}: {watcher.failure}", file=sys.stderr)
            return 1
        host = f"[{args.host}]" if ":" in args.host else args.host
        print(f"serving http://{host}:{port}/ from {out}; watching "
              f"{', '.join(shown_path(str(folder)) for folder in site.dev.watched)}; Ctrl-C stops", flush=True)
        for signum in (signal.SIGINT, signal.SIGTERM):  # stop between two callbacks, never mid-write
            loop.asyncio_loop.add_signal_handler(signum, loop.stop)
        loop.start()
    finally:
        watcher.close()
    return 0
