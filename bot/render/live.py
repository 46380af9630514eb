"""Charts that run to now: the hour in progress drawn from the latest price.

Stored hourly candles end at the last bar the venue closed (or the partial one the collector
last fetched), so a chart drawn from them alone stops before the hour everyone asks about. The
live bar is the in-progress hour with the latest ticker as its close, built here from data the
answer already holds, so the chart and the text beside it read the same price.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.models import Candle

HOUR = timedelta(hours=1)


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def with_live_bar(candles: Sequence[Candle], price: float | None, at: datetime | None) -> list[Candle]:
    """``candles`` (hourly, oldest first) with the hour containing ``at`` closing at ``price``:
    a stored partial bar for that hour is extended to the price, a missing one is opened at the
    last close. Unchanged when the price is unknown or older than the last bar."""
    bars = list(candles)
    if not bars or price is None or at is None or bars[-1].interval != "1h":
        return bars
    hour = _floor_hour(at)
    last = bars[-1]
    if last.open_time > hour:
        return bars
    if last.open_time == hour:
        bars[-1] = last.model_copy(
            update={"close": price, "high": max(last.high, price), "low": min(last.low, price)}
        )
        return bars
    live = last.model_copy(
        update={
            "open_time": hour,
            "open": last.close,
            "close": price,
            "high": max(last.close, price),
            "low": min(last.close, price),
            "volume": 0.0,
            "quote_volume": None,
            "taker_buy_quote": None,
        }
    )
    return [*bars, live]


def live_from(candles: Sequence[Candle], at: datetime | None) -> datetime | None:
    """The open time of the in-progress bar when the last candle is one (for the chart to mark)."""
    if not candles or at is None:
        return None
    last = candles[-1].open_time
    return last if last <= at < last + HOUR else None
