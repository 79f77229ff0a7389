"""Scale (issue 13): worker processes never change a byte, and a terminal stays readable.

- The site is the same bytes with `--jobs 1` (one process), the default and `--jobs 2`, on the real
  content and on a synthetic set big enough that the default forks workers; a template error found
  by a worker reads as it does in one process; a worker dies with its build.
- Warnings: one per unregistered code (not per source and code), naming how many sources use it;
  more than 20 of a kind print the first few and one line counting the rest; `--verbose` prints all;
  `check --strict` fails on any.
No timing is asserted here: speed is measured by tests/benchmark.py.
"""
from __future__ import annotations

import os
import posixpath
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from httpref.cli import main
from httpref.pages import BUNDLE, HOSTED, Links, Options
from httpref.problems import MAX_OF_A_KIND, SHOWN
from httpref.cache import available_cores
from httpref.render import WORKERS_FROM
from benchmark import write_synthetic
from conftest import ROOT, copy_generator, disk_full_after, run_build

WARNING_LINE = re.compile(r"^(?P<path>.+):(?P<line>\d+):(?P<col>\d+): warning: (?P<message>.+)$")
MORE_LINE = re.compile(r"^warning: … and (?P<more>\d+) more like \"(?P<kind>.+)\" \(--verbose prints them all\)$")
MULTICORE = pytest.mark.skipif(available_cores() < 2 or not hasattr(os, "fork") or sys.platform == "darwin",
                               reason="worker processes need two cores and fork")


def tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def build(content: Path, out: Path, *options: str, command: str = "build") -> subprocess.CompletedProcess:
    result = run_build(command, "--content", str(content), "--out", str(out), *options, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    return result


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory) -> Path:
    """20 sources x 200 codes: 4,000 entries on about 830 pages, enough work for the default to fork."""
    content = tmp_path_factory.mktemp("scale") / "content"
    entries = write_synthetic(content, 20, 200)
    assert entries + 800 >= WORKERS_FROM  # the default must take the worker path for this set
    return content


# --------------------------------------------------------------------------- the same bytes


@MULTICORE
def test_real_content_is_the_same_whatever_the_number_of_processes(tmp_path):
    sites = {}
    for index, jobs in enumerate(("--jobs 1", "", "--jobs 2", "--jobs 3")):
        build(ROOT / "content", tmp_path / f"site-{index}", *jobs.split())
        sites[jobs] = tree(tmp_path / f"site-{index}")
    reference = sites["--jobs 1"]
    assert len(reference) > 250
    for jobs, site in sites.items():
        assert site == reference, f"{jobs or 'the default'} differs from --jobs 1"


@MULTICORE
def test_real_content_renders_in_one_process_by_default(tmp_path):
    verbose = build(ROOT / "content", tmp_path / "site", "--verbose")
    assert "processes)" not in verbose.stderr  # a small site: no workers
    assert "render" in verbose.stderr
    forked = build(ROOT / "content", tmp_path / "forked", "--verbose", "--jobs", "2")
    assert "render" in forked.stderr and "(2 processes)" in forked.stderr


@MULTICORE
def test_synthetic_content_is_the_same_whatever_the_number_of_processes(synthetic, tmp_path):
    one = build(synthetic, tmp_path / "one", "--jobs", "1", "--verbose")
    default = build(synthetic, tmp_path / "default", "--verbose")
    build(synthetic, tmp_path / "two", "--jobs", "2")
    assert "processes)" not in one.stderr
    assert f"({available_cores()} processes)" in default.stderr  # the default forked workers
    reference = tree(tmp_path / "one")
    assert len(reference) > 800
    assert tree(tmp_path / "default") == reference
    assert tree(tmp_path / "two") == reference


_PART = st.sampled_from(["404", "4xx", "sources", "mdn", "api", "a", ".", "..", "", ".well-known", "x.css"])


@given(page=st.lists(_PART, max_size=3), target=st.lists(_PART, max_size=3), folder=st.booleans(),
       mode=st.sampled_from([HOSTED, BUNDLE]))
@settings(max_examples=3000, deadline=None)
def test_a_link_is_the_relative_path_from_its_page_to_its_target(page, target, folder, mode):
    """`Links` takes a short way for targets outside the page's top folder; it must agree with posixpath."""
    page_path = "/".join(page + ["index.html"])
    to = "/".join(target) + ("/" if folder and target else "")
    url = Links(page_path, Options(mode))(to)
    if mode == BUNDLE and (to == "" or to.endswith("/")):
        to += "index.html"
    expected = posixpath.relpath("/" + to, "/" + posixpath.dirname(page_path))
    if to == "" or to.endswith("/"):
        expected = "./" if expected == "." else expected + "/"
    assert posixpath.normpath(posixpath.join(posixpath.dirname(page_path), url)) == \
        posixpath.normpath(posixpath.join(posixpath.dirname(page_path), expected))
    assert url == expected


@MULTICORE
def test_bundle_is_the_same_zip_whatever_the_number_of_processes(synthetic, tmp_path):
    build(synthetic, tmp_path / "one" / "b.zip", "--jobs", "1", command="bundle")
    build(synthetic, tmp_path / "two" / "b.zip", "--jobs", "2", command="bundle")
    assert (tmp_path / "one" / "b.zip").read_bytes() == (tmp_path / "two" / "b.zip").read_bytes()


@MULTICORE
def test_a_template_error_in_a_worker_reads_as_in_one_process(synthetic, tmp_path):
    project = tmp_path / "project"
    copy_generator(project, "templates", "static")
    code_html = project / "templates" / "code.html"
    code_html.write_text(code_html.read_text(encoding="utf-8").replace(
        "{% block main %}", "{% block main %}{{ code.no_such_field }}", 1), encoding="utf-8")
    results = [subprocess.run([sys.executable, "build.py", "build", "--content", str(synthetic), "--out",
                               str(tmp_path / f"site-{jobs}"), "--jobs", jobs], cwd=project, capture_output=True,
                              text=True, timeout=300) for jobs in ("1", "2")]
    for result in results:
        assert result.returncode == 1
        assert "Traceback" not in result.stderr
        assert re.search(r"templates/code\.html:\d+:1: error: template: .*no_such_field", result.stderr), \
            result.stderr
    assert results[0].stderr == results[1].stderr
    assert not (tmp_path / "site-1").exists() and not (tmp_path / "site-2").exists()


@MULTICORE
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_workers_die_with_a_killed_build(synthetic, tmp_path):
    build_process = subprocess.Popen([sys.executable, str(ROOT / "build.py"), "build", "--content", str(synthetic),
                                      "--out", str(tmp_path / "site"), "--jobs", "2"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    children: list[int] = []
    deadline = time.monotonic() + 120
    while not children and build_process.poll() is None and time.monotonic() < deadline:
        children = _children(build_process.pid)
        time.sleep(0.005)
    build_process.send_signal(signal.SIGKILL)
    build_process.wait(timeout=30)
    assert children, "the build finished before a worker could be seen"
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in children) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in children), "a worker outlived its build"


def _children(pid: int) -> list[int]:
    try:
        return [int(child) for task in os.listdir(f"/proc/{pid}/task")
                for child in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    except OSError:
        return []


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; its parent (init, once the build is gone) reaps it


def test_a_disk_filling_up_halfway_through_a_big_site_leaves_the_previous_site(synthetic, tmp_path, monkeypatch,
                                                                                capsys):
    out = tmp_path / "site"
    assert main(["build", "--content", str(synthetic), "--out", str(out), "--jobs", "1"]) == 0
    previous = tree(out)
    assert len(previous) > 500
    disk_full_after(300, monkeypatch)
    assert main(["build", "--content", str(synthetic), "--out", str(out), "--jobs", "1"]) == 1
    assert "No space left on device" in capsys.readouterr().err
    monkeypatch.undo()
    assert tree(out) == previous
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_templates_compiled_for_other_filters_are_compiled_again(tmp_path):
    """Compiled templates are kept between builds; one compiled against another version of the filters (here
    `url` taking the page's context, then not) must not be run with these."""
    project = tmp_path / "project"
    copy_generator(project, "templates", "static")

    def build_here(name: str) -> str:
        result = subprocess.run([sys.executable, "build.py", "build", "--content", str(ROOT / "content"), "--out",
                                 str(tmp_path / name)], cwd=project, capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return (tmp_path / name / "404" / "index.html").read_text(encoding="utf-8")

    assert 'href="../4xx/"' in build_here("first")
    render = project / "httpref" / "render.py"
    render.write_text(render.read_text(encoding="utf-8").replace(
        'self.env.filters["url"] = _url', 'self.env.filters["url"] = lambda target: "/elsewhere/" + target'),
        encoding="utf-8")
    assert 'href="/elsewhere/4xx/"' in build_here("second")


def test_jobs_must_be_a_positive_whole_number(tmp_path):
    for wrong in ("0", "-1", "two"):
        result = run_build("build", "--jobs", wrong, "--out", str(tmp_path / "site"))
        assert result.returncode == 2 and "Traceback" not in result.stderr
        assert "--jobs" in result.stderr and "1 or more" in result.stderr
    assert not (tmp_path / "site").exists()


# --------------------------------------------------------------------------- warnings, one screen


@pytest.fixture(scope="module")
def thirty_unregistered(tmp_path_factory) -> Path:
    """3 sources x 40 codes, of which the registry lists 10: 30 codes the registry lacks, 3 sources each."""
    content = tmp_path_factory.mktemp("warnings") / "content"
    write_synthetic(content, 3, 40, registered=10)
    return content


def warnings_printed(stderr: str) -> list[re.Match]:
    return [match for line in stderr.splitlines() if (match := WARNING_LINE.match(line))]


def test_one_warning_per_unregistered_code_naming_its_sources(thirty_unregistered):
    result = run_build("check", "--verbose", "--content", str(thirty_unregistered))
    assert result.returncode == 0, result.stderr
    printed = warnings_printed(result.stderr)
    assert len(printed) == 30  # not 90: one per code, not per source and code
    first_source = thirty_unregistered / "sources" / "source-000.yaml"
    lines = first_source.read_text(encoding="utf-8").splitlines()
    codes = set()
    for match in printed:
        assert match["path"] == str(first_source)  # at the code's first use
        code = int(re.match(r"code (\d+) is not in the registry \(3 sources use it\); its page will have no "
                            r"spec facts$", match["message"])[1])
        assert lines[int(match["line"]) - 1][int(match["col"]) - 1:] == str(code)
        codes.add(code)
    assert len(codes) == 30
    assert "0 error(s), 30 warning(s)" in result.stderr
    assert not any(MORE_LINE.match(line) for line in result.stderr.splitlines())


def test_more_than_twenty_of_a_kind_print_the_first_few_and_a_count(thirty_unregistered):
    verbose = run_build("check", "--verbose", "--content", str(thirty_unregistered))
    result = run_build("check", "--content", str(thirty_unregistered))
    assert result.returncode == 0
    printed = warnings_printed(result.stderr)
    assert len(printed) == SHOWN < MAX_OF_A_KIND < 30
    assert [m[0] for m in printed] == [m[0] for m in warnings_printed(verbose.stderr)][:SHOWN]  # the first few
    more = [match for line in result.stderr.splitlines() if (match := MORE_LINE.match(line))]
    assert len(more) == 1 and int(more[0]["more"]) == 30 - SHOWN
    assert more[0]["kind"] == "code … is not in the registry; its page will have no spec facts"
    assert result.stderr.splitlines()[-1] == "0 error(s), 30 warning(s)"
    assert len(result.stderr.splitlines()) == SHOWN + 2


def test_strict_fails_on_summarised_warnings(thirty_unregistered, tmp_path):
    strict = run_build("check", "--strict", "--content", str(thirty_unregistered))
    assert strict.returncode == 1
    assert len(warnings_printed(strict.stderr)) == SHOWN
    refused = run_build("build", "--strict", "--content", str(thirty_unregistered), "--out", str(tmp_path / "site"))
    assert refused.returncode == 1 and not (tmp_path / "site").exists()
    built = run_build("build", "--content", str(thirty_unregistered), "--out", str(tmp_path / "site"))
    assert built.returncode == 0 and len(warnings_printed(built.stderr)) == SHOWN


def test_twenty_of_a_kind_are_all_printed(tmp_path):
    content = tmp_path / "content"
    write_synthetic(content, 2, 30, registered=10)  # 20 unregistered codes: not more than 20
    result = run_build("check", "--content", str(content))
    assert len(warnings_printed(result.stderr)) == MAX_OF_A_KIND == 20
    assert "more like" not in result.stderr


def test_a_warning_repeated_per_entry_is_summarised_too(tmp_path):
    content = tmp_path / "content"
    write_synthetic(content, 1, 30)
    source = content / "sources" / "source-000.yaml"
    text = source.read_text(encoding="utf-8")
    entries = text.split("\n  - code: ")
    source.write_text(text + "".join(f"\n  - code: {entry}" for entry in entries[1:26]).rstrip("\n") + "\n",
                      encoding="utf-8")  # 25 entries listed twice with the same text
    result = run_build("check", "--content", str(content))
    assert result.returncode == 0, result.stderr
    assert len(warnings_printed(result.stderr)) == SHOWN
    assert any(re.match(r"^warning: … and 20 more like \"code … is listed twice with the same text; the repeat "
                        r"is ignored\"", line) for line in result.stderr.splitlines()), result.stderr
    assert len(warnings_printed(run_build("check", "-v", "--content", str(content)).stderr)) == 25


# --------------------------------------------------------------------------- the YAML reader


@pytest.mark.parametrize("value, kind", [("!!float", "float"), ("!!float ''", "float"), ("!!int ''", "int"),
                                         ("!!int '-'", "int"), ("!!bool ''", "bool"), ("!!bool maybe", "bool")])
def test_an_explicit_tag_on_an_odd_value_is_an_error_not_a_traceback(value, kind, tmp_path):
    content = tmp_path / "content"
    shutil.copytree(ROOT / "tests" / "fixtures" / "broken" / "_valid", content)
    source = content / "sources" / "sample.yaml"
    source.write_text(source.read_text(encoding="utf-8").replace("title: ", f"license: {value}\ntitle: ", 1),
                      encoding="utf-8")
    result = run_build("check", "--content", str(content))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert re.search(rf"sample\.yaml:1:10: error: cannot read .* as {kind}", result.stderr), result.stderr
