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
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import numpy as np
import numpy.typing as npt
from numpy.lib.stride_tricks import sliding_window_view

from bot.analysis.findings import BrokenLevel, LevelsResult, LevelZone, Role, ZoneKind
from bot.columns import CandleColumns
from bot.fmt import ago, price_level
from bot.models import Candle

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

_DAY = 86400.0


@dataclass(frozen=True)
class LevelsConfig:
    fractal_width_1d: int = 2  # bars either side a swing point must exceed
    fractal_width_1h: int = 4  # wider on hourly bars, whose small swings are noise
    atr_period: int = 14
    cluster_atr: float = 0.3  # clustering tolerance: density bandwidth, × ATR
    max_zone_atr: float = 1.0  # a zone is never wider than this × ATR
    min_zone_atr: float = 0.15  # a lone swing point still spans this × ATR
    weight_1d: float = 1.0
    weight_1h: float = 0.35
    halflife_1d_days: float = 120.0  # a daily touch counts half after this long
    halflife_1h_days: float = 7.0
    volume_clip: tuple[float, float] = (0.5, 2.0)  # bounds on a touch's relative-volume factor
    confluence_atr: float = 0.15  # an average or round number this close (× ATR) to a zone counts
    ma_bonus: float = 0.6  # per moving average inside the zone
    round_major_bonus: float = 0.5  # a multiple of the price's power of ten (e.g. $70K on BTC)
    round_half_bonus: float = 0.3  # a multiple of half of it ($65K)
    hvn_ratio: float = 1.3  # volume density in the zone vs around it that counts as "high volume"
    hvn_window_atr: float = 4.0  # "around it": this many ATRs either side of the zone's middle
    hvn_bonus: float = 0.5
    strength_scale: float = 3.0
    min_strength: float = 0.12  # weaker zones are not reported
    max_distance_pct: float = 35.0  # zones farther than this from the price are not reported
    max_per_side: int = 6
    broken_lookback: timedelta = field(default=timedelta(hours=72))
    min_daily_bars: int = 20
    min_hourly_bars: int = 48


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


@dataclass
class _Zone:
    low: float
    high: float
    score: float
    touches_1d: int
    touches_1h: int
    last_touch: float
    reasons: list[str] = field(default_factory=list)

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2.0


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


def _cluster(
    prices: F64,
    times: F64,
    weights: F64,
    is_daily: npt.NDArray[np.bool_],
    bandwidth: float,
    max_w: float,
    min_w: float,
) -> list[_Zone]:
    """Zones where swing points concentrate, sorted by price and never overlapping.

    A weighted Gaussian density of the swing prices (bandwidth = the ATR-scaled tolerance) has
    one peak per level; its minima between peaks split the price axis into basins. A basin's
    zone is its points within ``max_w / 2`` of the peak, padded to ``min_w`` inside the basin;
    points of a wide basin left over on either side are clustered again within what remains of
    the basin. Unlike chaining neighbours, this does not tile a busy range with arbitrary zones:
    levels sit where the market turned most. Points are sorted once, so every basin and zone is
    a slice and its sums come from prefix sums.
    """
    order = np.argsort(prices, kind="stable")
    sp, sw, st = prices[order], weights[order], times[order]
    cum_w = np.concatenate([[0.0], np.cumsum(sw)])
    cum_d = np.concatenate([[0], np.cumsum(is_daily[order].astype(np.int64))])
    cell = bandwidth / 4.0
    taps = np.arange(-12, 13, dtype=np.float64)  # the kernel reaches 3 bandwidths either side
    eps = 1e-9 * float(sp[-1])
    zones: list[_Zone] = []

    def split(i0: int, i1: int, left: float, right: float, depth: int) -> None:
        p, w = sp[i0:i1], sw[i0:i1]
        lo_g = max(left, float(p[0]) - 3 * bandwidth)
        hi_g = min(right, float(p[-1]) + 3 * bandwidth)
        n_grid = max(3, int((hi_g - lo_g) / cell) + 1)
        if n_grid > 4000:  # a huge range in ATR terms: cap the grid, cells get coarser
            n_grid = 4000
        step = (hi_g - lo_g) / (n_grid - 1)
        binned = np.bincount(np.clip(np.rint((p - lo_g) / step).astype(np.int64), 0, n_grid - 1), w, n_grid)
        kernel = np.exp(-0.5 * (taps * step / bandwidth) ** 2)
        density = np.convolve(binned, kernel)[12 : 12 + n_grid]
        inner = density[1:-1]
        peaks = (np.nonzero((inner > density[:-2]) & (inner >= density[2:]))[0] + 1).tolist()
        if not peaks:  # monotone on this stretch: the peak is at an end
            peaks = [int(np.argmax(density))]
        bounds = [lo_g + step * (a + int(np.argmin(density[a : b + 1]))) for a, b in pairwise(peaks)]
        edges = [left, *bounds, right]
        cuts = [i0, *(i0 + np.searchsorted(p, bounds, side="right")).tolist(), i1]
        for k, peak_i in enumerate(peaks):
            s, e = cuts[k], cuts[k + 1]
            if s >= e:
                continue
            b_lo, b_hi = edges[k] + eps, edges[k + 1]  # a basin holds edges[k] < p <= edges[k + 1]
            peak = lo_g + step * peak_i
            basin = sp[s:e]
            c0 = s + int(np.searchsorted(basin, peak - max_w / 2.0, side="left"))
            c1 = s + int(np.searchsorted(basin, peak + max_w / 2.0, side="right"))
            if c0 >= c1:  # the peak is a shoulder of a wide basin: start from its heaviest point
                c0 = s + int(np.argmax(sw[s:e]))
                c1 = c0 + 1
            lo, hi = float(sp[c0]), float(sp[c1 - 1])
            if hi - lo < min_w:
                mid = (lo + hi) / 2.0
                lo, hi = max(mid - min_w / 2.0, b_lo, mid / 2.0), min(mid + min_w / 2.0, b_hi)
            c0 = s + int(np.searchsorted(basin, lo, side="left"))
            c1 = s + int(np.searchsorted(basin, hi, side="right"))
            if c0 >= c1:  # a point sitting exactly on a clipped edge; nothing to build on
                continue
            n_daily = int(cum_d[c1] - cum_d[c0])
            zones.append(
                _Zone(
                    low=lo,
                    high=hi,
                    score=float(cum_w[c1] - cum_w[c0]),
                    touches_1d=n_daily,
                    touches_1h=(c1 - c0) - n_daily,
                    last_touch=float(st[c0:c1].max()),
                )
            )
            if depth > 0:
                if c0 > s:
                    split(s, c0, edges[k], lo - eps, depth - 1)
                if c1 < e:
                    split(c1, e, hi + eps, edges[k + 1], depth - 1)

    split(0, int(sp.size), -math.inf, math.inf, depth=4)
    zones.sort(key=lambda z: z.low)
    return zones


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


def _touch_reasons(z: _Zone) -> list[str]:
    out = []
    for n, tf in ((z.touches_1d, "1d"), (z.touches_1h, "1h")):
        if n:
            out.append(f"{n} touch{'es' if n != 1 else ''} on {tf}")
    return out


def _to_dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


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


def _daily_atr(d: _Bars | None, h: _Bars | None, cfg: LevelsConfig) -> float | None:
    """The daily ATR, from daily bars or else scaled up from hourly ones (√24)."""
    atr = _atr(d, cfg.atr_period) if d is not None else None
    if atr is None and h is not None:
        atr_h = _atr(h, cfg.atr_period)
        atr = atr_h * math.sqrt(24.0) if atr_h is not None else None
    return atr


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
        for ma, label in zip(mas, ("50-day average", "200-day average"), strict=True):
            if ma is not None and z.low - pad <= ma <= z.high + pad:
                z.score += cfg.ma_bonus
                z.reasons.append(f"{label} {price_level(ma)}")
        rn = _round_number(z.low, z.high, price, pad)
        if rn is not None:
            z.score += cfg.round_major_bonus if rn[1] else cfg.round_half_bonus
            z.reasons.append(f"round number {price_level(rn[0])}")
        if around[k] > 0 and density[k] / around[k] >= cfg.hvn_ratio:
            z.score += cfg.hvn_bonus
            z.reasons.append("high volume at price")


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
                verb = "lost" if was == "support" else "reclaimed"
                z.reasons.insert(0, f"{verb} {was} {ago(now - _to_dt(broke))}, now {kind}")
            model = _zone_model(z, kind, price, cfg)
            out[kind].append(model)
            if broke is not None:
                broken.append(BrokenLevel(zone=model, was=was, broke_at=_to_dt(broke)))
    return out, broken


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
            insufficient=(
                f"only {len(d)} daily and {len(h)} hourly bars "
                f"(need {cfg.min_daily_bars} daily or {cfg.min_hourly_bars} hourly)"
            ),
        )
    notes: list[str] = []
    if not use_d:
        notes.append(f"levels from hourly bars only ({len(d)} daily bars)")
    if not use_h:
        notes.append(f"levels from daily bars only ({len(h)} hourly bars)")

    atr = _daily_atr(d if use_d else None, h if use_h else None, cfg)
    if atr is None:
        return result(notes=tuple(notes), insufficient="no price range to measure volatility (ATR)")

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
        notes.append(f"no 200-day average ({len(d)} daily bars)")
    if prices.size == 0:
        notes.append("no swing highs or lows yet")
        return result(notes=tuple(notes), ma50=ma50, ma200=ma200, atr_1d=atr)
    times = np.concatenate([p[1] for p in parts])
    weights = np.concatenate([p[2] for p in parts])
    is_daily = np.concatenate([np.full(p[0].size, p[3]) for p in parts])
    # Only swings that can make a reportable zone matter; this also bounds the density grid.
    near = np.abs(prices - price) <= price * cfg.max_distance_pct / 100.0 + cfg.max_zone_atr * atr
    if not near.any():
        notes.append(f"no swing highs or lows within {cfg.max_distance_pct:g}% of the price")
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
        notes.append(f"no zone strong enough within {cfg.max_distance_pct:g}% of the price")
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
