"""Schema migration 10's tables (issue 17), mixed into :class:`bot.store.Store`:

- ``large_liq_sent``: which single liquidations each channel was sent in a large-liquidation
  alert. Rows are written *before* the post (and removed again when a post fails for a
  transient reason), so a restart never re-sends an event and never drops one; the newest
  ``sent_ms`` per channel is what spaces a cascade into one message a minute.
- ``fear_greed``: the daily Fear & Greed index with the source's own label ("Extreme Fear").
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.clock import from_ms, to_ms
from bot.models import FearGreed, Liquidation


class SignalTables:
    conn: sqlite3.Connection
    lock: threading.RLock

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError  # provided by the store

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

    def large_liq_sent(self, channel_ids: Iterable[int], since: datetime) -> dict[int, set[tuple[str, str]]]:
        """Per channel, the (venue, event id) of events sent (or being sent) since ``since``."""
        out: dict[int, set[tuple[str, str]]] = {}
        with self.lock:
            for channel in sorted(set(channel_ids)):
                rows = self.conn.execute(
                    "SELECT venue, event_id FROM large_liq_sent WHERE channel_id = ? AND sent_ms >= ?",
                    (channel, to_ms(since)),
                ).fetchall()
                out[channel] = {(str(v), str(e)) for v, e in rows}
        return out

    def large_liq_last_sent(self, channel_ids: Iterable[int]) -> dict[int, datetime]:
        """Per channel, when its latest large-liquidation message was posted (or muted)."""
        out: dict[int, datetime] = {}
        with self.lock:
            for channel in sorted(set(channel_ids)):
                (ms,) = self.conn.execute(
                    "SELECT MAX(sent_ms) FROM large_liq_sent WHERE channel_id = ?", (channel,)
                ).fetchone()
                if ms is not None:
                    out[channel] = from_ms(ms)
        return out

    def record_large_liq_sent(
        self, guild_id: int, channel_id: int, events: Iterable[Liquidation], at: datetime
    ) -> int:
        params = [(channel_id, e.venue, e.event_id, guild_id, to_ms(e.ts), to_ms(at)) for e in events]
        with self.lock, self.conn:
            self.conn.executemany(
                "INSERT OR IGNORE INTO large_liq_sent (channel_id, venue, event_id, guild_id, ts_ms, sent_ms) "
                "VALUES (?,?,?,?,?,?)",
                params,
            )
        return len(params)

    def forget_large_liq_sent(self, channel_id: int, events: Iterable[Liquidation], at: datetime) -> None:
        """Give events back (a post failed for a transient reason): the next pass sends them."""
        with self.lock, self.conn:
            self.conn.executemany(
                "DELETE FROM large_liq_sent WHERE channel_id = ? AND venue = ? AND event_id = ? AND sent_ms = ?",
                [(channel_id, e.venue, e.event_id, to_ms(at)) for e in events],
            )

    def prune_large_liq_sent(self, before: datetime) -> int:
        with self.lock, self.conn:
            return self.conn.execute(
                "DELETE FROM large_liq_sent WHERE sent_ms < ?", (to_ms(before),)
            ).rowcount

    # -- Fear & Greed --------------------------------------------------------------------------

    def upsert_fear_greed(self, points: Iterable[FearGreed]) -> int:
        """Daily readings; a re-fetch of a day replaces it."""
        params = [(p.source, to_ms(p.ts), p.value, p.label) for p in points]
        with self.lock, self.conn:
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
