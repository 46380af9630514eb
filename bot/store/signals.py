"""Schema migration 10's tables (issue 17), mixed into :class:`bot.store.Store`:

- ``large_liq_posts``: each large-liquidation message a channel was sent, with the events it
  carried. A row is written in the transaction that queues the message in the outbox
  (:mod:`bot.store.outbox`), so a restart never re-sends an event and never drops one; the
  newest ``sent_ms`` per channel is what spaces a cascade into one message a minute.
- ``fear_greed``: the daily Fear & Greed index with the source's own label ("Extreme Fear").
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any

from bot.clock import from_ms, to_ms
from bot.models import FearGreed, Liquidation
from bot.store.outbox import OutboxRow, OutboxTables

# one large-liquidation message's record: guild, channel, when, its newest event, its events (JSON)
LargePostRecord = tuple[int, int, datetime, datetime, str]


class SignalTables(OutboxTables):
    conn: sqlite3.Connection
    lock: threading.RLock

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError  # provided by the store

    def _tx(self) -> AbstractContextManager[None]:
        raise NotImplementedError  # provided by the store (joins an open batch)

    # -- large liquidations --------------------------------------------------------------------

    def large_liquidations(
        self, coins: Sequence[str], since: datetime, until: datetime, min_usd: float
    ) -> list[Liquidation]:
        """Single events of ``coins`` in ``[since, until]`` of at least ``min_usd``, largest
        first (one index range per coin)."""
        out: list[Liquidation] = []
        for coin in coins:
            rows = self._rows(
                "SELECT venue, event_id, coin, side, price, qty, usd, ts_ms FROM liquidations "
                "WHERE coin = ? AND ts_ms >= ? AND ts_ms <= ? AND usd >= ?",
                (coin, to_ms(since), to_ms(until), min_usd),
            )
            out.extend(
                Liquidation.model_construct(
                    venue=r["venue"],
                    event_id=r["event_id"],
                    coin=r["coin"],
                    side=r["side"],
                    price=r["price"],
                    qty=r["qty"],
                    usd=r["usd"],
                    ts=from_ms(r["ts_ms"]),
                )
                for r in rows
            )
        out.sort(key=lambda e: (-e.usd, e.ts, e.venue, e.event_id))
        return out

    def large_liq_last_sent(self, channel_ids: Iterable[int]) -> dict[int, datetime]:
        """Per channel that was sent any, when its latest large-liquidation message was."""
        ids = sorted(set(channel_ids))
        out: dict[int, datetime] = {}
        with self.lock:
            for k in range(0, len(ids), 500):
                chunk = ids[k : k + 500]
                marks = ",".join("?" * len(chunk))
                rows = self.conn.execute(
                    f"SELECT channel_id, MAX(sent_ms) FROM large_liq_posts WHERE channel_id IN ({marks}) "  # noqa: S608
                    "GROUP BY channel_id",
                    chunk,
                ).fetchall()
                out.update((int(c), from_ms(ms)) for c, ms in rows)
        return out

    def large_liq_state(
        self, channel_ids: Iterable[int], grace: timedelta
    ) -> dict[int, tuple[datetime, datetime, dict[tuple[str, str], datetime]]]:
        """Per channel that was sent any: (its latest message, the newest event it carried,
        the events carried within ``grace`` before that newest one, by (venue, event id), with
        their times; channels sent the same messages get the same mapping object). Older events
        count as sent: bounded reads however long the cascade."""
        out: dict[int, tuple[datetime, datetime, dict[tuple[str, str], datetime]]] = {}
        parsed: dict[tuple[object, ...], dict[tuple[str, str], datetime]] = {}
        with self.lock:
            for channel in sorted(set(channel_ids)):
                sent_ms, newest_ms = self.conn.execute(
                    "SELECT MAX(sent_ms), MAX(newest_ms) FROM large_liq_posts WHERE channel_id = ?",
                    (channel,),
                ).fetchone()
                if sent_ms is None:
                    continue
                since = newest_ms - int(grace.total_seconds() * 1000)
                rows = self.conn.execute(
                    "SELECT events FROM large_liq_posts WHERE channel_id = ? AND newest_ms >= ?",
                    (channel, since),
                ).fetchall()
                texts = (since, *(text for (text,) in rows))
                if texts not in parsed:  # channels sent the same messages share one reading
                    parsed[texts] = {
                        (v, e): from_ms(ts)
                        for t in texts[1:]
                        for v, e, ts in json.loads(str(t))
                        if ts >= since
                    }
                out[channel] = (from_ms(sent_ms), from_ms(newest_ms), parsed[texts])
        return out

    def record_large_liq_posts(
        self, records: Sequence[LargePostRecord], outbox: Sequence[OutboxRow] = ()
    ) -> None:
        """Several messages' records and the messages themselves, queued, in one transaction."""
        with self.lock, self.conn:
            self._queue_rows(outbox)
            self.conn.executemany(
                "INSERT OR REPLACE INTO large_liq_posts (channel_id, sent_ms, guild_id, newest_ms, events) "
                "VALUES (?,?,?,?,?)",
                [(c, to_ms(at), g, to_ms(newest), events) for g, c, at, newest, events in records],
            )

    # -- Fear & Greed --------------------------------------------------------------------------

    def upsert_fear_greed(self, points: Iterable[FearGreed]) -> int:
        """Daily readings; a re-fetch of a day replaces it."""
        params = [(p.source, to_ms(p.ts), p.value, p.label) for p in points]
        with self.lock, self._tx():  # inside a scenario import's batch, part of its transaction
            self.conn.executemany(
                "INSERT INTO fear_greed (source, ts_ms, value, label) VALUES (?,?,?,?) "
                "ON CONFLICT (source, ts_ms) DO UPDATE SET value = excluded.value, label = excluded.label",
                params,
            )
        return len(params)

    def fear_greed_latest(self, at: datetime) -> FearGreed | None:
        """The newest reading for a day at or before ``at`` (any source)."""
        rows = self._rows(
            "SELECT source, ts_ms, value, label FROM fear_greed WHERE ts_ms <= ? ORDER BY ts_ms DESC LIMIT 1",
            (to_ms(at),),
        )
        if not rows:
            return None
        r = rows[0]
        return FearGreed(source=r["source"], ts=from_ms(r["ts_ms"]), value=r["value"], label=r["label"])
