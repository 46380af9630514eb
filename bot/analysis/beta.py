"""Beta to BTC: how much of a coin's move BTC explains, and what is left (its own story).

OLS of the coin's hourly log returns on BTC's over ``window_days`` (≥ 30 days, so a week of
news does not set β). Bars are aligned on open time; a return runs between consecutive
timestamps both series have, so both sides of a pair always span the same hours (a bar missing
on either side merges two hours into one return, up to ``max_gap``; wider gaps are skipped,
not bridged). Too few observations give a result flagged ``insufficient`` with no numbers,
never a guessed β.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np

from bot.analysis.findings import BetaResult, Caveat, window_label
from bot.columns import CandleColumns
from bot.models import Candle


@dataclass(frozen=True)
class BetaConfig:
    window_days: float = 30.0
    min_obs: int = 540  # three quarters of 30 days of hourly returns
    bar: timedelta = field(default=timedelta(hours=1))
    max_gap: timedelta = field(default=timedelta(hours=3))  # longest span one return may cover
    move_tolerance: timedelta = field(default=timedelta(hours=1))  # slack on the move's start bar


def _closes(bars: Sequence[Candle] | CandleColumns, now: datetime, since: datetime) -> dict[float, float]:
    if isinstance(bars, CandleColumns):
        b = bars.between(since, now)
        return dict(zip(b.t.tolist(), b.close.tolist(), strict=True))
    return {c.open_time.timestamp(): c.close for c in bars if since <= c.open_time <= now}


def _venues(bars: Sequence[Candle] | CandleColumns) -> set[str]:
    if isinstance(bars, CandleColumns):
        return {bars.venue} if len(bars) else set()
    return {c.venue for c in bars}


def beta_to_btc(
    coin: str,
    coin_bars: Sequence[Candle] | CandleColumns,
    btc_bars: Sequence[Candle] | CandleColumns,
    *,
    now: datetime,
    move_window: timedelta = timedelta(hours=24),
    coin_move_pct: float | None = None,
    btc_move_pct: float | None = None,
    config: BetaConfig = BetaConfig(),
) -> BetaResult:
    """β, R² and the expected-vs-residual split of the coin's move over ``move_window``.

    ``coin_bars`` and ``btc_bars`` are hourly candles (any venue; aligned here on open time),
    as models or as columns (:class:`CandleColumns`, read without a model per bar).
    The moves are measured from the aligned closes unless ``coin_move_pct``/``btc_move_pct``
    are given (e.g. the tickers' 24h changes, so every line of an answer quotes one number).
    The expected move is β applied to BTC's *log* move (the regression's scale), turned back
    into percent; the intercept is left out, as drift over hours is noise.
    """
    cfg = config
    step = cfg.bar.total_seconds()
    since = now - timedelta(days=cfg.window_days) - cfg.bar
    y_map = _closes(coin_bars, now, since)
    x_map = _closes(btc_bars, now, since)
    common = np.array(sorted(y_map.keys() & x_map.keys()), dtype=np.float64)
    sources = tuple(sorted(_venues(coin_bars) | _venues(btc_bars)))
    as_of = datetime.fromtimestamp(float(common[-1]) + step, tz=UTC) if common.size else None
    label = window_label(move_window)
    base = BetaResult(
        coin=coin,
        window_days=cfg.window_days,
        move_window=label,
        as_of=min(as_of, now) if as_of else None,
        sources=sources,
    )

    y_close = np.array([y_map[t] for t in common.tolist()], dtype=np.float64)
    x_close = np.array([x_map[t] for t in common.tolist()], dtype=np.float64)
    consecutive = np.diff(common) <= cfg.max_gap.total_seconds()
    y = np.diff(np.log(y_close))[consecutive]
    x = np.diff(np.log(x_close))[consecutive]
    n = int(x.size)
    if n < cfg.min_obs:
        return base.model_copy(
            update={
                "n_obs": n,
                "insufficient": Caveat(code="few_returns", count=n, days=cfg.window_days, need=cfg.min_obs),
            }
        )
    dx, dy = x - x.mean(), y - y.mean()
    sxx, syy = float(dx @ dx), float(dy @ dy)
    if sxx <= 0 or syy <= 0:
        which = "BTC" if sxx <= 0 else coin
        return base.model_copy(
            update={"n_obs": n, "insufficient": Caveat(code="did_not_move", coin=which, days=cfg.window_days)}
        )
    beta = float(dx @ dy) / sxx
    resid = dy - beta * dx
    ss_res = float(resid @ resid)
    r2 = min(1.0, max(0.0, 1.0 - ss_res / syy))
    se = math.sqrt(ss_res / (n - 2) / sxx)

    notes: list[Caveat] = []
    update: dict[str, object] = {"beta": beta, "beta_se": se, "r2": r2, "n_obs": n}
    coin_move, btc_move = coin_move_pct, btc_move_pct
    if coin_move is None or btc_move is None:
        end = float(common[-1])
        target = end - move_window.total_seconds()
        tol = cfg.move_tolerance.total_seconds()
        at_or_before = common[(common <= target) & (common >= target - tol)]
        if at_or_before.size:
            start = float(at_or_before[-1])
            i0, i1 = int(np.searchsorted(common, start)), common.size - 1
            update["move_start"] = datetime.fromtimestamp(start + step, tz=UTC)
            update["move_end"] = datetime.fromtimestamp(end + step, tz=UTC)
            if coin_move is None:
                coin_move = (y_close[i1] / y_close[i0] - 1.0) * 100.0
            if btc_move is None:
                btc_move = (x_close[i1] / x_close[i0] - 1.0) * 100.0
        else:
            notes.append(Caveat(code="no_move_window", window=label))
    if btc_move is not None and btc_move <= -100.0:
        notes.append(Caveat(code="unscalable_move", pct=btc_move))
        btc_move = None
    if coin_move is not None and btc_move is not None:
        expected = math.expm1(beta * math.log1p(btc_move / 100.0)) * 100.0
        update |= {
            "coin_move_pct": coin_move,
            "btc_move_pct": btc_move,
            "expected_move_pct": expected,
            "residual_pct": coin_move - expected,
        }
    if r2 < 0.2:
        notes.append(Caveat(code="weak_r2", r2=r2, coin=coin))
    update["notes"] = tuple(notes)
    return BetaResult.model_validate({**base.model_dump(), **update})
