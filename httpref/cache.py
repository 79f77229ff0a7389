"""What `serve` keeps in memory from one build to the next: parsed files by stat (`FileCache`) and stage
results by their inputs (`Memo`); and `collector_paused`, for builds that keep what they make to the end."""
from __future__ import annotations

import contextlib
import gc
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


