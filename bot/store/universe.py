"""The tracked set that follows the market (issue 17): the discovered coins with their venue
ids, and each newly tracked coin's history backfill per venue. Mixed into
:class:`bot.store.Store`; persisted so a restart knows what is tracked without the network."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from bot.clock import from_ms, to_ms
from bot.coins import Coin

_COIN_FIELDS = ("symbol", "name", "coingecko", "binance_spot", "binance_perp", "bybit", "okx")


class UniverseTables:
    lock: threading.RLock
    conn: sqlite3.Connection

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError  # provided by the store

    def save_tracked(
        self,
        coins: Sequence[Coin],
        at: datetime,
        backfill: Mapping[str, Sequence[str]],
        known: Sequence[Coin] = (),
    ) -> None:
        """Replace the tracked set with ``coins`` (in their order) in one transaction, with the
        ``known`` coins below the cut, and start the backfill record of each coin in
        ``backfill`` (symbol → its venues). A coin leaving the set takes its backfill rows with
        it; one staying keeps its ``added_ms``."""
        added = {r["symbol"]: r["added_ms"] for r in self._rows("SELECT symbol, added_ms FROM tracked_coins")}
        tracked = {c.symbol for c in coins}
        rows = [
            (
                *(getattr(c, f) for f in _COIN_FIELDS),
                c.perp_multiplier,
                ",".join(c.aliases),
                i,
                added.get(c.symbol, to_ms(at)),
                int(c.symbol in tracked),
            )
            for i, c in enumerate([*coins, *(k for k in known if k.symbol not in tracked)])
        ]
        with self.lock, self.conn:
            self.conn.execute("DELETE FROM tracked_coins")
            self.conn.executemany(
                "INSERT INTO tracked_coins (symbol, name, coingecko, binance_spot, binance_perp, bybit, okx, "
                "perp_multiplier, aliases, position, added_ms, tracked) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            self.conn.execute(
                "DELETE FROM coin_backfill WHERE symbol NOT IN (SELECT symbol FROM tracked_coins WHERE tracked = 1)"
            )
            self.conn.executemany(
                "INSERT OR IGNORE INTO coin_backfill (symbol, venue) VALUES (?, ?)",
                [(symbol, venue) for symbol, venues in backfill.items() for venue in venues],
            )

    def tracked_coins(self, *, known: bool = False) -> list[Coin]:
        """The persisted set in its order (empty before the first discovery); ``known``: with
        the coins below the cut after them."""
        where = "" if known else "WHERE tracked = 1 "
        return [
            Coin(
                **{f: r[f] for f in _COIN_FIELDS},
                perp_multiplier=float(r["perp_multiplier"]),
                aliases=tuple(a for a in r["aliases"].split(",") if a),
            )
            for r in self._rows(f"SELECT * FROM tracked_coins {where}ORDER BY position")  # noqa: S608
        ]

    def mark_backfill(self, symbol: str, venue: str, at: datetime | None, error: str = "") -> None:
        """A venue's history for ``symbol`` is in (``at``), or failed this time (``error``)."""
        with self.lock, self.conn:
            self.conn.execute(
                "UPDATE coin_backfill SET done_ms = COALESCE(?, done_ms), error = ? WHERE symbol = ? AND venue = ?",
                (None if at is None else to_ms(at), error[:300], symbol, venue),
            )

    def backfill_progress(self) -> dict[str, dict[str, datetime | None]]:
        """symbol → venue → when its history was in (None: still loading)."""
        out: dict[str, dict[str, datetime | None]] = {}
        for r in self._rows("SELECT symbol, venue, done_ms FROM coin_backfill ORDER BY symbol, venue"):
            out.setdefault(r["symbol"], {})[r["venue"]] = (
                None if r["done_ms"] is None else from_ms(r["done_ms"])
            )
        return out
