"""Support and resistance: where the market turned before, scored by how much it mattered.

Swing highs and lows (fractals) on daily and hourly bars are clustered into price zones with a
tolerance scaled by the daily ATR, so a zone is "the same level" in volatility terms on any coin.
A zone's score adds up its touches, each weighted by timeframe, recency and the bar's relative
volume; the 50- and 200-day averages, round numbers and high volume at price add weight where
they fall inside the zone. ``strength = 1 - exp(-score / strength_scale)`` maps that onto 0..1.

A zone's role comes from where it sits against the current price, not from whether it was built
from highs or lows (a broken support becomes resistance): entirely below is support, entirely
above is resistance, and a zone containing the price is reported as ``at_price`` — the price is
testing it, and calling it either would be wrong until it resolves. A zone the price closed
through within ``broken_lookback`` is reported in ``broken`` ("lost support at X, now resistance").
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime

import numpy as np

from bot.analysis.findings import Caveat, LevelsResult
from bot.analysis.levels.bars import _DAY, F64, _bars, _daily_atr, _swing_points, _to_dt, _venues
from bot.analysis.levels.cluster import _cluster
from bot.analysis.levels.config import LevelsConfig
from bot.analysis.levels.zones import _add_confluence, _sides, _with_breaks
from bot.columns import CandleColumns
from bot.models import Candle

__all__ = ["LevelsConfig", "find_levels"]


def find_levels(
    coin: str,
    price: float,
    daily: Sequence[Candle] | CandleColumns,
    hourly: Sequence[Candle] | CandleColumns,
    *,
    now: datetime,
    config: LevelsConfig = LevelsConfig(),
) -> LevelsResult:
    """Support and resistance zones around ``price`` from daily and hourly candles of one venue
    and market (models, or columns read without a model per bar). Bars opened after ``now`` are
    ignored; see the module docstring for the method."""
    cfg = config
    if not (math.isfinite(price) and price > 0):
        raise ValueError(f"price must be positive and finite, got {price!r}")
    d = _bars(daily, now, _DAY)
    h = _bars(hourly, now, 3600.0)
    now_s = now.timestamp()
    sources = tuple(sorted(_venues(daily, now) | _venues(hourly, now)))
    closes_at = [float(b.t[-1]) + b.step for b in (d, h) if len(b)]
    as_of = _to_dt(min(now_s, max(closes_at))) if closes_at else None

    def result(**kw: object) -> LevelsResult:
        return LevelsResult.model_validate(
            {"coin": coin, "price": price, "as_of": as_of, "sources": sources, **kw}
        )

    use_d, use_h = len(d) >= cfg.min_daily_bars, len(h) >= cfg.min_hourly_bars
    if not (use_d or use_h):
        return result(
            insufficient=Caveat(
                code="few_bars",
                count=len(d),
                hourly=len(h),
                need=cfg.min_daily_bars,
                need_hourly=cfg.min_hourly_bars,
            ),
        )
    notes: list[Caveat] = []
    if not use_d:
        notes.append(Caveat(code="hourly_only", count=len(d)))
    if not use_h:
        notes.append(Caveat(code="daily_only", hourly=len(h)))

    atr = _daily_atr(d if use_d else None, h if use_h else None, cfg)
    if atr is None:
        return result(notes=tuple(notes), insufficient=Caveat(code="no_atr"))

    parts: list[tuple[F64, F64, F64, bool]] = []
    if use_d:
        parts.append(
            (*_swing_points(d, cfg.fractal_width_1d, cfg.weight_1d, cfg.halflife_1d_days, now_s, cfg), True)
        )
    if use_h:
        parts.append(
            (*_swing_points(h, cfg.fractal_width_1h, cfg.weight_1h, cfg.halflife_1h_days, now_s, cfg), False)
        )
    prices = np.concatenate([p[0] for p in parts])
    ma50 = float(d.close[-50:].mean()) if len(d) >= 50 else None
    ma200 = float(d.close[-200:].mean()) if len(d) >= 200 else None
    if ma200 is None and use_d:
        notes.append(Caveat(code="no_ma200", count=len(d)))
    if prices.size == 0:
        notes.append(Caveat(code="no_swings"))
        return result(notes=tuple(notes), ma50=ma50, ma200=ma200, atr_1d=atr)
    times = np.concatenate([p[1] for p in parts])
    weights = np.concatenate([p[2] for p in parts])
    is_daily = np.concatenate([np.full(p[0].size, p[3]) for p in parts])
    # Only swings that can make a reportable zone matter; this also bounds the density grid.
    near = np.abs(prices - price) <= price * cfg.max_distance_pct / 100.0 + cfg.max_zone_atr * atr
    if not near.any():
        notes.append(Caveat(code="no_swings_near", pct=cfg.max_distance_pct))
        return result(notes=tuple(notes), ma50=ma50, ma200=ma200, atr_1d=atr)
    prices, times, weights, is_daily = prices[near], times[near], weights[near], is_daily[near]

    zones = _cluster(
        prices,
        times,
        weights,
        is_daily,
        cfg.cluster_atr * atr,
        cfg.max_zone_atr * atr,
        cfg.min_zone_atr * atr,
    )
    lows = np.array([z.low for z in zones])
    highs = np.array([z.high for z in zones])

    # Confluence: volume at price, moving averages and round numbers inside the zone.
    _add_confluence(zones, lows, highs, d if use_d else h, (ma50, ma200), price, atr, cfg)

    # Role against the price, filters, and broken levels.
    recent = h if use_h else d
    keep = recent.t >= now_s - cfg.broken_lookback.total_seconds()
    supports, resistances, at_price = _sides(zones, price, cfg)
    out, broken = _with_breaks(
        (supports[: cfg.max_per_side], resistances[: cfg.max_per_side]),
        recent.t[keep],
        recent.close[keep],
        price,
        now,
        cfg,
    )

    sup, res = out["support"], out["resistance"]
    if not sup and not res and at_price is None:
        # say why the answer is empty rather than return nothing
        notes.append(Caveat(code="no_zone_near", pct=cfg.max_distance_pct))
    return result(
        notes=tuple(notes),
        supports=tuple(sup),
        resistances=tuple(res),
        at_price=at_price,
        broken=tuple(broken),
        nearest_support=sup[0] if sup else None,
        nearest_resistance=res[0] if res else None,
        next_below=sup[1] if len(sup) > 1 else None,
        next_above=res[1] if len(res) > 1 else None,
        ma50=ma50,
        ma200=ma200,
        atr_1d=atr,
    )
