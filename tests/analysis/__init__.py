"""Helpers shared by the analysis tests: candles from close paths, exact times."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np

from bot.models import Candle, Interval

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def candles_from_closes(
    closes: Sequence[float],
    *,
    end: datetime = NOW,
    step: timedelta = DAY,
    interval: Interval = "1d",
    coin: str = "BTC",
    wick: float = 0.002,
    volume: float | Sequence[float] = 1000.0,
    venue: str = "binance",
) -> list[Candle]:
    """Bars whose closes follow ``closes``; each opens at the previous close and wicks ``wick``
    beyond its body, so a turning point of the path is a clean fractal. The last bar opens at
    ``end - step``."""
    vols = [float(volume)] * len(closes) if isinstance(volume, int | float) else list(volume)
    start = end - step * len(closes)
    out = []
    prev = closes[0] if closes else 0.0
    for i, c in enumerate(closes):
        o = prev
        out.append(
            Candle(
                coin=coin,
                venue=venue,
                market="spot",
                interval=interval,
                open_time=start + step * i,
                open=o,
                high=max(o, c) * (1 + wick),
                low=min(o, c) * (1 - wick),
                close=c,
                volume=vols[i],
            )
        )
        prev = c
    return out


def zigzag(pivots: Sequence[float], legs: int) -> list[float]:
    """A path through ``pivots`` in straight legs of ``legs`` bars each."""
    path: list[float] = [pivots[0]]
    for a, b in pairwise(pivots):
        path.extend(np.linspace(a, b, legs + 1)[1:].tolist())
    return path


def random_walk(n: int, start: float, vol: float, seed: int, drift: float = 0.0) -> list[float]:
    rng = np.random.default_rng(seed)
    path: list[float] = (start * np.exp(np.cumsum(rng.normal(drift, vol, n)))).tolist()
    return path
