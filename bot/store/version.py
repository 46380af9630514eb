"""The store's data version: what cached answers are keyed by.

Two counters, because the two kinds of data change at very different rates: liquidation
events arrive every second during a cascade, everything else (tickers, bars, open interest,
funding, macro) once a refresh. Answers are cached under both; the cache may serve an answer
whose only change is newer liquidations for a few seconds while it is overloaded
(:mod:`bot.services.answers`), never one whose other data changed.

Commits on this process's writer connection are counted as they happen. Commits by another
process (a separate collector) are seen through SQLite's ``PRAGMA data_version``, which changes
on a connection whenever any other connection committed: a change there with no commit of our
own since the last look is another process's write.
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any


class CountingConnection(sqlite3.Connection):
    """The writer connection: counts its commits, each either a liquidation ingest or other."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.other_commits = 0
        self.liq_commits = 0
        self.liquidations = False  # set by the ingest for its transaction (under the store's lock)

    def _count(self) -> None:
        if self.liquidations:
            self.liq_commits += 1
        else:
            self.other_commits += 1

    def commit(self) -> None:
        super().commit()
        self._count()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        result = super().__exit__(exc_type, exc, tb)
        if exc_type is None:
            self._count()
        return result


class DataVersion:
    """``(other, liquidations)``: each part changes when its kind of data was committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._external = 0
        self._seen: tuple[int | None, int] = (None, 0)

    def read(self, writer: CountingConnection, pragma: int | None) -> tuple[int, int]:
        own = writer.other_commits + writer.liq_commits
        with self._lock:
            last_pragma, last_own = self._seen
            if pragma is not None and last_pragma is not None and pragma != last_pragma and own == last_own:
                self._external += 1  # someone else committed: treat it as any kind of data
            self._seen = (pragma, own)
            return (writer.other_commits + self._external, writer.liq_commits)
