"""The store's upkeep, mixed into :class:`bot.store.Store`: stream sessions (what coverage is
read from), source health and heartbeats (what /status and the health check read), and pruning
(raw events past retention, dense points thinned to hourly, freed pages returned)."""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from bot.clock import from_ms, to_ms
from bot.store.schema import HOUR_MS

THINNED_UNTIL = "prune:thinned-until"  # the mark where thinning of old points stopped

# What is not raw is kept for a bounded history, not for good, so the store stops growing:
# hourly series for HOURLY_HISTORY, longer than any window an answer reads plus its baseline
# (30-day windows on 30-day baselines; an alert's σ of 1h moves over up to 60 days of hourly
# bars after 30 days: 92 days), daily bars and closes for DAILY_HISTORY (levels read 420 days).
HOURLY_HISTORY = timedelta(days=120)
DAILY_HISTORY = timedelta(days=800)
OUTBOX_HISTORY = timedelta(days=7)  # posted (or given up) alert messages, kept to look into
# (statement, which history it keeps); each runs in its own short transaction
_HISTORY_PRUNES: tuple[tuple[str, str], ...] = (
    ("DELETE FROM liq_hour WHERE hour_ms < ?", "hourly"),
    ("DELETE FROM candles WHERE interval <> '1d' AND open_ms < ?", "hourly"),
    ("DELETE FROM candles WHERE interval = '1d' AND open_ms < ?", "daily"),
    ("DELETE FROM open_interest WHERE ts_ms < ?", "hourly"),
    ("DELETE FROM funding WHERE ts_ms < ?", "hourly"),
    ("DELETE FROM long_short WHERE ts_ms < ?", "hourly"),
    ("DELETE FROM top_traders WHERE ts_ms < ?", "hourly"),
    ("DELETE FROM macro WHERE interval <> '1d' AND ts_ms < ?", "hourly"),
    ("DELETE FROM macro WHERE interval = '1d' AND ts_ms < ?", "daily"),
    ("DELETE FROM global_stats WHERE ts_ms < ?", "hourly"),
    ("DELETE FROM stream_sessions WHERE disconnected_ms < ?", "hourly"),
    ("DELETE FROM alert_outbox WHERE done_ms < ?", "outbox"),
)


class Upkeep:
    """Sessions, health, marks and pruning (the store's attributes they use, declared)."""

    lock: threading.RLock
    conn: sqlite3.Connection
    path: str
    backend: str  # "sqlite" or "postgresql"
    _batch_depth: int

    def _tx(self) -> AbstractContextManager[None]:
        raise NotImplementedError  # provided by the store

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError  # provided by the store

    def open_stream_session(self, venue: str, at: datetime) -> None:
        with self.lock, self._tx():
            self.conn.execute(
                "INSERT OR IGNORE INTO stream_sessions (venue, connected_ms) VALUES (?, ?)",
                (venue, to_ms(at)),
            )

    def close_stream_session(self, venue: str, at: datetime) -> None:
        with self.lock, self._tx():
            self.conn.execute(
                "UPDATE stream_sessions SET disconnected_ms = ? WHERE venue = ? AND disconnected_ms IS NULL",
                (to_ms(at), venue),
            )

    def close_dangling_sessions(self) -> int:
        """Close sessions a crash left open at the last event seen on that venue (or at their
        own start): the time the process was down is then a gap, not coverage."""
        with self.lock, self._tx():
            cur = self.conn.execute(
                "UPDATE stream_sessions SET disconnected_ms = MAX(connected_ms, COALESCE(("
                "SELECT MAX(ts_ms) FROM liquidations l WHERE l.venue = stream_sessions.venue "
                "AND l.ts_ms >= stream_sessions.connected_ms), connected_ms)) WHERE disconnected_ms IS NULL"
            )
        return cur.rowcount

    def record_success(self, source: str, at: datetime, detail: str = "") -> None:
        with self.lock, self._tx():
            self.conn.execute(
                "INSERT INTO source_health (source, last_success_ms, consecutive_failures, detail) "
                "VALUES (?, ?, 0, ?) ON CONFLICT(source) DO UPDATE SET last_success_ms = excluded.last_success_ms, "
                "consecutive_failures = 0, detail = excluded.detail, disabled_reason = NULL",
                (source, to_ms(at), detail),
            )

    def record_failure(
        self, source: str, at: datetime, error: str, disabled_reason: str | None = None
    ) -> None:
        with self.lock, self._tx():
            self.conn.execute(
                "INSERT INTO source_health (source, last_error, last_error_ms, consecutive_failures, "
                "disabled_reason) VALUES (?, ?, ?, 1, ?) ON CONFLICT(source) DO UPDATE SET "
                "last_error = excluded.last_error, last_error_ms = excluded.last_error_ms, "
                "consecutive_failures = consecutive_failures + 1, "
                "disabled_reason = COALESCE(excluded.disabled_reason, disabled_reason)",
                (source, error[:500], to_ms(at), disabled_reason),
            )

    def beat(self, name: str, at: datetime, detail: str = "") -> None:
        """Record that ``name`` (e.g. the gateway) was alive at ``at``."""
        with self.lock, self._tx():
            self.conn.execute(
                "INSERT INTO marks (name, ts_ms, detail) VALUES (?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET ts_ms = excluded.ts_ms, detail = excluded.detail",
                (name, to_ms(at), detail[:200]),
            )

    def mark(self, name: str) -> tuple[datetime, str] | None:
        """One mark's time and detail."""
        rows = self._rows("SELECT ts_ms, detail FROM marks WHERE name = ?", (name,))
        return (from_ms(rows[0]["ts_ms"]), str(rows[0]["detail"])) if rows else None

    def heartbeats(self) -> dict[str, datetime]:
        """Every mark by name (heartbeats and watermarks)."""
        return {r["name"]: from_ms(r["ts_ms"]) for r in self._rows("SELECT name, ts_ms FROM marks")}

    def prune(
        self,
        now: datetime,
        raw_retention: timedelta,
        dense_for: timedelta = timedelta(hours=48),
        catch_up: timedelta = timedelta(days=7),
        budget_s: float = 5.0,
        history: timedelta = HOURLY_HISTORY,
        daily_history: timedelta = DAILY_HISTORY,
    ) -> int:
        """Keep the store's size bounded by design; returns how many raw events were dropped.

        - Raw liquidation events past retention are dropped, and so are their per-minute
          roll-ups: the hourly roll-ups (written with them) keep the baselines.
        - Open-interest and funding points older than ``dense_for`` are thinned to one per hour
          (the every-minute points only matter for the short windows), from where the last run
          stopped (a watermark in ``marks``), ``catch_up`` at a time within ``budget_s`` of work
          per run: a long history or weeks of downtime are caught up instead of keeping dense
          points forever.
        - Everything else that accumulates (hourly roll-ups, candles, open interest, funding,
          ratios, macro, global stats, stream sessions) is kept for ``history`` (daily bars and
          closes for ``daily_history``): enough for every window and baseline an answer reads,
          and a size that stops growing.
        - Freed pages are returned to the filesystem (incremental vacuum; stores created before
          this build keep their free pages for reuse)."""
        cutoff = to_ms(now - raw_retention)
        dense = to_ms(now - dense_for)
        with self.lock, self._tx():
            cur = self.conn.execute("DELETE FROM liquidations WHERE ts_ms < ?", (cutoff,))
            self.conn.execute("DELETE FROM liq_minute WHERE minute_ms < ?", (cutoff,))
            self.conn.execute("DELETE FROM large_liq_posts WHERE sent_ms < ?", (cutoff,))
        removed = cur.rowcount
        cuts = {
            "hourly": to_ms(now - history),
            "daily": to_ms(now - daily_history),
            "outbox": to_ms(now - OUTBOX_HISTORY),
        }
        for sql, kept in _HISTORY_PRUNES:
            with self.lock, self._tx():
                self.conn.execute(sql, (cuts[kept],))
        # slab after slab, each its own short transaction, until caught up or the run's work
        # budget is spent (sparse old slabs cost milliseconds; a dense one about a second at
        # 100 coins), so neither a long history nor a long downtime stalls the writers
        step = int(catch_up.total_seconds() * 1000)
        deadline = time.monotonic() + budget_s
        while time.monotonic() < deadline and self._thin_slab(dense, step):
            pass
        self._incremental_vacuum()
        return removed

    def _thin_slab(self, dense: int, step: int) -> bool:
        """Thin the next slab past the watermark; False when there was nothing left to thin."""
        with self.lock, self._tx():
            start = self._thinned_until()
            end = min(dense, start + step)
            if end <= start:
                return False
            for table in ("open_interest", "funding"):
                # a point goes when an earlier one of its hour exists: one index seek per
                # row (a NOT IN over the slab's hourly minimums grew quadratically)
                self.conn.execute(
                    f"DELETE FROM {table} AS t WHERE ts_ms >= ? AND ts_ms < ? AND EXISTS ("  # noqa: S608
                    f"SELECT 1 FROM {table} AS e WHERE e.coin = t.coin AND e.venue = t.venue "
                    "AND e.ts_ms >= t.ts_ms / 3600000 * 3600000 AND e.ts_ms < t.ts_ms)",
                    (start, end),
                )
            self.conn.execute(
                "INSERT INTO marks (name, ts_ms) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET ts_ms = excluded.ts_ms",
                (THINNED_UNTIL, end),
            )
        return end < dense

    def _thinned_until(self) -> int:
        """Where thinning stopped last time; the oldest point for a store never thinned."""
        row = self.conn.execute("SELECT ts_ms FROM marks WHERE name = ?", (THINNED_UNTIL,)).fetchone()
        if row is not None:
            return int(row[0])
        oldest = [
            self.conn.execute(f"SELECT MIN(ts_ms) FROM {t}").fetchone()[0]  # noqa: S608
            for t in ("open_interest", "funding")
        ]
        found = [int(v) for v in oldest if v is not None]
        # an hour boundary, so the first run's hours are whole
        return min(found) // HOUR_MS * HOUR_MS if found else 0

    def _incremental_vacuum(self) -> None:
        with self.lock:
            if self.path == ":memory:" or self._batch_depth or self.backend != "sqlite":
                return  # PostgreSQL's autovacuum returns the space
            (mode,) = self.conn.execute("PRAGMA auto_vacuum").fetchone()
            if mode == 2:  # INCREMENTAL; stepped to the end only by executescript (execute frees one page)
                self.conn.executescript("PRAGMA incremental_vacuum;")
