"""What `serve` keeps in memory from one build to the next: parsed files by stat (`FileCache`) and stage
results by their inputs (`Memo`); `collector_paused`, for builds that keep what they make to the end; and
`in_workers`, which runs a stage's work in forked worker processes (`fork_processes` says how many)."""
from __future__ import annotations

import contextlib
import gc
import os
import sys
import threading
from collections.abc import Callable, Hashable, Iterator
from pathlib import Path
from typing import Any, TypeVar

from .problems import Problem


class FileCache:
    """Parsed files by path and stat, so `serve` re-reads only what changed."""

    def __init__(self):
        self._entries: dict[Path, tuple[tuple, Any, list[Problem]]] = {}

    def get(self, file: Path, parse: Callable[[list[Problem]], Any]) -> tuple[Any, list[Problem]]:
        try:
            info = file.stat()
            signature = (info.st_mtime_ns, info.st_size, info.st_ino)
        except OSError:
            signature = None
        cached = self._entries.get(file)
        if cached is not None and signature is not None and cached[0] == signature:
            return cached[1], cached[2]
        problems: list[Problem] = []
        result = parse(problems)
        self._entries[file] = (signature, result, problems)
        return result, problems


T = TypeVar("T")


class Memo:
    """Stage results kept from one build to the next with the inputs they were made from, for `serve`.

    Inputs are tuples compared with `==`, which tries `is` on each item first: an unchanged file
    comes back from `FileCache` as the same object, and so does every result memoised from it, so
    a save costs identity checks for all it did not change. `sweep()` after a good build drops
    the results that build did not use.
    """

    def __init__(self):
        self._kept: dict[Hashable, tuple[tuple, Any]] = {}
        self._used: dict[Hashable, tuple[tuple, Any]] = {}

    def get(self, slot: Hashable, inputs: tuple, make: Callable[[], T]) -> T:
        """The result kept in `slot` if it was made from equal `inputs`, else `make()`'s."""
        kept = self._used.get(slot) or self._kept.get(slot)
        if kept is None or kept[0] != inputs:
            kept = (inputs, make())
        self._used[slot] = kept
        return kept[1]

    def sweep(self) -> None:
        self._kept, self._used = self._used, {}


@contextlib.contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cycle collector off for a while: a build keeps most of what it makes to the end and makes
    few reference cycles, so the collector's passes (2,000 at 50,000 entries) would free almost nothing."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()


def available_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def fork_processes(jobs: int | None, big_enough: bool) -> int:
    """How many worker processes a stage forks: `jobs` if given, else one per core when the work is
    `big_enough` to gain; 1 means it works in this process. Forking a process that runs other threads can
    copy a lock in its held state, and macOS forbids fork with some system libraries loaded: there, and
    where there is no fork, it is always 1."""
    wanted = jobs if jobs is not None else (available_cores() if big_enough else 1)
    if wanted > 1 and (threading.active_count() > 1 or sys.platform == "darwin" or not hasattr(os, "fork")):
        return 1
    return max(1, wanted)


def in_workers(function: Callable[[Any], T], items: list, processes: int) -> list[T] | None:
    """`function(item)` for each item, in order, from `processes` forked workers; None if a worker died.

    The workers inherit this process's memory, so what `function` reads needs no copying; only the items and
    results travel, pickled. This process only hands out items and gathers results: rendering here too was
    slower (100 x 500 on 2 cores: 3.7 s with this process and one worker, 3.2 s with two workers)."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    try:
        with ProcessPoolExecutor(processes, mp_context=multiprocessing.get_context("fork"),
                                 initializer=_worker_start, initargs=(os.getpid(),)) as pool:
            return list(pool.map(function, items))
    except BrokenProcessPool:
        return None


def _worker_start(parent: int) -> None:
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle
    try:  # a worker dies with its parent, even if the parent is killed (Linux: PR_SET_PDEATHSIG)
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)
    except (OSError, AttributeError):
        pass
    if os.getppid() != parent:
        os._exit(1)
