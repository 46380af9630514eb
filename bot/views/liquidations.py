"""What /liquidations shows: the windows' findings, coverage, the top coins and the week's chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

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
    hourly: tuple[LiqMinute, ...]  # the chart's span in minute or hourly buckets (CHART_FRAMES)
    candles: tuple[Candle, ...]  # the coin's (or BTC's) bars over the same span
    now: datetime
    ticker: Ticker | None = None  # the latest price of the charted coin: the chart runs to now
    window: str | None = None  # the one window asked, or None for the default several
    window_span: timedelta | None = None  # that window's length, shaded on the chart
    chart_span: timedelta = timedelta(days=7)
    chart_bucket: timedelta = timedelta(hours=1)  # the liquidation bars' width
