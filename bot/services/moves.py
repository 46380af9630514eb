"""One move, one number: a coin's % move over a window, computed one way for every caller.

An alert's title, the Why line under it and /why all call :func:`coin_move` with the same best
ticker, so they state the same figure (issue 11: an alert titled "BTC −22.8% in 1h" carried the
Why line "BTC 0.0% in 1h" because the engine read its bars from a different venue than /why).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.models import Candle, Ticker
from bot.store import Store

HOUR = timedelta(hours=1)
SPANS: dict[str, timedelta] = {
    "1h": HOUR,
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}


def _bar(interval: str) -> timedelta:
    return timedelta(days=1) if interval == "1d" else HOUR


def coin_move(
    store: Store, ticker: Ticker, window: str, now: datetime, *, bars: Sequence[Candle] | None = None
) -> float | None:
    """The ticker's 24h (and 7d) change where the venue gives it; else the ticker's price
    against the open of the hourly (daily, for 7d) bar containing the window's start, from the
    preferred venue with bars around that start. ``None`` when no such bar is stored. ``bars``:
    those bars when the caller read them already (the market answer reads every coin's in one
    query)."""
    if window == "24h" and ticker.change_24h_pct is not None:
        return ticker.change_24h_pct
    if window == "7d" and ticker.change_7d_pct is not None:
        return ticker.change_7d_pct
    interval = "1d" if window == "7d" else "1h"
    start = now - SPANS[window]
    if bars is None:
        bars = store.candles(ticker.coin, interval, start - _bar(interval), now)
    base = next((b for b in bars if b.open_time <= start < b.open_time + _bar(interval)), None)
    if base is None:
        return None
    return (ticker.price / base.open - 1) * 100
