#!/usr/bin/env python3
"""Build speed, incremental speed and scale, side by side with the floor (issue 8).

    .venv/bin/python tests/benchmark.py

Not a test (pytest does not collect it): it prints one table of measurements, each
target next to its figure with PASS or MISS. Cold figures are whole `build.py`
processes, as a user runs them; incremental figures are one long-running process
re-building after a file is saved, as `serve` does. Everything is written to temp
folders; the project's content, templates and static files are only read.
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
FLOOR_IMPORTS = "import jinja2, markdown_it, yaml"
SERVE_ONLY_MODULES = ("livereload", "tornado")


# --------------------------------------------------------------------------- measuring


@dataclass
class Run:
    seconds: float  # wall clock
    cpu_seconds: float  # user + system: what a busy machine's other work does not inflate as much
    peak_rss_mb: float


def run_process(args: list[str], cwd: Path = ROOT) -> Run:
    """One child process: wall time and its own peak RSS (from wait4, not shared with other children)."""
    with tempfile.TemporaryFile() as errors:
        started = time.perf_counter()
        child = subprocess.Popen(args, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errors)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        child.returncode = os.waitstatus_to_exitcode(status)
        if child.returncode != 0:
            errors.seek(0)
            sys.exit(f"benchmark: {' '.join(args)} failed:\n{errors.read().decode()}")
    return Run(seconds, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024)  # Linux reports KiB


def median_run(make_args, runs: int) -> Run:
    """Median time and largest peak RSS of `runs` processes; `make_args(i)` gives each one's command."""
    results = [run_process(make_args(i)) for i in range(runs)]
    return Run(statistics.median(r.seconds for r in results), statistics.median(r.cpu_seconds for r in results),
               max(r.peak_rss_mb for r in results))


def cold_build(content: Path, scratch: Path, runs: int) -> Run:
    """`build.py build` into a fresh output folder each time, so no run reuses another's files."""
    return median_run(lambda i: [PYTHON, str(ROOT / "build.py"), "build", "--content", str(content),
                                 "--out", str(scratch / f"cold-{i}")], runs)


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


def timed_saves(dev: DevBuild, file: Path, edit, expect: str) -> Run:
    """Median time from saving `file` (edited by `edit(text, i)`) to the rebuilt files on disk."""
    times = []
    for i in range(EDIT_RUNS):
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
        "template": timed_saves(dev, templates / "code.html", _edit_template, "template-{i}-mark"),
        "stylesheet": timed_saves(dev, static / "style.css",
                                  lambda text, i: text + f"\n/* style-{i}-mark */\n", "style-{i}-mark"),
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
    for part in ("content", "templates", "static"):
        shutil.copytree(ROOT / part, project / part)
    copy_generator(project)
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


def print_table(rows: list[tuple[str, str, str]]) -> None:
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for index, row in enumerate(rows):
        print(" | ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip())
        if index == 0:
            print("-+-".join("-" * width for width in widths))


def main() -> int:
    rows = [("measurement", "figure", "target")]
    with tempfile.TemporaryDirectory(prefix="benchmark-") as scratch_name:
        scratch = Path(scratch_name)
        real = ROOT / "content"

        bare = median_run(lambda i: [PYTHON, "-c", "pass"], 10)
        floor = median_run(lambda i: [PYTHON, "-c", FLOOR_IMPORTS], 10)
        rows.append(("python -c pass", _ms(bare), ""))
        rows.append((f"python -c '{FLOOR_IMPORTS}' (floor)", _ms(floor), ""))

        cold = cold_build(real, scratch / "real", REAL_RUNS)
        ratio = cold.seconds / floor.seconds
        rows.append((f"cold build, real content (median of {REAL_RUNS})",
                     f"{_ms(cold)}, {cold.peak_rss_mb:.0f} MB", ""))
        rows.append(("  ratio to the floor", f"{ratio:.2f}x (cpu {cold.cpu_seconds / floor.cpu_seconds:.2f}x)",
                     f"<= 1.5x  {verdict(ratio <= 1.5)}"))
        check = median_run(lambda i: [PYTHON, str(ROOT / "build.py"), "check", "--content", str(real)], REAL_RUNS)
        rows.append((f"check, real content (median of {REAL_RUNS})", _ms(check), ""))

        previous = None
        for sources, codes in SCALES:
            content = scratch / f"synthetic-{sources}x{codes}"
            entries = write_synthetic(content, sources, codes)
            result = cold_build(content, scratch / f"out-{sources}x{codes}", SCALE_RUNS)
            outputs = list((scratch / f"out-{sources}x{codes}" / "cold-0").rglob("*.html"))
            pages = len(outputs)
            label = f"cold build {sources}x{codes} ({entries} entries, {pages} pages)"
            figure = (f"{result.seconds:.2f} s (cpu {result.cpu_seconds:.2f} s), "
                      f"{pages / result.seconds:.0f} pages/s, {entries / result.seconds:.0f} entries/s, "
                      f"{result.peak_rss_mb:.0f} MB")
            target = ""
            if (sources, codes) == SCALES[-1]:
                ok = result.seconds < 10 and result.peak_rss_mb < 400
                target = f"< 10 s, < 400 MB  {verdict(ok)}"
            rows.append((label, figure, target))
            if previous is not None:
                rows.append(_growth_row(previous, (entries, result), floor.seconds))
            previous = (entries, result)

        for name, content in (("real", real), ("100x500", scratch / "synthetic-100x500")):
            times = incremental(content, scratch / f"live-{name}")
            limit = 0.020 if name == "real" else 0.100
            entry = times["entry"]
            rows.append((f"serve, {name}: one entry's description saved", _ms(entry, 1),
                         f"< {limit * 1000:.0f} ms  {verdict(entry.seconds < limit)}"))
            rows.append((f"serve, {name}: code.html saved", _ms(times["template"], 1), ""))
            rows.append((f"serve, {name}: style.css saved", _ms(times["stylesheet"], 1), ""))
            rows.append((f"  peak RSS of this process, holding the {name} site", f"{entry.peak_rss_mb:.0f} MB", ""))
        on_disk, painted = through_the_server(scratch / "served")
        rows.append(("serve running, real: save -> page rewritten on disk", f"{on_disk:.1f} ms",
                     f"< 20 ms  {verdict(on_disk < 20)}"))
        rows.append(("serve running, real: save -> Chromium paints the reloaded page", f"{painted:.0f} ms",
                     f"< 100 ms  {verdict(painted < 100)}"))

        for args in (["build", "--out", str(scratch / "imports")], ["check"]):
            loaded = imported_modules(args) & set(SERVE_ONLY_MODULES)
            rows.append((f"`{args[0]}` imports {' or '.join(SERVE_ONLY_MODULES)}",
                         ", ".join(sorted(loaded)) or "neither", f"neither  {verdict(not loaded)}"))

    print(f"machine: {machine()}; load average {os.getloadavg()[0]:.1f} at the end")
    print_table(rows)
    return 0


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
