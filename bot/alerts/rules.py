"""Alert rules: pure functions from one coin's recent market state to an :class:`Observation`.

Every rule turns its evidence into a ``score``: the value over its threshold, so ``score > 1``
means "past the threshold" whatever the rule, and the engine's hysteresis (re-arm only once
the score is back below ``1 - hysteresis``) works the same way for all of them.

- **Large move**: ``|change|`` over 1h or 24h against a fixed threshold, or against ``k`` standard
  deviations of the coin's own moves over the same horizon (30 days of hourly bars), whichever
  is further past its bar. The σ test only counts for moves of at least ``sigma_min_move_pct``.
- **Liquidation spike**: liquidations in a short window against both the coin's own baseline
  rate (``liq_multiple`` × its average for a window that long) and an absolute floor, so a quiet
  coin does not alert on a few thousand dollars.
- **Level break**: the latest 1h bar *closes* beyond a support/resistance zone by a buffer,
  having closed on the other side of its edge the bar before. A wick through the zone that
  closes back inside is not a break.
- **Open-interest flush**: open interest falls by more than x% in 1h or 24h.
- **Funding extreme**: the mean funding across venues (per 8h) beyond a band either side of 0.

The inputs (:class:`CoinInputs`) come from :func:`inputs_at`, which reads a :class:`CoinSeries`
at any time ``t``: the live engine and the backtest call the same code, so a replay says what
the live bot would have sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Literal

from bot.alerts.config import RULES, AlertConfig, RuleName
from bot.alerts.inputs import CoinInputs
from bot.alerts.messages import AlertDirection, Basis, Observation
from bot.analysis.findings import LevelZone, LiqBasis
from bot.analysis.liq_basis import size


def _window_label(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def large_move(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    candidates: list[tuple[float, str, float, float, Basis, float | None]] = []
    for window, change, limit, sigma in (
        ("1h", i.change_1h_pct, cfg.move_1h_pct, i.sigma_1h_pct),
        ("24h", i.change_24h_pct, cfg.move_24h_pct, i.sigma_24h_pct),
    ):
        if change is None:
            continue
        candidates.append((abs(change) / limit, window, change, limit, "threshold", None))
        if sigma is not None and abs(change) >= cfg.sigma_min_move_pct:
            bar = cfg.sigma_k * sigma
            candidates.append((abs(change) / bar, window, change, bar, "sigma", sigma))
    if not candidates:
        return None
    score, window, change, limit, basis, sigma = max(candidates, key=lambda c: c[0])
    return Observation(
        rule="move",
        coin=i.coin,
        at=i.now,
        score=score,
        direction="up" if change > 0 else "down",
        window=window,
        value=change,
        threshold=limit,
        basis=basis,
        sigma=sigma,
        price=i.price,
    )


def liquidation_spike(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    """Past ``liq_multiple`` × the coin's 7-day average once the streams cover those days;
    before that past the open-interest band for the window, or without open interest the 24h
    volume band (:mod:`bot.analysis.liq_basis`), so a cascade on a fresh install alerts. Always
    at least the floor."""
    if i.liq_usd is None:
        return None
    usd = i.liq_usd
    bands = cfg.liq_bands
    if bands.own_min_days > cfg.liq_baseline_days:
        bands = bands.model_copy(update={"own_min_days": cfg.liq_baseline_days})
    measured = size(
        usd,
        i.liq_window,
        own_basis="own_7d",
        baseline_usd=i.liq_baseline_usd,
        baseline_days=i.liq_baseline_days,
        oi_usd=i.liq_oi_usd,
        volume_usd=i.liq_volume_usd,
        bands=bands,
        own_multiple=cfg.liq_multiple,
    )
    if measured is None and i.liq_baseline_usd is None:
        return None
    basis: LiqBasis = "own_7d" if measured is None else measured.basis
    own = basis in ("own_7d", "own_30d")
    by_basis = 0.0  # a zero own baseline with nothing else to compare: the floor alone
    if measured is not None:
        by_basis = measured.bar * measured.reference_usd / (1.0 if own else 100.0)
    limit = max(by_basis, cfg.liq_floor_usd)
    score = usd / limit if limit > 0 else (1e6 if usd > 0 else 0.0)
    long_share = (i.liq_long_usd or 0.0) / usd if usd > 0 else None
    return Observation(
        rule="liquidations",
        coin=i.coin,
        at=i.now,
        score=min(score, 1e6),
        direction="down" if long_share is None or long_share >= 0.5 else "up",
        window=_window_label(i.liq_window),
        value=usd,
        threshold=limit,
        basis="baseline" if by_basis >= cfg.liq_floor_usd else "floor",
        baseline_usd=i.liq_baseline_usd if own else None,
        baseline_days=i.liq_baseline_days if own else None,
        liq_basis=basis,
        basis_ratio=measured.ratio if measured is not None else None,
        basis_bar=measured.bar if measured is not None else None,
        own_needed_days=bands.own_min_days,
        oi_usd=i.liq_oi_usd,
        long_share=long_share,
        price=i.price,
    )


def level_break(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    """The latest closed bar against the zones: a break needs the previous close on the near
    side of the zone's far edge and this close beyond it by ``level_buffer_pct``. Without a
    break the score is 0 (so the state re-arms)."""
    if i.last_close is None or i.prev_close is None or i.bar_time is None:
        return None
    close, prev = i.last_close, i.prev_close
    best: tuple[float, LevelZone, Literal["support", "resistance"], AlertDirection] | None = None
    for z in i.zones:
        if z.strength < cfg.level_min_strength:
            continue
        cand: tuple[float, LevelZone, Literal["support", "resistance"], AlertDirection]
        if prev >= z.low and close < z.low:  # down through the bottom edge: support lost
            cand = ((z.low - close) / z.low * 100, z, "support", "down")
        elif prev <= z.high and close > z.high:  # up through the top edge: resistance broken
            cand = ((close - z.high) / z.high * 100, z, "resistance", "up")
        else:
            continue
        if best is None or cand[0] > best[0]:
            best = cand
    if best is None:
        return Observation(
            rule="level",
            coin=i.coin,
            at=i.now,
            score=0.0,
            direction="down" if close < prev else "up",
            window="1h",
            value=0.0,
            threshold=cfg.level_buffer_pct,
            basis="zone",
            close=close,
            bar_time=i.bar_time,
        )
    beyond, zone, was, direction = best
    return Observation(
        rule="level",
        coin=i.coin,
        at=i.now,
        score=beyond / cfg.level_buffer_pct,
        direction=direction,
        window="1h",
        value=beyond,
        threshold=cfg.level_buffer_pct,
        basis="zone",
        zone=zone,
        zone_was=was,
        close=close,
        bar_time=i.bar_time,
        price=i.price,
    )


def oi_flush(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    candidates = [
        (-change / limit, window, change, limit)
        for window, change, limit in (
            ("1h", i.oi_1h_pct, cfg.oi_drop_1h_pct),
            ("24h", i.oi_24h_pct, cfg.oi_drop_24h_pct),
        )
        if change is not None
    ]
    if not candidates:
        return None
    score, window, change, limit = max(candidates, key=lambda c: c[0])
    return Observation(
        rule="oi_flush",
        coin=i.coin,
        at=i.now,
        score=max(0.0, score),
        direction="down",
        window=window,
        value=change,
        threshold=-limit,
        basis="threshold",
        oi_usd=i.oi_usd,
        price=i.price,
    )


def funding_extreme(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    if i.funding_8h is None:
        return None
    rate_pct = i.funding_8h * 100
    return Observation(
        rule="funding",
        coin=i.coin,
        at=i.now,
        score=abs(rate_pct) / cfg.funding_band_pct,
        direction="up" if rate_pct > 0 else "down",
        window="8h",
        value=rate_pct,
        threshold=cfg.funding_band_pct if rate_pct >= 0 else -cfg.funding_band_pct,
        basis="band",
        price=i.price,
    )


RULE_FUNCTIONS: dict[RuleName, Callable[[CoinInputs, AlertConfig], Observation | None]] = {
    "move": large_move,
    "liquidations": liquidation_spike,
    "level": level_break,
    "oi_flush": oi_flush,
    "funding": funding_extreme,
}


def evaluate(
    inputs: CoinInputs, cfg: AlertConfig, rules: Iterable[RuleName] = RULES
) -> dict[RuleName, Observation]:
    """Every asked rule's observation for one coin (rules without their inputs are absent)."""
    out: dict[RuleName, Observation] = {}
    for rule in rules:
        fn = RULE_FUNCTIONS.get(rule)  # large liquidations are single events (bot.alerts.large)
        obs = fn(inputs, cfg) if fn is not None else None
        if obs is not None:
            out[rule] = obs
    return out
