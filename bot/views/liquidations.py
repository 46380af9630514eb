"""What /liquidations shows: the windows' findings, coverage, the top coins and the week's chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.analysis.coverage import Coverage
from bot.analysis.findings import LiquidationFinding
from bot.analysis.liquidations import LiqMinute
from bot.models import Candle, Ticker


@dataclass(frozen=True)
class LiquidationsView:
    coin: str | None
    windows: tuple[LiquidationFinding, ...]
    coverage: Coverage
    top_coins: tuple[tuple[str, float, float], ...]  # (coin, total usd, long usd) in the longest window
    hourly: tuple[LiqMinute, ...]  # the last 7 days in hourly buckets, for the chart
    candles: tuple[Candle, ...]  # the coin's (or BTC's) hourly bars over the same week
    now: datetime
    ticker: Ticker | None = None  # the latest price of the charted coin: the chart runs to now
