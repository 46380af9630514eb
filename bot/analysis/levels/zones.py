"""What a zone is worth and what it is now: confluence (averages, round numbers, volume at
price), its role against the price, and whether the price broke through it recently."""

from __future__ import annotations

import math
from datetime import datetime

import numpy as np

from bot.analysis.findings import BrokenLevel, LevelReason, LevelZone, Role, ZoneKind
from bot.analysis.levels.bars import F64, _Bars, _to_dt
from bot.analysis.levels.cluster import _Zone
from bot.analysis.levels.config import LevelsConfig


def _round_number(low: float, high: float, price: float, pad: float) -> tuple[float, bool] | None:
    """A round number inside the zone (± pad): a multiple of the price's power of ten (major)
    or of half of it."""
    step = 10.0 ** math.floor(math.log10(price))
    for unit, major in ((step, True), (step / 2.0, False)):
        k = math.ceil((low - pad) / unit)
        candidate = k * unit
        if candidate > 0 and candidate <= high + pad:
            return candidate, major
    return None


def _volume_between(b: _Bars, lows: F64, highs: F64) -> F64:
    """Volume traded inside each [low, high], spreading each bar's volume evenly over its range."""
    span = np.maximum(b.high - b.low, 1e-12 * np.maximum(b.high, 1.0))
    overlap = np.minimum(highs[:, None], b.high[None, :]) - np.maximum(lows[:, None], b.low[None, :])
    frac = np.clip(overlap, 0.0, None) / span[None, :]
    point = (b.high - b.low) <= 0  # zero-range bars count wholly if they sit inside
    if point.any():
        inside = (b.low[None, :] >= lows[:, None]) & (b.low[None, :] <= highs[:, None])
        frac = np.where(point[None, :], inside.astype(np.float64), frac)
    return np.asarray(frac @ b.volume, dtype=np.float64)


def _touch_reasons(z: _Zone) -> list[LevelReason]:
    out = []
    for n, tf in ((z.touches_1d, "1d"), (z.touches_1h, "1h")):
        if n:
            out.append(LevelReason(kind="touches", count=n, timeframe=tf))
    return out


def _zone_model(z: _Zone, kind: ZoneKind, price: float, cfg: LevelsConfig) -> LevelZone:
    if kind == "support":
        distance = (z.high - price) / price * 100.0
    elif kind == "resistance":
        distance = (z.low - price) / price * 100.0
    else:
        distance = 0.0
    return LevelZone(
        kind=kind,
        low=z.low,
        high=z.high,
        mid=z.mid,
        strength=_strength(z.score, cfg),
        touches=z.touches_1d + z.touches_1h,
        last_touch=_to_dt(z.last_touch),
        reasons=tuple(z.reasons),
        distance_pct=distance,
    )


def _strength(score: float, cfg: LevelsConfig) -> float:
    return float(min(1.0, max(0.0, 1.0 - math.exp(-score / cfg.strength_scale))))


def _break(z: _Zone, kind: Role, t: F64, closes: F64) -> float | None:
    """When the recent closes crossed the zone against its current role: for a resistance,
    a close above it followed by a close below it (support lost); mirrored for a support."""
    if closes.size < 2:
        return None
    was_other_side = closes > z.high if kind == "resistance" else closes < z.low
    if not was_other_side.any():
        return None
    last_other = int(np.nonzero(was_other_side)[0][-1])
    after = closes[last_other + 1 :]
    through = after < z.low if kind == "resistance" else after > z.high
    if not through.any():
        return None
    return float(t[last_other + 1 + int(np.nonzero(through)[0][0])])


def _add_confluence(
    zones: list[_Zone],
    lows: F64,
    highs: F64,
    profile: _Bars,
    mas: tuple[float | None, float | None],
    price: float,
    atr: float,
    cfg: LevelsConfig,
) -> None:
    """Score and explain each zone's confluence: touches, the 50/200-day averages and round
    numbers inside it, and high volume at its prices."""
    mids = (lows + highs) / 2.0
    reach = cfg.hvn_window_atr * atr
    density = _volume_between(profile, lows, highs) / np.maximum(highs - lows, 1e-12)
    around = _volume_between(profile, mids - reach, mids + reach) / (2.0 * reach)
    pad = cfg.confluence_atr * atr
    for k, z in enumerate(zones):
        z.reasons.extend(_touch_reasons(z))
        for ma, days in zip(mas, (50, 200), strict=True):
            if ma is not None and z.low - pad <= ma <= z.high + pad:
                z.score += cfg.ma_bonus
                z.reasons.append(LevelReason(kind="average", days=days, level=ma))
        rn = _round_number(z.low, z.high, price, pad)
        if rn is not None:
            z.score += cfg.round_major_bonus if rn[1] else cfg.round_half_bonus
            z.reasons.append(LevelReason(kind="round_number", level=rn[0]))
        if around[k] > 0 and density[k] / around[k] >= cfg.hvn_ratio:
            z.score += cfg.hvn_bonus
            z.reasons.append(LevelReason(kind="volume"))


def _sides(
    zones: list[_Zone], price: float, cfg: LevelsConfig
) -> tuple[list[tuple[_Zone, Role]], list[tuple[_Zone, Role]], LevelZone | None]:
    """The strong-enough zones by role against the price, nearest first, and the one the price
    is in (if any); zones beyond the reporting distance are dropped."""
    supports: list[tuple[_Zone, Role]] = []
    resistances: list[tuple[_Zone, Role]] = []
    at_price: LevelZone | None = None
    for z in zones:
        strength = _strength(z.score, cfg)
        if strength < cfg.min_strength:
            continue
        if z.low <= price <= z.high:
            at_price = _zone_model(z, "at_price", price, cfg)
            continue
        kind: Role = "support" if z.high < price else "resistance"
        edge = z.high if kind == "support" else z.low
        if abs(edge - price) / price * 100.0 > cfg.max_distance_pct:
            continue
        (supports if kind == "support" else resistances).append((z, kind))
    supports.sort(key=lambda zk: -zk[0].high)
    resistances.sort(key=lambda zk: zk[0].low)
    return supports, resistances, at_price


def _with_breaks(
    sides: tuple[list[tuple[_Zone, Role]], list[tuple[_Zone, Role]]],
    rt: F64,
    rc: F64,
    price: float,
    now: datetime,
    cfg: LevelsConfig,
) -> tuple[dict[Role, list[LevelZone]], list[BrokenLevel]]:
    """The zones as models, each saying whether the price broke through it recently (a lost
    support is resistance now, a reclaimed resistance support)."""
    out: dict[Role, list[LevelZone]] = {"support": [], "resistance": []}
    broken: list[BrokenLevel] = []
    for side in sides:
        for z, kind in side:
            broke = _break(z, kind, rt, rc)
            was: Role = "support" if kind == "resistance" else "resistance"
            if broke is not None:
                z.reasons.insert(0, LevelReason(kind="broke", was=was, ago=now - _to_dt(broke)))
            model = _zone_model(z, kind, price, cfg)
            out[kind].append(model)
            if broke is not None:
                broken.append(BrokenLevel(zone=model, was=was, broke_at=_to_dt(broke)))
    return out, broken
