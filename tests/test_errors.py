"""Bad content gets a precise `path:line:col: error: message` and exit status 1, never a traceback.

Each case is a small content folder in tests/fixtures/broken/ (a copy of `_valid` with one
file broken); a user can run `python build.py check --content tests/fixtures/broken/<case>`.
Cases too big or too odd to commit (a 50 MB file, 100 000 brackets) are made from `_valid`
at test time.
"""
from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from httpref.cli import main
from httpref.load import MAX_DEPTH, load
from httpref.validate import validate
from conftest import ROOT, copy_generator, run_build

BROKEN = ROOT / "tests" / "fixtures" / "broken"
VALID = BROKEN / "_valid"
SHOWN = "tests/fixtures/broken"  # how paths print when build.py runs from the project folder
PROBLEM_LINE = re.compile(r"^(?P<where>.+):(?P<line>\d+):(?P<col>\d+): (?P<severity>error|warning): (?P<message>.+)$")
MB = 1024 * 1024

# case -> every problem `check` must print, in order: (file in the case folder, line, column, severity, words)
CASES: dict[str, list[tuple[str, int, int, str, str]]] = {
    "yaml-syntax-error": [("sources/sample.yaml", 9, 1, "error",
                           "found unexpected end of stream (while scanning a quoted scalar that starts at line 7, "
                           "column 11)")],
    "tab-indentation": [("sources/sample.yaml", 7, 1, "error", "a tab character cannot indent YAML; indent with spaces")],
    "empty-file": [("sources/sample.yaml", 1, 1, "error", "file is empty")],
    "top-level-list": [("sources/sample.yaml", 1, 1, "error", "a source must be a mapping with keys title")],
    "not-utf8": [("sources/sample.yaml", 8, 40, "error", "not valid UTF-8 (byte 0xe9)")],
    "bom-accepted": [],
    "missing-title": [("sources/sample.yaml", 1, 1, "error", "a source is missing required key 'title'")],
    "missing-entries": [("sources/sample.yaml", 1, 1, "error", "a source is missing required key 'entries'")],
    "missing-site-yaml": [("site.yaml", 1, 1, "error", "missing: every content folder has a site.yaml")],
    "entry-missing-code": [("sources/sample.yaml", 6, 5, "error", "an entry is missing required key 'code'")],
    "entry-missing-name": [("sources/sample.yaml", 6, 5, "error", "an entry is missing required key 'name'")],
    "entry-missing-description": [("sources/sample.yaml", 6, 5, "error",
                                   "an entry is missing required key 'description'")],
    "unknown-key": [
        ("sources/sample.yaml", 6, 5, "error", "an entry is missing required key 'description'"),
        ("sources/sample.yaml", 8, 5, "error", "unknown key 'descripton' in an entry; did you mean 'description'?"),
    ],
    "wrong-type": [("sources/sample.yaml", 1, 8, "error", "'title' must be text, not a list")],
    "code-quoted-string": [("sources/sample.yaml", 6, 11, "error", "not the string '404' (remove the quotes)")],
    "code-float": [("sources/sample.yaml", 6, 11, "error", "must be a whole number from 100 to 599, not the number 404.0")],
    "code-boolean": [("sources/sample.yaml", 6, 11, "error", "not the boolean true")],
    "code-letter-o": [("sources/sample.yaml", 6, 11, "error", "not the string '4O4'")],
    "code-list": [("sources/sample.yaml", 6, 11, "error", "must be a whole number from 100 to 599, not a list")],
    "code-99": [("sources/sample.yaml", 6, 11, "error", "'code' must be from 100 to 599, not 99")],
    "code-600": [("sources/sample.yaml", 6, 11, "error", "'code' must be from 100 to 599, not 600")],
    "code-negative": [("sources/sample.yaml", 6, 11, "error", "'code' must be from 100 to 599, not -1")],
    # YAML 1.1 reads each of these as a number, not always the one meant: 404, 404, 404, 260, 244.
    "code-hex": [("sources/sample.yaml", 6, 11, "error", "'code' must be written as three decimal digits, "
                  "e.g. 404, not the number '0x194' (YAML 1.1 reads it as 404)")],
    "code-underscore": [("sources/sample.yaml", 6, 11, "error", "must be written as three decimal digits, e.g. 404, "
                         "not the number '4_04' (YAML 1.1 reads it as 404)")],
    "code-plus": [("sources/sample.yaml", 6, 11, "error", "must be written as three decimal digits, e.g. 404, "
                   "not the number '+404'")],
    "code-leading-zero": [("sources/sample.yaml", 6, 11, "error", "must be written as three decimal digits, e.g. 404, "
                           "not the number '0404' (YAML 1.1 reads it as 260)")],
    "code-sexagesimal": [("sources/sample.yaml", 6, 11, "error", "must be written as three decimal digits, e.g. 404, "
                          "not the number '4:04' (YAML 1.1 reads it as 244)")],
    "constants-code-octal": [("constants.yaml", 12, 5, "error", "code '0404': must be written as three decimal "
                              "digits, e.g. 404, not the number '0404' (YAML 1.1 reads it as 260)")],
    "name-slug-too-long": [("sources/sample.yaml", 7, 11, "error", "is too long to be a URL: its slug is 297 bytes "
                            "and names a folder, which file systems cap at 255 bytes")],
    "comparison-slug-too-long": [("comparisons.yaml", 1, 9, "error", "at most 255 long (it names a folder)")],
    "key-with-escape": [("sources/sample.yaml", 2, 1, "error",
                         r"unknown key '\x1b]0;owned\x07\x1b[2J\x9b31m' in a source")],
    "duplicate-key": [("sources/sample.yaml", 8, 5, "error", "duplicated key 'name' (first at line 7)")],
    "duplicate-code-same-text": [("sources/sample.yaml", 9, 11, "warning",
                                  "code 404 is listed twice with the same text (first at line 6)")],
    "duplicate-code-different-text": [("sources/sample.yaml", 9, 11, "error",
                                       "code 404 is listed twice with different text (first at line 6)")],
    "python-tag": [("sources/sample.yaml", 7, 11, "error", "YAML tag '!!python/object:os.system' is not allowed")],
    "billion-laughs": [("sources/sample.yaml", 3, 9, "error", "YAML alias '*a' is not allowed in content")],
    "unsafe-source-names": [
        ("sources/My Source.yaml", 1, 1, "error", "source id 'My Source' is not a safe id"),
        ("sources/UPPER.yaml", 1, 1, "error", "source id 'UPPER' is not a safe id"),
        ("sources/dotted.name.yaml", 1, 1, "error", "source id 'dotted.name' is not a safe id"),
    ],
    "class-key-6xx": [("sources/sample.yaml", 5, 3, "error", "class key '6xx' is not one of 1xx, 2xx, 3xx, 4xx, 5xx")],
    "registry-class-contradicts-code": [("registry.yaml", 18, 10, "error", "class '5xx' contradicts code 404")],
    "registry-code-out-of-range": [("registry.yaml", 10, 9, "error", "'code' must be from 100 to 599, not 650")],
    "semantics-wrong-spec": [("semantics.yaml", 4, 11, "error",
                              "'RFC 6585' is not a spec the registry names for 404 (RFC 9110)")],
    "semantics-excerpt-lacks-requirement": [("semantics.yaml", 7, 14, "error", "the excerpt does not say MUST")],
    "semantics-condition-not-quoted": [("semantics.yaml", 5, 16, "error", "the condition is not in the excerpt")],
    "constants-bad-commit": [("constants.yaml", 7, 11, "error", "commit 'main' is not 40 hexadecimal digits")],
    "constants-bad-names": [
        ("constants.yaml", 13, 40, "error", "since 'three-thirteen' is not a release number like '3.13'"),
        ("constants.yaml", 14, 52, "error", "'deprecated' must be true or the release that deprecated the name"),
        ("constants.yaml", 15, 11, "error", "'UNPROCESSABLE CONTENT' is not an identifier in python"),
    ],
    "comparison-unknown-code": [("comparisons.yaml", 4, 16, "error", "code 410 is not in the registry")],
    "comparison-bad-column": [("comparisons.yaml", 5, 22, "error", "column 'colour' is not one of: meaning, headers")],
    "comparison-advice-wrong-spec": [("comparisons.yaml", 8, 11, "error",
                                      "'RFC 7231' is not a spec the registry names for the codes of found")],
    "source-kind-unknown": [("sources/sample.yaml", 1, 7, "error", "kind 'vendor' is not one of: reference, owner")],
    "entry-url-not-a-url": [
        ("sources/sample.yaml", 7, 10, "error", "'url' must be an http:// or https:// address, not the string"),
        ("sources/sample.yaml", 11, 17, "error", "each read_from item must not be empty"),
    ],
    "three-errors": [
        ("site.yaml", 1, 1, "error", "site.yaml is missing required key 'description'"),
        ("sources/sample.yaml", 2, 6, "error", "'url' must be an http:// or https:// address"),
        ("sources/sample.yaml", 7, 11, "error", "not the string '4O4'"),
    ],
}
ERROR_CASES = [case for case, problems in CASES.items() if any(p[3] == "error" for p in problems)]


def problem_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if PROBLEM_LINE.match(line)]


def assert_problems(stderr: str, folder: str, expected: list[tuple[str, int, int, str, str]]) -> None:
    """`stderr` lists exactly the expected problems, each starting with its exact path:line:col."""
    assert "Traceback" not in stderr
    printed = problem_lines(stderr)
    assert len(printed) == len(expected), stderr
    for line, (file, row, col, severity, words) in zip(printed, expected):
        assert line.startswith(f"{folder}/{file}:{row}:{col}: {severity}: "), line
        assert words in line, line


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under `folder` by relative path, to compare whole sites."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_fixture_folder_has_a_case():
    on_disk = {p.name for p in BROKEN.iterdir() if p.is_dir()} - {"_valid", "hostile"}
    assert on_disk == set(CASES)


def test_valid_base_is_valid():
    result = run_build("check", "--strict", "--content", f"{SHOWN}/_valid")
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""


@pytest.mark.parametrize("case", CASES)
def test_check_prints_each_problem_at_its_place(case, capsys, monkeypatch):
    # In-process `main` is what `python build.py check` runs, without a process start per case.
    monkeypatch.chdir(ROOT)
    status = main(["check", "--content", f"{SHOWN}/{case}"])
    stderr = capsys.readouterr().err
    assert_problems(stderr, f"{SHOWN}/{case}", CASES[case])
    errors = sum(p[3] == "error" for p in CASES[case])
    assert status == (1 if errors else 0)
    if CASES[case]:
        assert f"{errors} error(s), {len(CASES[case]) - errors} warning(s)" in stderr


@pytest.mark.parametrize("case", ["three-errors", "not-utf8", "tab-indentation", "unknown-key", "bom-accepted"])
def test_check_from_the_command_line(case):
    result = run_build("check", "--content", f"{SHOWN}/{case}")
    assert_problems(result.stderr, f"{SHOWN}/{case}", CASES[case])
    assert result.returncode == (1 if CASES[case] else 0)


@pytest.fixture(scope="module")
def previous_site(tmp_path_factory) -> dict[str, bytes]:
    """A complete site from `_valid`, the state a failed build must leave alone."""
    out = tmp_path_factory.mktemp("previous") / "site"
    assert main(["build", "--content", str(VALID), "--out", str(out)]) == 0
    return tree(out)


@pytest.mark.parametrize("case", ERROR_CASES)
def test_build_refuses_broken_content_and_keeps_the_previous_site(case, previous_site, tmp_path, capsys,
                                                                   monkeypatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "site"
    for path, data in previous_site.items():
        (out / path).parent.mkdir(parents=True, exist_ok=True)
        (out / path).write_bytes(data)
    assert main(["build", "--content", f"{SHOWN}/{case}", "--out", str(out)]) == 1
    assert_problems(capsys.readouterr().err, f"{SHOWN}/{case}", CASES[case])
    assert tree(out) == previous_site
    assert [p.name for p in tmp_path.iterdir()] == ["site"]


def test_bom_is_dropped_not_read_as_part_of_the_first_key():
    content = validate(load(BROKEN / "bom-accepted"))
    assert [source.title for source in content.sources] == ["Sample Source"]


def test_warning_passes_unless_strict(tmp_path):
    case = f"{SHOWN}/duplicate-code-same-text"
    assert run_build("check", "--content", case).returncode == 0
    strict = run_build("check", "--strict", "--content", case)
    assert strict.returncode == 1
    assert_problems(strict.stderr, case, CASES["duplicate-code-same-text"])

    out = tmp_path / "site"
    refused = run_build("build", "--strict", "--content", case, "--out", str(out))
    assert refused.returncode == 1 and not out.exists()
    built = run_build("build", "--content", case, "--out", str(out))
    assert built.returncode == 0 and (out / "404" / "index.html").is_file()
    assert_problems(built.stderr, case, CASES["duplicate-code-same-text"])


def content_copy(tmp_path: Path, source_text: bytes) -> Path:
    """`_valid` with its one source replaced."""
    content = tmp_path / "content"
    shutil.copytree(VALID, content)
    (content / "sources" / "sample.yaml").write_bytes(source_text)
    return content


def check_with_peak_memory(content: Path) -> tuple[subprocess.CompletedProcess, float]:
    """`check` in a fresh process; its result and peak resident memory in MB."""
    script = (
        "import resource, sys\n"
        f"sys.path.insert(0, {str(ROOT)!r})\n"
        "from httpref.cli import main\n"
        f"status = main(['check', '--content', {str(content)!r}])\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
        "sys.exit(status)\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    peak_kb = int(result.stdout.split()[-1]) if result.stdout.split() else -1
    return result, peak_kb / 1024


def test_billion_laughs_is_refused_with_bounded_memory():
    # Expanded, the fixture's aliases make 9**9 (387 million) strings.
    result, peak_mb = check_with_peak_memory(BROKEN / "billion-laughs")
    assert result.returncode == 1, result.stderr
    assert "YAML alias '*a' is not allowed" in result.stderr
    assert 0 < peak_mb < 200


def test_a_50_mb_file_is_refused_with_the_limit_in_the_message(tmp_path):
    content = content_copy(tmp_path, b"")
    with open(content / "sources" / "sample.yaml", "wb") as handle:
        handle.truncate(50 * MB)  # sparse: the disk holds almost nothing
    result, peak_mb = check_with_peak_memory(content)
    assert result.returncode == 1
    assert_problems(result.stderr, str(content), [
        ("sources/sample.yaml", 1, 1, "error", "file is 52.4 MB; content files are limited to 1 MB")])
    assert 0 < peak_mb < 200  # the file is never read whole


@pytest.mark.parametrize("nesting", ["[" * 100_000, "{" * 100_000, "a: " + "[" * 100_000 + "]" * 100_000])
def test_deep_nesting_is_refused_without_crashing(tmp_path, nesting):
    # libyaml's composer recurses once per level and overflows the C stack (SIGSEGV) on this;
    # build.py reads the flat event stream and stops at a fixed depth instead.
    content = content_copy(tmp_path, nesting.encode())
    result = run_build("check", "--content", str(content))
    assert result.returncode == 1, (result.returncode, result.stderr[-300:])
    printed = problem_lines(result.stderr)
    assert len(printed) == 1
    assert printed[0].startswith(f"{content}/sources/sample.yaml:1:")
    assert f"nested more than {MAX_DEPTH} levels deep" in printed[0]


@pytest.fixture
def project_copy(tmp_path) -> Path:
    """The generator with its templates and static files, to break a template without touching the real one."""
    project = tmp_path / "project"
    copy_generator(project, "templates", "static")
    return project


def insert_after_block_main(template: Path, line_text: str) -> int:
    """Insert a line right after `{% block main %}`; its 1-based line number."""
    lines = template.read_text().split("\n")
    at = next(n for n, line in enumerate(lines) if "{% block main %}" in line) + 1
    template.write_text("\n".join(lines[:at] + [line_text] + lines[at:]))
    return at + 1


@pytest.mark.parametrize(("broken_line", "words"), [
    ("{{ no_such_variable }}", "template: 'no_such_variable' is undefined"),
    ("{{ code.number }", "template: unexpected '}'"),
])
def test_template_error_names_the_template_and_line(project_copy, tmp_path, broken_line, words):
    line = insert_after_block_main(project_copy / "templates" / "code.html", broken_line)
    out = tmp_path / "site"
    result = subprocess.run([sys.executable, "build.py", "build", "--content", str(VALID), "--out", str(out)],
                            cwd=project_copy, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert_problems(result.stderr, "templates", [("code.html", line, 1, "error", words)])
    assert not out.exists()
