"""Window queries the services ask. Each reads only the rows its window needs (every table is
keyed coin-first, time-second), so an answer's cost does not grow with older history."""

from __future__ import annotations

import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.clock import from_ms, to_ms
from bot.models import (
    Candle,
    Funding,
    GlobalStats,
    LongShortRatio,
    MacroPoint,
    MarketEntry,
    OpenInterest,
    StreamSession,
)

# Where one coin's candles come from, best first: the deepest spot book, then perps.
CANDLE_PREFERENCE = (("binance", "spot"), ("binance", "perp"), ("bybit", "perp"), ("okx", "perp"))


class StoreReads:
    lock: threading.RLock

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
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

    def latest_candle_times(self, interval: str) -> dict[str, datetime]:
        """Newest stored bar per coin (any venue): decides backfill vs incremental fetches."""
        rows = self._rows(
            "SELECT coin, MAX(open_ms) AS last FROM candles WHERE interval = ? GROUP BY coin", (interval,)
        )
        return {r["coin"]: from_ms(r["last"]) for r in rows}

    def closes(
        self, coins: Iterable[str], interval: str, since: datetime
    ) -> dict[str, list[tuple[datetime, float]]]:
        """Close series for many coins at once (beta, breadth over short windows)."""
        out: dict[str, list[tuple[datetime, float]]] = {}
        for coin in coins:
            out[coin] = [(c.open_time, c.close) for c in self.candles(coin, interval, since)]
        return out

    def open_interest(self, coin: str, since: datetime) -> list[OpenInterest]:
        rows = self._rows(
            "SELECT * FROM open_interest WHERE coin = ? AND ts_ms >= ? ORDER BY ts_ms", (coin, to_ms(since))
        )
        return [OpenInterest.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"])) for r in rows]

    def funding(self, coin: str, since: datetime) -> list[Funding]:
        rows = self._rows(
            "SELECT * FROM funding WHERE coin = ? AND ts_ms >= ? ORDER BY ts_ms", (coin, to_ms(since))
        )
        return [Funding.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"])) for r in rows]

    def long_short(self, coin: str, since: datetime) -> list[LongShortRatio]:
        rows = self._rows(
            "SELECT * FROM long_short WHERE coin = ? AND ts_ms >= ? ORDER BY ts_ms", (coin, to_ms(since))
        )
        return [LongShortRatio.model_construct(**_without(r, "ts_ms"), ts=from_ms(r["ts_ms"])) for r in rows]

    def liq_minutes(self, coin: str | None, since: datetime, until: datetime) -> list[dict[str, Any]]:
        """Per-minute liquidation roll-ups (coin, minute, side, venue, usd, events, max_usd)."""
        if coin is None:
            return self._rows(
                "SELECT * FROM liq_minute WHERE minute_ms >= ? AND minute_ms < ? ORDER BY minute_ms",
                (to_ms(since), to_ms(until)),
            )
        return self._rows(
            "SELECT * FROM liq_minute WHERE coin = ? AND minute_ms >= ? AND minute_ms < ? ORDER BY minute_ms",
            (coin, to_ms(since), to_ms(until)),
        )

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
                "WHERE coin = ? AND hour_ms >= ? AND hour_ms < ? ORDER BY hour_ms",
                (coin or "*", lo, hi),
            )
        if coin is None:
            return self._rows(
                "SELECT '*' AS coin, minute_ms AS minute, side, venue, SUM(usd) AS usd, SUM(events) AS events, "
                "MAX(max_usd) AS max_usd FROM liq_minute WHERE minute_ms >= ? AND minute_ms < ? "
                "GROUP BY minute_ms, side, venue ORDER BY minute_ms",
                (lo, hi),
            )
        return self._rows(
            "SELECT coin, minute_ms AS minute, side, venue, usd, events, max_usd FROM liq_minute "
            "WHERE coin = ? AND minute_ms >= ? AND minute_ms < ? ORDER BY minute_ms",
            (coin, lo, hi),
        )

    def top_liquidated(self, since: datetime, until: datetime, limit: int = 5) -> list[dict[str, Any]]:
        """Coins with the most liquidations in a window (for the market-wide answer)."""
        return self._rows(
            "SELECT coin, SUM(usd) AS usd, SUM(CASE WHEN side = 'long' THEN usd ELSE 0 END) AS long_usd "
            "FROM liq_hour WHERE coin != '*' AND hour_ms >= ? AND hour_ms < ? GROUP BY coin "
            "ORDER BY usd DESC LIMIT ?",
            (to_ms(since), to_ms(until), limit),
        )

    def stream_sessions(self, since: datetime) -> list[StreamSession]:
        rows = self._rows(
            "SELECT * FROM stream_sessions WHERE disconnected_ms IS NULL OR disconnected_ms >= ? "
            "ORDER BY connected_ms",
            (to_ms(since),),
        )
        return [
            StreamSession(
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

    def market_breadth(self) -> tuple[list[MarketEntry], datetime | None]:
        rows = self._rows("SELECT * FROM market_breadth ORDER BY market_cap DESC")
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


def _candle(r: dict[str, Any]) -> Candle:
    # Rows were validated on the way in; re-validating thousands per answer only costs time.
    return Candle.model_construct(**_without(r, "open_ms"), open_time=from_ms(r["open_ms"]))
