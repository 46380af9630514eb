"""What /levels shows: the zones around the price and the week's chart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.analysis.findings import LevelsResult
from bot.analysis.liquidations import LiqMinute
from bot.models import Candle, Ticker


@dataclass(frozen=True)
class LevelsView:
    coin: str
    name: str
    ticker: Ticker
    levels: LevelsResult
    hourly: tuple[Candle, ...]  # the chart's week of bars
    liquidations: tuple[LiqMinute, ...]  # hourly buckets over the same week
    now: datetime
