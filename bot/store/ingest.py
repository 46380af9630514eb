"""Liquidation ingest, mixed into :class:`bot.store.Store`: a batch is staged in a per-connection
TEMP table (COPY on PostgreSQL), then deduped and rolled up by set-based SQL, so the cost follows
the batch, not the size of the hour or of the history. And the read that tells another process
what the ingest added (:meth:`LiquidationIngest.liq_minute_events`)."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.clock import to_ms
from bot.models import Liquidation
from bot.store.schema import ALL_COINS, HOUR_MS, MINUTE_MS
from bot.store.version import CountingConnection

if TYPE_CHECKING:
    from bot.store.pg import PgBackend

# Liquidation ingest: a batch is staged in a per-connection TEMP table, then deduped and rolled up
# by set-based SQL (see LiquidationIngest.insert_liquidations).
_STAGE_TABLE = (
    "CREATE TEMP TABLE IF NOT EXISTS liq_stage (venue TEXT NOT NULL, event_id TEXT NOT NULL, "
    "coin TEXT NOT NULL, side TEXT NOT NULL, price REAL NOT NULL, qty REAL NOT NULL, usd REAL NOT NULL, "
    "ts_ms INTEGER NOT NULL, minute_ms INTEGER NOT NULL, PRIMARY KEY (venue, event_id)) WITHOUT ROWID"
)
_STAGE_CLEAR = "DELETE FROM temp.liq_stage"
# OR IGNORE: the first occurrence of an id within the batch wins
_STAGE_INSERT = (
    "INSERT OR IGNORE INTO temp.liq_stage (venue, event_id, coin, side, price, qty, usd, ts_ms, minute_ms) "
    "VALUES (?,?,?,?,?,?,?,?,?)"
)
_STAGE_DROP_STORED = (
    "DELETE FROM temp.liq_stage WHERE EXISTS (SELECT 1 FROM main.liquidations l "
    "WHERE l.venue = liq_stage.venue AND l.event_id = liq_stage.event_id)"
)
_INSERT_NEW = (
    "INSERT INTO main.liquidations (venue, event_id, coin, side, price, qty, usd, ts_ms, minute_ms) "
    "SELECT venue, event_id, coin, side, price, qty, usd, ts_ms, minute_ms FROM temp.liq_stage"
)
# Additive upserts from the new events only, with their parameters. "WHERE true": an upsert
# after INSERT … SELECT needs it, or SQLite reads ON as a join constraint.
_ROLL_UPS: tuple[tuple[str, tuple[object, ...]], ...] = (
    (
        "INSERT INTO main.liq_minute (coin, minute_ms, side, venue, usd, events, max_usd) "
        "SELECT coin, minute_ms, side, venue, SUM(usd), COUNT(*), MAX(usd) FROM temp.liq_stage WHERE true "
        "GROUP BY coin, minute_ms, side, venue "
        "ON CONFLICT DO UPDATE SET usd = usd + excluded.usd, events = events + excluded.events, "
        "max_usd = MAX(max_usd, excluded.max_usd)",
        (),
    ),
    (
        "INSERT INTO main.liq_hour (coin, hour_ms, side, venue, usd, events, max_usd) "
        "SELECT coin, minute_ms / ? * ?, side, venue, SUM(usd), COUNT(*), MAX(usd) "
        "FROM temp.liq_stage WHERE true GROUP BY 1, 2, 3, 4 "
        "ON CONFLICT DO UPDATE SET usd = usd + excluded.usd, events = events + excluded.events, "
        "max_usd = MAX(max_usd, excluded.max_usd)",
        (HOUR_MS, HOUR_MS),
    ),
    (
        "INSERT INTO main.liq_hour (coin, hour_ms, side, venue, usd, events, max_usd) "
        "SELECT ?, minute_ms / ? * ?, side, venue, SUM(usd), COUNT(*), MAX(usd) "
        "FROM temp.liq_stage WHERE true GROUP BY 2, 3, 4 "
        "ON CONFLICT DO UPDATE SET usd = usd + excluded.usd, events = events + excluded.events, "
        "max_usd = MAX(max_usd, excluded.max_usd)",
        (ALL_COINS, HOUR_MS, HOUR_MS),
    ),
)


class LiquidationIngest:
    """Liquidation events in, once each, with their roll-ups (the store's attributes they use,
    declared)."""

    lock: threading.RLock
    conn: CountingConnection
    _pg: PgBackend | None

    def _tx(self) -> AbstractContextManager[None]:
        raise NotImplementedError  # provided by the store

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError  # provided by the store

    def liq_minute_events(self, since: datetime) -> dict[tuple[str, int], int]:
        """How many liquidation events are stored per (coin, minute start in ms), for the
        minutes from ``since``'s on: the per-minute roll-up's counts, which the ingest only ever
        adds to, so comparing two reads names the coins that got new events in between, on
        either backend and without a column of its own (:mod:`bot.alerts.liq_watch`).

        A range of the roll-up's time index, summed over sides and venues here: with a ``GROUP
        BY`` SQLite walks the whole table in key order to skip the sort (41 ms for a day of 100
        coins, against 5 ms for the window's rows)."""
        rows = self._rows(
            "SELECT coin, minute_ms, events FROM liq_minute WHERE minute_ms >= ?",
            (to_ms(since) // MINUTE_MS * MINUTE_MS,),
        )
        out: dict[tuple[str, int], int] = {}
        for r in rows:
            key = (str(r["coin"]), int(r["minute_ms"]))
            out[key] = out.get(key, 0) + int(r["events"])
        return out

    def insert_liquidations(self, events: Sequence[Liquidation]) -> int:
        """Store each event once (dedupe on venue + event id, within the batch and against the
        store) and add the new ones to the per-minute and per-hour roll-ups, all in one
        transaction: a batch is either wholly in, roll-ups included, or not at all. Returns how
        many events were new.

        The batch is staged in a TEMP table and everything after that is set-based SQL (the
        per-row work in Python is only building the tuples): the first occurrence of an id in
        the batch wins, ids already stored are dropped, and the roll-ups are upserted additively
        from the new events only, so the cost follows the batch, not the size of the hour or of
        the history."""
        if not events:
            return 0
        rows = [
            (e.venue, e.event_id, e.coin, e.side, e.price, e.qty, e.usd, ts, ts // MINUTE_MS * MINUTE_MS)
            for e in events
            for ts in (int(e.ts.timestamp() * 1000),)  # bot.clock.to_ms, inlined: per event
        ]
        conn = self.conn
        with self.lock:
            conn.liquidations = True  # this commit counts as liquidation data (see store.version)
            try:
                return self._ingest(conn, rows)
            finally:
                conn.liquidations = False

    def _ingest(self, conn: CountingConnection, rows: list[tuple[Any, ...]]) -> int:
        with self._tx():
            if self._pg is None:
                conn.execute(_STAGE_CLEAR)
                conn.executemany(_STAGE_INSERT, rows)
            else:  # COPY in, first occurrence kept (PostgreSQL's own staging, bot.store.pg)
                self._pg.writer.stage_liquidations(rows)
            conn.execute(_STAGE_DROP_STORED)
            before = conn.total_changes
            conn.execute(_INSERT_NEW)
            new = conn.total_changes - before
            if new:
                for sql, params in _ROLL_UPS:
                    conn.execute(sql, params)
        return new
