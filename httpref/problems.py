"""What goes wrong in a build, and how it is told: every stage reports `Problem`s (path, line, column,
severity, message) and raises `BuildError` with all of them; `report` prints them as `path:line:col:`
lines (summarising a warning repeated thousands of times) and returns the exit status they call for.
Content is hostile as often as careless: what a message quotes is cut (`quoted`), and what it prints has
its control characters escaped (`printable`)."""
from __future__ import annotations

import os
import re
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
        message = printable(self.message, MESSAGE_LIMIT)
        return f"{printable(self.path)}:{self.line}:{self.col}: {self.severity}: {message}"


class BuildError(Exception):
    """A stage found problems it cannot build past; carries every one of them."""

    def __init__(self, problems: list[Problem]):
        super().__init__("\n".join(map(str, problems)))
        self.problems = problems


# Characters a terminal acts on rather than shows: C0 and C1 controls (ESC starts escape sequences, CR
# overwrites the line), DEL, line and paragraph separators, and the marks that reorder text (bidi).
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
QUOTED_LIMIT = 80  # characters of a value a message quotes
MESSAGE_LIMIT = 500  # characters of a message: past it, a value was quoted without `quoted`


def quoted(value: object, limit: int = QUOTED_LIMIT) -> str:
    """A value as a message quotes it: in single quotes, cut to `limit` characters (a 900 KB value, or a
    symlinked /etc/passwd read as a source, is not echoed whole)."""
    return f"'{cut(str(value), limit)}'"


def cut(text: str, limit: int = QUOTED_LIMIT) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def printable(text: str, limit: int | None = None) -> str:
    """`text` safe to print: unprintable characters escaped (`\\x1b`); past `limit`, its middle left out
    (the start says what is wrong, the end what to do)."""
    text = _UNPRINTABLE.sub(lambda match: ascii(match.group())[1:-1], text)
    if limit is not None and len(text) > limit:
        text = f"{text[:limit * 2 // 3]} … {text[-limit // 3:]}"
    return text


def error(path: str, mark: Mark, message: str) -> Problem:
    return Problem(path, mark[0], mark[1], "error", message)


def warning(path: str, mark: Mark, message: str) -> Problem:
    return Problem(path, mark[0], mark[1], "warning", message)


def sorted_problems(problems: Iterable[Problem]) -> list[Problem]:
    return sorted(set(problems), key=lambda p: (p.path, p.line, p.col, p.message))


# More warnings of one kind than this are summarised: the first SHOWN in full, then one line counting the rest.
MAX_OF_A_KIND = 20
SHOWN = 5


def kind_of(problem: Problem) -> str:
    """What makes warnings alike: their message with numbers, quoted names and remarks in brackets taken out."""
    return re.sub(r"\d+|'[^']*'", "…", re.sub(r"\s*\([^)]*\)", "", problem.message))


def report(problems: Iterable[Problem], strict: bool = False, verbose: bool = False) -> int:
    """Print problems; the exit status they call for.

    Every error is printed. Warnings are too, unless more than MAX_OF_A_KIND are of one kind (50,000
    entries can repeat one warning thousands of times): then the first SHOWN of that kind are printed and
    one line counts the rest; `verbose` prints them all. The status counts every problem either way.
    """
    problems = sorted_problems(problems)
    kinds: dict[str, list[Problem]] = {}
    for problem in problems:
        if problem.severity == "warning":
            kinds.setdefault(kind_of(problem), []).append(problem)
    hidden = {id(p) for alike in kinds.values() if len(alike) > MAX_OF_A_KIND and not verbose
              for p in alike[SHOWN:]}
    lines = [str(problem) for problem in problems if id(problem) not in hidden]
    for kind, alike in kinds.items():
        if len(alike) > MAX_OF_A_KIND and not verbose:
            lines.append(printable(f"warning: … and {len(alike) - SHOWN} more like \"{kind}\" "
                                   "(--verbose prints them all)"))
    if problems:
        errors = sum(p.severity == "error" for p in problems)
        lines.append(f"{errors} error(s), {len(problems) - errors} warning(s)")
        print("\n".join(lines), file=sys.stderr)
    failing = [p for p in problems if p.severity == "error" or strict]
    return 1 if failing else 0


def shown_path(path: str) -> str:
    """A path as messages show it: relative to the working folder when inside it."""
    try:
        return os.path.relpath(path)
    except ValueError:
        return path
