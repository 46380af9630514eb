"""The store's data version: what cached answers are keyed by.

Two counters, because the two kinds of data change at very different rates: liquidation
events arrive every second during a cascade, everything else (tickers, bars, open interest,
funding, macro) once a refresh. Answers are cached under both; the cache may serve an answer
whose only change is newer liquidations for a few seconds while it is overloaded
(:mod:`bot.services.answers`), never one whose other data changed.

Commits on this process's writer connection are counted as they happen. Commits by another
process (a separate collector) are seen through SQLite's ``PRAGMA data_version`` read on that
same writer connection: it changes whenever any *other* connection committed, never for the
connection's own commits, so every change there is another process's write.

PostgreSQL has no such PRAGMA: there each write transaction bumps a counter row of its kind in
the same transaction (:mod:`bot.store.pg`), a background thread reads the rows every
:data:`PRAGMA_EVERY` seconds (the event loop never waits on the network), and the version is
the counters as last read plus this process's commits since then (:meth:`DataVersion.read_counts`).
"""

from __future__ import annotations

import sqlite3
import threading
import time
from typing import Any


class CommitCounts:
    """A writer's commits by kind, as the data version counts them (both backends' writers)."""

    def __init__(self) -> None:
        self.other_commits = 0
        self.liq_commits = 0
        self.liquidations = False  # set by the ingest for its transaction (under the store's lock)
        self.quiet = False  # set for guild state no answer reads (bot.store.outbox): not counted

    def _count(self) -> None:
        if self.quiet:
            return
        if self.liquidations:
            self.liq_commits += 1
        else:
            self.other_commits += 1


class CountingConnection(sqlite3.Connection, CommitCounts):
    """The SQLite writer connection: counts its commits, each either a liquidation ingest or other."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        sqlite3.Connection.__init__(self, *args, **kwargs)
        CommitCounts.__init__(self)

    def commit(self) -> None:
        super().commit()
        self._count()

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> Any:
        result = super().__exit__(exc_type, exc, tb)
        if exc_type is None:
            self._count()
        return result


# Another process's commits are looked for at most this often: the version is read for every
# request on the event loop, and this process's own commits are counted exactly without SQLite.
PRAGMA_EVERY = 0.1


class DataVersion:
    """``(other, liquidations)``: each part changes when its kind of data was committed."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._external = 0
        self._seen: int | None = None
        self.looked_at = -PRAGMA_EVERY  # monotonic time of the last PRAGMA read
        self._counts = (0, 0)  # PostgreSQL: the counter rows as last read
        self._own_at_read = (0, 0)

    def due(self) -> bool:
        """Whether to read ``PRAGMA data_version`` again (at most every PRAGMA_EVERY seconds)."""
        now = time.monotonic()
        if now - self.looked_at < PRAGMA_EVERY:
            return False
        self.looked_at = now
        return True

    def read(self, writer: CountingConnection, pragma: int | None) -> tuple[int, int]:
        """``pragma``: the writer's ``PRAGMA data_version`` read just now, or None when it was
        not read this time (at most every :data:`PRAGMA_EVERY` seconds, never waiting for a
        write in progress)."""
        with self._lock:
            if pragma is not None:
                if self._seen is not None and pragma != self._seen:
                    self._external += 1  # another process committed: treat it as any kind of data
                self._seen = pragma
            return (writer.other_commits + self._external, writer.liq_commits)

    def set_counts(self, counts: tuple[int, int], own_before: tuple[int, int]) -> None:
        """PostgreSQL: every process's committed ``(other, liquidations)`` as just read, and
        this process's own commit counts taken *before* that read (a commit of ours landing in
        between is then counted twice, never missed: the version only grows)."""
        with self._lock:
            self._counts, self._own_at_read = counts, own_before

    def read_counts(self, writer: Any) -> tuple[int, int]:
        """PostgreSQL: the counts last read plus this process's own commits since: it changes
        with every commit, ours at once and another process's within :data:`PRAGMA_EVERY`."""
        with self._lock:
            other, liq = self._counts
            own_other, own_liq = self._own_at_read
            return (other + writer.other_commits - own_other, liq + writer.liq_commits - own_liq)
