"""A fresh store as `collect --once` leaves it on day one, built piece by piece for the /why
scenario tests: tickers with market caps, CoinGecko's global figures, 31 days of hourly bars
(for β), daily-backfilled open interest, macro closes and long/short ratios — each only when a
test asks for it, so every answer can be checked against exactly the history it had."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from bot.analysis.why import WhyAnswer, explain
from bot.models import Candle, GlobalStats, LongShortRatio, MacroPoint, OpenInterest, Ticker
from bot.render.why import why_embed
from bot.services.why import gather
from bot.store import Store

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
TRACKED: tuple[str, ...] = (
    "BTC", "ETH", "SOL", "BNB", "XRP", "DOGE", "ADA", "TRX", "AVAX", "LINK",
    "DOT", "LTC", "BCH", "UNI", "ATOM", "NEAR", "APT", "ARB", "OP", "SUI",
)  # fmt: skip
CAPS: dict[str, float] = {
    "BTC": 1.7e12, "ETH": 4.0e11, "XRP": 1.2e11, "BNB": 9.0e10, "SOL": 8.0e10,
    "DOGE": 2.5e10, "ADA": 2.0e10, "TRX": 2.0e10, "LINK": 1.0e10, "AVAX": 1.0e10,
    "DOT": 8e9, "LTC": 7e9, "BCH": 8e9, "UNI": 5e9, "ATOM": 3e9, "NEAR": 5e9,
    "APT": 4e9, "ARB": 3e9, "OP": 2e9, "SUI": 9e9,
}  # fmt: skip
PRICES: dict[str, float] = {"BTC": 87000.0, "ETH": 3000.0, "SOL": 180.0, "BNB": 600.0, "XRP": 2.0}


@dataclass
class DayOne:
    store: Store
    now: datetime

    def tickers(self, moves: Mapping[str, float], *, caps: Mapping[str, float] = CAPS) -> None:
        """An exchange ticker per coin (no market cap, as Binance's) and CoinGecko's (with one)."""
        ts = self.now - timedelta(seconds=30)
        rows = []
        for coin, move in moves.items():
            price = PRICES.get(coin, 10.0)
            rows.append(
                Ticker(coin=coin, venue="binance", market="spot", price=price, change_24h_pct=move, ts=ts)
            )
            rows.append(
                Ticker(
                    coin=coin,
                    venue="coingecko",
                    market="spot",
                    price=price,
                    change_24h_pct=move,
                    market_cap=caps.get(coin),
                    ts=ts,
                )
            )
        self.store.upsert_tickers(rows, ts)

    def global_stats(self, total: float, change_24h_pct: float) -> None:
        self.store.upsert_global(
            [
                GlobalStats(
                    ts=self.now - timedelta(minutes=2),
                    source="coingecko",
                    total_market_cap_usd=total,
                    market_cap_change_24h_pct=change_24h_pct,
                )
            ]
        )

    def hourly(self, coin: str, closes: Sequence[float]) -> None:
        """Hourly spot bars whose last one closes an hour before now (31 days for β)."""
        start = self.now.replace(minute=0, second=0, microsecond=0) - HOUR * len(closes)
        bars, prev = [], closes[0]
        for k, c in enumerate(closes):
            bars.append(
                Candle(
                    coin=coin,
                    venue="binance",
                    market="spot",
                    interval="1h",
                    open_time=start + HOUR * k,
                    open=prev,
                    high=max(prev, c) * 1.001,
                    low=min(prev, c) * 0.999,
                    close=c,
                    volume=100.0,
                )
            )
            prev = c
        self.store.upsert_candles(bars)

    def open_interest(self, coin: str, level: float, change_24h_pct: float, change_30d_pct: float) -> None:
        """Daily points at 00:00 for 31 days, hourly for 48 h, one live point: the backfill."""
        today = self.now.replace(hour=0, minute=0, second=0, microsecond=0)
        stamps = {today - DAY * k for k in range(31)}
        stamps |= {self.now.replace(minute=0, second=0, microsecond=0) - HOUR * k for k in range(48)}
        stamps.add(self.now - timedelta(minutes=1))

        def value(t: datetime) -> float:
            age = (self.now - t) / DAY
            if age <= 1:
                return level * (1 + change_24h_pct / 100) ** (-age)
            day_level = level / (1 + change_24h_pct / 100)
            month_level = level / (1 + change_30d_pct / 100)
            return day_level * (month_level / day_level) ** ((age - 1) / 29)

        self.store.upsert_open_interest(
            OpenInterest(coin=coin, venue=v, ts=t, oi_usd=value(t))  # type: ignore[arg-type]
            for v in ("binance", "bybit", "okx")
            for t in stamps
            if t <= self.now
        )

    def macro(self, series: str, interval: str, bars: Iterable[tuple[datetime, float]]) -> None:
        self.store.upsert_macro(
            MacroPoint(series=series, symbol=series, source="yahoo", interval=interval, ts=t, close=c)  # type: ignore[arg-type]
            for t, c in bars
        )

    def long_short(self, coin: str, venue: str, points: Iterable[tuple[datetime, float]]) -> None:
        self.store.upsert_long_short(
            LongShortRatio(coin=coin, venue=venue, ts=t, long_share=s)  # type: ignore[arg-type]
            for t, s in points
        )


def walk(n: int, start: float, vol: float, seed: int) -> list[float]:
    rng = np.random.default_rng(seed)
    return (start * np.exp(np.cumsum(rng.normal(0, vol, n)))).tolist()  # type: ignore[no-any-return]


def answer(store: Store, now: datetime, coin: str | None = None, window: str = "24h") -> WhyAnswer:
    inputs = gather(
        store, tracked=TRACKED, coin=coin, window=window, now=now, stale_after=timedelta(minutes=5)
    )
    return explain(inputs)


def text(a: WhyAnswer) -> str:
    e: dict[str, Any] = why_embed(a).to_dict()
    parts = [e.get("title", "")] + [f["name"] + "\n" + f["value"] for f in e.get("fields", [])]
    return "\n".join(parts)


def at(day: str, clock: str) -> datetime:
    """``at("2026-11-27", "17:41")`` in UTC."""
    return datetime.fromisoformat(f"{day}T{clock}:00").replace(tzinfo=UTC)


def log_move(pct: float) -> float:
    return math.log1p(pct / 100)
