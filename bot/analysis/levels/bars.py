"""Candles as numpy columns, and what is measured on them alone: the ATR and the swing points
(fractals) weighted by timeframe, recency and relative volume."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from bot.analysis.levels.config import LevelsConfig
from bot.columns import CandleColumns
from bot.models import Candle

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_DAY = 86400.0


@dataclass(frozen=True)
class _Bars:
    t: F64  # open time, epoch seconds
    high: F64
    low: F64
    close: F64
    volume: F64  # quote volume (USD-ish), so volume at price weighs dollars
    step: float  # seconds per bar

    def __len__(self) -> int:
        return int(self.t.size)


def _bars(candles: Sequence[Candle] | CandleColumns, now: datetime, step: float) -> _Bars:
    """Sort by time, drop duplicates (last wins) and bars opened after ``now``."""
    if isinstance(candles, CandleColumns):  # already sorted and unique
        b = candles.between(None, now)
        volume = np.where(np.isnan(b.quote_volume), b.volume * b.close, b.quote_volume)
        return _Bars(t=b.t, high=b.high, low=b.low, close=b.close, volume=volume, step=step)
    latest = {c.open_time: c for c in candles if c.open_time <= now}
    rows = [latest[k] for k in sorted(latest)]
    return _Bars(
        t=np.array([c.open_time.timestamp() for c in rows], dtype=np.float64),
        high=np.array([c.high for c in rows], dtype=np.float64),
        low=np.array([c.low for c in rows], dtype=np.float64),
        close=np.array([c.close for c in rows], dtype=np.float64),
        volume=np.array(
            [c.quote_volume if c.quote_volume is not None else c.volume * c.close for c in rows],
            dtype=np.float64,
        ),
        step=step,
    )


def _venues(candles: Sequence[Candle] | CandleColumns, now: datetime) -> set[str]:
    """The venues of the bars opened by ``now``."""
    if isinstance(candles, CandleColumns):
        return {candles.venue} if len(candles.between(None, now)) else set()
    return {c.venue for c in candles if c.open_time <= now}


def _atr(b: _Bars, period: int) -> float | None:
    if len(b) < period + 1:
        return None
    h, lo, c = b.high[-period:], b.low[-period:], b.close[-period - 1 : -1]
    tr = np.maximum(h - lo, np.maximum(np.abs(h - c), np.abs(lo - c)))
    value = float(tr.mean())
    return value if value > 0 else None


def _fractals(values: F64, width: int, highs: bool) -> I64:
    """Indices of bars whose value beats the ``width`` bars before it and matches or beats the
    ``width`` after it (strict on one side so a flat top yields one point, not several)."""
    if width < 1 or values.size < 2 * width + 1:
        return np.empty(0, dtype=np.int64)
    win = sliding_window_view(values, 2 * width + 1)
    centre = win[:, width]
    if highs:
        mask = (centre > win[:, :width].max(axis=1)) & (centre >= win[:, width + 1 :].max(axis=1))
    else:
        mask = (centre < win[:, :width].min(axis=1)) & (centre <= win[:, width + 1 :].min(axis=1))
    return (np.nonzero(mask)[0] + width).astype(np.int64)


def _swing_points(
    b: _Bars, width: int, weight: float, halflife_days: float, now_s: float, cfg: LevelsConfig
) -> tuple[F64, F64, F64]:
    """Swing prices, their times and their weights (timeframe × recency × relative volume)."""
    hi = _fractals(b.high, width, highs=True)
    lo = _fractals(b.low, width, highs=False)
    idx = np.concatenate([hi, lo])
    prices = np.concatenate([b.high[hi], b.low[lo]])
    times = b.t[idx]
    med = float(np.median(b.volume)) if len(b) else 0.0
    rel = b.volume[idx] / med if med > 0 else np.ones(idx.size)
    rel = np.clip(rel, *cfg.volume_clip)
    age_days = np.maximum(now_s - times, 0.0) / _DAY
    weights = weight * np.power(0.5, age_days / halflife_days) * rel
    return prices, times, weights


def _daily_atr(d: _Bars | None, h: _Bars | None, cfg: LevelsConfig) -> float | None:
    """The daily ATR, from daily bars or else scaled up from hourly ones (√24)."""
    atr = _atr(d, cfg.atr_period) if d is not None else None
    if atr is None and h is not None:
        atr_h = _atr(h, cfg.atr_period)
        atr = atr_h * math.sqrt(24.0) if atr_h is not None else None
    return atr


def _to_dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)
