"""The command line: `python build.py [build|check|serve|bundle] ...` -> exit status. Runs the pipeline
(load -> validate -> merge -> render -> write) and prints what it found; `serve` is imported only when
asked for, so the other commands never load livereload, tornado or the file watcher."""
from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from .cache import collector_paused
from .load import load
from .merge import merge
from .pages import BUNDLE, HOSTED, Options
from .problems import BuildError, report
from .render import Renderer
from .schema import kind_problem
from .validate import Content, as_base_url, validate
from .write import check_bundle_path, check_out_dir, followed, write_bundle, write_site


def build_outputs(content: Path, options: Options, renderer: Renderer | None = None, jobs: int | None = None,
                  timings: dict[str, float] | None = None) -> tuple[dict[str, bytes], Content]:
    """load -> validate -> merge -> render, all in memory; `timings` gets each stage's seconds."""
    timings = {} if timings is None else timings
    started = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal started
        timings[stage], started = time.perf_counter() - started, time.perf_counter()

    loaded = load(content)
    lap("load")
    checked = validate(loaded)
    del loaded  # no later stage needs the parsed files: freed before rendering, as they always were
    lap("validate")
    # Options' base URL None means site.yaml's; "" (--base-url '') means none at all.
    base_url = checked.site.base_url if options.base_url is None else options.base_url or None
    options = replace(options, base_url=base_url)
    reference = merge(checked)
    lap("merge")
    renderer = renderer or Renderer(jobs=jobs)
    outputs = renderer.render(reference, options)
    lap("render")
    timings["processes"] = renderer.used_processes
    return outputs, checked


def _print_timings(timings: dict[str, float]) -> None:
    """What --verbose adds: each stage's time, and how many processes rendered."""
    processes = int(timings.pop("processes", 1))
    print("time: " + ", ".join(f"{stage} {seconds:.2f} s" + (f" ({processes} processes)" if stage == "render"
                                                               and processes > 1 else "")
                               for stage, seconds in timings.items()), file=sys.stderr)



def command_check(args) -> int:
    try:
        content = validate(load(args.content))
    except BuildError as exc:
        return report(exc.problems, verbose=args.verbose)
    status = report(content.warnings, args.strict, args.verbose)
    if status == 0:
        print(f"{args.content}: {len(content.sources)} sources, {len(content.meanings)} registry meanings, "
              f"{sum(len(s.entries) for s in content.sources)} entries: ok")
    return status


def command_build(args) -> int:
    started = time.perf_counter()
    problem = args.base_url and kind_problem("url", args.base_url)  # checked as site.yaml's base_url is
    if problem:
        print(f"--base-url: error: {problem}; nothing was written", file=sys.stderr)
        return 1
    base_url = as_base_url(args.base_url) if args.base_url else args.base_url  # "" stays: no base URL
    try:
        out = followed(args.out)
        check_out_dir(out, args.content)
    except BuildError as exc:
        return _refused(exc)
    status, outputs, content = _build_and_write(args, Options(HOSTED, base_url),
                                                lambda files: write_site(files, out), "the site")
    if status:
        return status
    if not (content.site.base_url if base_url is None else base_url):
        print("note: no base_url (content/site.yaml or --base-url): no sitemap.xml, robots.txt "
              "or canonical links were made", file=sys.stderr)
    pages = sum(path.endswith(".html") for path in outputs)
    print(f"built {pages} pages, {len(outputs)} files into {args.out}{_link_note(args.out, out)} "
          f"in {time.perf_counter() - started:.2f} s")
    return 0


def command_bundle(args) -> int:
    try:
        zip_path = followed(args.out)
        check_bundle_path(zip_path)
    except BuildError as exc:
        return _refused(exc)
    status, outputs, _ = _build_and_write(
        args, Options(BUNDLE), lambda files: write_bundle(files, zip_path, args.out.name.removesuffix(".zip")),
        "the bundle")
    if status:
        return status
    print(f"wrote {args.out}{_link_note(args.out, zip_path)} ({len(outputs)} files); unzip it and open index.html")
    return 0


def _refused(exc: BuildError) -> int:
    """An output path refused before anything is built: its one line, and the exit status."""
    print("\n".join(map(str, exc.problems)), file=sys.stderr)
    return 1


def _link_note(given: Path, written: Path) -> str:
    """What the success line adds when --out is a symlink: where the files really went."""
    return f" (a symlink: written to {written}, the link left as it was)" if written != given else ""


def _build_and_write(args, options: Options, write: Callable[[dict[str, bytes]], None],
                     what: str) -> tuple[int, dict[str, bytes], Content | None]:
    """Build in memory, report the warnings, then `write` the files: the exit status, the files, the content."""
    timings: dict[str, float] = {}
    try:
        outputs, content = build_outputs(args.content, options, jobs=args.jobs, timings=timings)
        if report(content.warnings, args.strict, args.verbose):
            return 1, outputs, content
        writing = time.perf_counter()
        write(outputs)
        timings["write"] = time.perf_counter() - writing
    except BuildError as exc:
        return report(exc.problems, verbose=args.verbose), {}, None
    except OSError as exc:
        print(f"{args.out}: error: cannot write {what}: {exc.strerror or exc}", file=sys.stderr)
        return 1, {}, None
    if args.verbose:
        _print_timings(timings)
    return 0, outputs, content


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="build.py", description="Build the HTTP status code reference.")
    commands = parser.add_subparsers(dest="command")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help_text)
        sub.add_argument("--content", type=Path, default=Path("content"), help="content folder (default content/)")
        sub.add_argument("--strict", action="store_true", help="treat warnings as errors")
        sub.add_argument("--verbose", "-v", action="store_true",
                         help="print every warning (not the first few of each kind), and each stage's time")
        return sub

    def jobs(text: str) -> int:
        if not text.isdigit() or int(text) < 1:
            raise argparse.ArgumentTypeError(f"must be a whole number of processes, 1 or more, not {text!r}")
        return int(text)

    def port(text: str) -> int:
        if not text.isdigit() or int(text) > 65535:
            raise argparse.ArgumentTypeError(f"must be a port number, 1 to 65535 (0: any free port), not {text!r}")
        return int(text)

    jobs_help = ("processes that render pages (default: one per core when the site is big enough to gain; "
                 "1: this process only)")
    build = add("build", "build the site (the default command)")
    build.add_argument("--out", type=Path, default=Path("site"), help="output folder (default site/)")
    build.add_argument("--base-url", help="absolute http(s) URL the site is served at (overrides site.yaml; '' for none)")
    build.add_argument("--jobs", "-j", type=jobs, help=jobs_help)
    add("check", "validate content without writing anything")
    serve = add("serve", "build, serve and rebuild on every save, reloading the browser")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=port, default=8000, help="port to listen on (default 8000; 0: any free port)")
    bundle = add("bundle", "write the offline HTML bundle (a zip)")
    bundle.add_argument("--out", type=Path, default=Path("dist/http-status-codes.zip"))
    bundle.add_argument("--jobs", "-j", type=jobs, help=jobs_help)
    if not argv or argv[0].startswith("-") and argv[0] not in ("-h", "--help"):
        argv = ["build", *argv]
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    if args.command == "serve":
        from .serve import command_serve

        return command_serve(args)
    handlers = {"build": command_build, "check": command_check, "bundle": command_bundle}
    with collector_paused():
        return handlers[args.command](args)
