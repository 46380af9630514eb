"""Window queries the services ask. Each reads only the rows its window needs (every table is
keyed coin-first, time-second), so an answer's cost does not grow with older history."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any, TypeVar

from bot.clock import from_ms, to_ms
from bot.columns import COLUMNS, CandleColumns
from bot.models import (
    Candle,
    Funding,
    GlobalStats,
    LongShortRatio,
    MacroPoint,
    MarketEntry,
    OpenInterest,
    StreamConnection,
    TopTraderRatio,
)
from bot.store.schema import ALL_COINS, HOUR_MS

T = TypeVar("T")

SERIES_VENUES = ("binance", "bybit", "okx")  # venues with open interest, funding and ratios

# Where one coin's candles come from, best first: the deepest spot book, then perps.
CANDLE_PREFERENCE = (("binance", "spot"), ("binance", "perp"), ("bybit", "perp"), ("okx", "perp"))


class StoreReads:
    lock: threading.RLock
    backend: str  # "sqlite" or "postgresql"

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError

    def _tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def candles(
        self, coin: str, interval: str, since: datetime, until: datetime | None = None
    ) -> list[Candle]:
        """One venue's candles for the coin (the preferred venue that has any), oldest first."""
        for venue, market in CANDLE_PREFERENCE:
            bars = self.candles_of(coin, interval, venue, market, since, until)
            if bars:
                return bars
        return []

    def candles_of(
        self,
        coin: str,
        interval: str,
        venue: str,
        market: str,
        since: datetime,
        until: datetime | None = None,
    ) -> list[Candle]:
        rows = self._rows(
            "SELECT * FROM candles WHERE coin = ? AND interval = ? AND venue = ? AND market = ? "
            "AND open_ms >= ? AND open_ms <= ? ORDER BY open_ms",
            (coin, interval, venue, market, to_ms(since), to_ms(until) if until else 2**62),
        )
        return [_candle(r) for r in rows]

    def candle_columns(
        self, coin: str, interval: str, since: datetime, until: datetime | None = None
    ) -> CandleColumns:
        """:meth:`candles` as numpy columns straight from the rows (no model per bar): for
        analysis that only needs the columns (beta, levels)."""
        select = ", ".join(COLUMNS)
        for venue, market in CANDLE_PREFERENCE:
            rows = self._tuples(
                f"SELECT {select} FROM candles WHERE coin = ? AND interval = ? AND venue = ? "  # noqa: S608
                "AND market = ? AND open_ms >= ? AND open_ms <= ? ORDER BY open_ms",
                (coin, interval, venue, market, to_ms(since), to_ms(until) if until else 2**62),
            )
            if rows:
                return CandleColumns.from_rows(coin, interval, venue, market, rows)
        return CandleColumns.empty(coin, interval)

    def candles_many(
        self, coins: Sequence[str], interval: str, since: datetime, until: datetime | None = None
    ) -> dict[str, list[Candle]]:
        """``{coin: self.candles(coin, interval, since, until)}`` for coins with any bars, in one
        query instead of up to one per coin and venue: each coin's bars from the first venue of
        :data:`CANDLE_PREFERENCE` that has any in the range."""
        if not coins:
            return {}
        preference = {pair: rank for rank, pair in enumerate(CANDLE_PREFERENCE)}
        venues = sorted({v for v, _ in CANDLE_PREFERENCE})
        markets = sorted({m for _, m in CANDLE_PREFERENCE})
        found: dict[str, dict[tuple[str, str], list[Candle]]] = {}
        for chunk in _chunks(list(dict.fromkeys(coins))):
            rows = self._rows(
                f"SELECT * FROM candles WHERE coin IN ({_marks(chunk)}) AND interval = ? "  # noqa: S608
                f"AND venue IN ({_marks(venues)}) AND market IN ({_marks(markets)}) "
                "AND open_ms >= ? AND open_ms <= ? ORDER BY coin, venue, market, open_ms",
                (*chunk, interval, *venues, *markets, to_ms(since), to_ms(until) if until else 2**62),
            )
            for r in rows:
                pair = (r["venue"], r["market"])
                if pair in preference:
                    found.setdefault(r["coin"], {}).setdefault(pair, []).append(_candle(r))
        return {coin: by[min(by, key=preference.__getitem__)] for coin, by in found.items()}

    def latest_candle_times(self, interval: str) -> dict[str, datetime]:
        """Newest stored bar per coin (any venue): decides backfill vs incremental fetches."""
        rows = self._rows(
            "SELECT coin, MAX(open_ms) AS last FROM candles WHERE interval = ? GROUP BY coin", (interval,)
        )
        return {r["coin"]: from_ms(r["last"]) for r in rows}

    def open_interest(self, coin: str, since: datetime) -> list[OpenInterest]:
        rows = self._rows(
            "SELECT * FROM open_interest WHERE coin = ? AND ts_ms >= ? ORDER BY ts_ms, venue",
            (coin, to_ms(since)),
        )
        return [OpenInterest.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"])) for r in rows]

    def near(
        self, table: str, coin: str, instants: Iterable[datetime], *, after: bool = True
    ) -> list[dict[str, Any]]:
        """Per venue, the row at or just before each instant (and just after, with ``after``):
        what a change between two times needs, read by index seeks instead of every minute's
        point in between."""
        if table not in ("open_interest", "funding", "long_short"):
            raise ValueError(f"no point-in-time reads for {table}")
        out: dict[tuple[str, int], dict[str, Any]] = {}
        for venue in SERIES_VENUES:
            for t in instants:
                ms = to_ms(t)
                queries = [("<=", "DESC")] + ([(">=", "ASC")] if after else [])
                for op, order in queries:
                    for r in self._rows(
                        f"SELECT * FROM {table} WHERE coin = ? AND venue = ? AND ts_ms {op} ? "  # noqa: S608
                        f"ORDER BY ts_ms {order} LIMIT 1",
                        (coin, venue, ms),
                    ):
                        out[(venue, r["ts_ms"])] = r
        return sorted(out.values(), key=lambda r: (r["venue"], r["ts_ms"]))

    def oi_points(self, coin: str, instants: Iterable[datetime], *, after: bool = True) -> list[OpenInterest]:
        return [
            OpenInterest.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"]))
            for r in self.near("open_interest", coin, instants, after=after)
        ]

    def near_many(
        self, table: str, keys: Iterable[tuple[str, str]], at: datetime, *, after: bool = True
    ) -> dict[tuple[str, str], list[dict[str, Any]]]:
        """:meth:`near` for many (coin, venue) pairs at one instant, in one query (index seeks
        from a VALUES list): ``{(coin, venue): rows}``, each list oldest first, pairs without a
        row left out."""
        if table not in ("open_interest", "funding", "long_short"):
            raise ValueError(f"no point-in-time reads for {table}")
        ms = to_ms(at)
        out: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for chunk in _chunks(list(dict.fromkeys(keys))):
            values = ", ".join("(?, ?)" for _ in chunk)
            params = (*(x for key in chunk for x in key), ms, *((ms,) if after else ()))
            rows = self._rows(self._near_many_sql(table, values, after=after), params)
            for r in rows:
                out.setdefault((r["coin"], r["venue"]), []).append(r)
        return out

    def _near_many_sql(self, table: str, values: str, *, after: bool) -> str:
        """:meth:`near_many`'s statement. SQLite seeks the two points per pair through ``IN``
        over two scalar subqueries; PostgreSQL would test those subqueries against every row
        of each pair, so there it is a LATERAL join of the two seeks (same rows, same order)."""
        if self.backend == "postgresql":
            seek = (
                f"(SELECT * FROM {table} WHERE coin = k.coin AND venue = k.venue "  # noqa: S608
                "AND ts_ms {op} ? ORDER BY ts_ms {order} LIMIT 1)"
            )
            both = seek.format(op="<=", order="DESC")
            if after:
                both += " UNION " + seek.format(op=">=", order="ASC")
            return (
                f"SELECT o.* FROM (VALUES {values}) AS k (coin, venue) CROSS JOIN LATERAL ({both}) AS o "  # noqa: S608
                "ORDER BY o.coin, o.venue, o.ts_ms"
            )
        after_sql = (
            f", (SELECT ts_ms FROM {table} WHERE coin = k.column1 AND venue = k.column2 "  # noqa: S608
            "AND ts_ms >= ? ORDER BY ts_ms ASC LIMIT 1)"
            if after
            else ""
        )
        # SELECT first (not WITH): the bench's raw-SQL peer replays the statements it traces
        return (
            f"SELECT o.* FROM (VALUES {values}) AS k "  # noqa: S608
            f"JOIN {table} o ON o.coin = k.column1 AND o.venue = k.column2 AND o.ts_ms IN ("
            f"(SELECT ts_ms FROM {table} WHERE coin = k.column1 AND venue = k.column2 "
            f"AND ts_ms <= ? ORDER BY ts_ms DESC LIMIT 1){after_sql}) ORDER BY o.coin, o.venue, o.ts_ms"
        )

    def oi_latest(self, coins: Sequence[str], at: datetime) -> list[OpenInterest]:
        """Each coin's latest point per venue at or before ``at``, in coin order then by venue:
        what ``[p for c in coins for p in self.oi_points(c, [at], after=False)]`` returns, in one
        query instead of one per coin and venue."""
        rows = self.near_many(
            "open_interest", [(c, v) for c in coins for v in SERIES_VENUES], at, after=False
        )
        return [_oi(r) for c in coins for v in sorted(SERIES_VENUES) for r in rows.get((c, v), ())]

    def oi_near(self, venue: str, coins: Sequence[str], at: datetime) -> dict[str, list[OpenInterest]]:
        """For each coin, the venue's points at or either side of ``at``, oldest first: the
        venue's part of ``self.oi_points(coin, [at])``, for every coin in one query."""
        rows = self.near_many("open_interest", [(c, venue) for c in coins], at)
        return {c: [_oi(r) for r in found] for (c, _), found in rows.items()}

    def funding_points(self, coin: str, instants: Iterable[datetime]) -> list[Funding]:
        return [
            Funding.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"]))
            for r in self.near("funding", coin, instants, after=False)
        ]

    def liq_sums(self, coin: str | None, start: datetime, end: datetime) -> list[dict[str, Any]]:
        """Liquidations of ``[start, end)`` summed per side and venue (usd, events, max_usd):
        whole hours from the hourly roll-up, the partial hours at the edges from the minutes."""
        lo, hi = to_ms(start), to_ms(end)
        h_lo = -(-lo // HOUR_MS) * HOUR_MS  # first whole hour
        h_hi = hi // HOUR_MS * HOUR_MS
        parts: list[dict[str, Any]] = []
        if h_lo < h_hi:
            parts += self._rows(
                "SELECT side, venue, SUM(usd) AS usd, SUM(events) AS events, MAX(max_usd) AS max_usd "
                "FROM liq_hour WHERE coin = ? AND hour_ms >= ? AND hour_ms < ? GROUP BY side, venue",
                (coin or ALL_COINS, h_lo, h_hi),
            )
            edges = [(lo, h_lo), (h_hi, hi)]
        else:
            edges = [(lo, hi)]
        for a, b in edges:
            if a >= b:
                continue
            sums = "SELECT side, venue, SUM(usd) AS usd, SUM(events) AS events, MAX(max_usd) AS max_usd FROM liq_minute "
            if coin:
                sql = sums + "WHERE coin = ? AND minute_ms >= ? AND minute_ms < ? GROUP BY side, venue"
                parts += self._rows(sql, (coin, a, b))
            else:
                parts += self._rows(
                    sums + "WHERE minute_ms >= ? AND minute_ms < ? GROUP BY side, venue", (a, b)
                )
        merged: dict[tuple[str, str], dict[str, Any]] = {}
        for r in parts:
            m = merged.setdefault(
                (r["side"], r["venue"]),
                {"side": r["side"], "venue": r["venue"], "usd": 0.0, "events": 0, "max_usd": 0.0},
            )
            m["usd"] += r["usd"] or 0.0
            m["events"] += r["events"] or 0
            m["max_usd"] = max(m["max_usd"], r["max_usd"] or 0.0)
        return list(merged.values())

    def funding(self, coin: str, since: datetime) -> list[Funding]:
        rows = self._rows(
            "SELECT * FROM funding WHERE coin = ? AND ts_ms >= ? ORDER BY ts_ms, venue", (coin, to_ms(since))
        )
        return [Funding.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"])) for r in rows]

    def long_short(self, coin: str, since: datetime) -> list[LongShortRatio]:
        rows = self._rows(
            "SELECT * FROM long_short WHERE coin = ? AND ts_ms >= ? ORDER BY ts_ms, venue",
            (coin, to_ms(since)),
        )
        return [LongShortRatio.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"])) for r in rows]

    def top_traders(self, coin: str, since: datetime) -> list[TopTraderRatio]:
        rows = self._rows(
            "SELECT * FROM top_traders WHERE coin = ? AND ts_ms >= ? ORDER BY ts_ms, venue, basis",
            (coin, to_ms(since)),
        )
        return [TopTraderRatio.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"])) for r in rows]

    def liq_buckets(
        self, coin: str | None, since: datetime, until: datetime, *, hourly: bool
    ) -> list[dict[str, Any]]:
        """Liquidation roll-up rows ``{coin, minute, side, venue, usd, events, max_usd}`` (``minute``
        is the bucket start, ms). ``coin=None`` is the whole market, summed over coins (coin
        ``"*"``); ``hourly`` reads the hourly roll-up, for long windows and baselines."""
        lo, hi = to_ms(since), to_ms(until)
        if hourly:
            return self._rows(
                "SELECT coin, hour_ms AS minute, side, venue, usd, events, max_usd FROM liq_hour "
                "WHERE coin = ? AND hour_ms >= ? AND hour_ms < ? ORDER BY hour_ms, side, venue",
                (coin or ALL_COINS, lo, hi),
            )
        if coin is None:
            return self._rows(
                "SELECT ? AS coin, minute_ms AS minute, side, venue, SUM(usd) AS usd, SUM(events) AS events, "
                "MAX(max_usd) AS max_usd FROM liq_minute WHERE minute_ms >= ? AND minute_ms < ? "
                "GROUP BY minute_ms, side, venue ORDER BY minute_ms, side, venue",
                (ALL_COINS, lo, hi),
            )
        return self._rows(
            "SELECT coin, minute_ms AS minute, side, venue, usd, events, max_usd FROM liq_minute "
            "WHERE coin = ? AND minute_ms >= ? AND minute_ms < ? ORDER BY minute_ms, side, venue",
            (coin, lo, hi),
        )

    def top_liquidated(self, since: datetime, until: datetime, limit: int = 5) -> list[dict[str, Any]]:
        """Coins with the most liquidations in a window (for the market-wide answer)."""
        return self._rows(
            "SELECT coin, SUM(usd) AS usd, SUM(CASE WHEN side = 'long' THEN usd ELSE 0 END) AS long_usd "
            "FROM liq_hour WHERE coin != ? AND hour_ms >= ? AND hour_ms < ? GROUP BY coin "
            "ORDER BY usd DESC LIMIT ?",
            (ALL_COINS, to_ms(since), to_ms(until), limit),
        )

    def stream_sessions(self, since: datetime) -> list[StreamConnection]:
        rows = self._rows(
            "SELECT * FROM stream_sessions WHERE disconnected_ms IS NULL OR disconnected_ms >= ? "
            "ORDER BY connected_ms, venue",
            (to_ms(since),),
        )
        return [
            StreamConnection(
                venue=r["venue"],
                connected_at=from_ms(r["connected_ms"]),
                disconnected_at=from_ms(r["disconnected_ms"]) if r["disconnected_ms"] is not None else None,
            )
            for r in rows
        ]

    def macro(self, series: Iterable[str], interval: str, since: datetime) -> list[MacroPoint]:
        keys = list(series)
        if not keys:
            return []
        marks = ",".join("?" * len(keys))
        rows = self._rows(
            f"SELECT * FROM macro WHERE series IN ({marks}) AND interval = ? AND ts_ms >= ? "  # noqa: S608
            "ORDER BY series, ts_ms",
            (*keys, interval, to_ms(since)),
        )
        return [MacroPoint.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"])) for r in rows]

    def global_latest(self) -> GlobalStats | None:
        rows = self._rows("SELECT * FROM global_stats ORDER BY ts_ms DESC LIMIT 1")
        return GlobalStats(**_without(rows[0], "ts_ms"), ts=from_ms(rows[0]["ts_ms"])) if rows else None

    def global_at(self, at: datetime) -> GlobalStats | None:
        """The global snapshot at or just before ``at`` (a window's start)."""
        rows = self._rows(
            "SELECT * FROM global_stats WHERE ts_ms <= ? ORDER BY ts_ms DESC LIMIT 1", (to_ms(at),)
        )
        return GlobalStats(**_without(rows[0], "ts_ms"), ts=from_ms(rows[0]["ts_ms"])) if rows else None

    def market_breadth(self) -> tuple[list[MarketEntry], datetime | None]:
        rows = self._rows("SELECT * FROM market_breadth ORDER BY market_cap DESC, cg_id")
        if not rows:
            return [], None
        entries = [
            MarketEntry(
                id=r["cg_id"],
                symbol=r["symbol"],
                change_24h_pct=r["change_24h_pct"],
                market_cap=r["market_cap"],
            )
            for r in rows
        ]
        return entries, from_ms(min(r["ts_ms"] for r in rows))


def _without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def _oi(r: dict[str, Any]) -> OpenInterest:
    return OpenInterest.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"]))


def _marks(values: Sequence[object]) -> str:
    return ",".join("?" * len(values))


def _chunks(values: list[T], size: int = 300) -> Iterator[list[T]]:
    """Bounded pieces, so a statement's parameters stay well under SQLite's limit."""
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _candle(r: dict[str, Any]) -> Candle:
    # Rows were validated on the way in; re-validating thousands per answer only costs time.
    return Candle.model_construct(**_without(r, "open_ms"), open_time=from_ms(r["open_ms"]))
