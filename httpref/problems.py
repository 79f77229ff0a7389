"""What goes wrong in a build, and how it is told: every stage reports `Problem`s (path, line, column,
severity, message) and raises `BuildError` with all of them; `report` prints them as `path:line:col:`
lines and returns the exit status they call for."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass

Mark = tuple[int, int]  # 1-based line and column


@dataclass(frozen=True)
class Problem:
    path: str
    line: int
    col: int
    severity: str  # "error" or "warning"
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.severity}: {self.message}"


class BuildError(Exception):
    """A stage found problems it cannot build past; carries every one of them."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


def error(path: str, mark: Mark, message: str) -> Problem:
    return Problem(path, mark[0], mark[1], "error", message)


def warning(path: str, mark: Mark, message: str) -> Problem:
    return Problem(path, mark[0], mark[1], "warning", message)


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.col, p.message))


def report(problems: Iterable[Problem], strict: bool = False) -> int:
    """Print problems; the exit status they call for."""
    problems = sorted_problems(problems)
    for problem in problems:
        print(problem, file=sys.stderr)
    failing = [p for p in problems if p.severity == "error" or strict]
    if problems:
        errors = sum(p.severity == "error" for p in problems)
        print(f"{errors} error(s), {len(problems) - errors} warning(s)", file=sys.stderr)
    return 1 if failing else 0


def shown_path(path: str) -> str:
    """A path as messages show it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return path
