from __future__ import annotations

import itertools
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.analysis.findings import Caveat, LevelReason, LevelsResult, LevelZone
from bot.analysis.levels import LevelsConfig, find_levels
from bot.models import Candle
from tests.analysis import DAY, HOUR, NOW, candles_from_closes, random_walk, zigzag

# A range market: support at 100 (three touches), resistance at 110 (one) and 120 (two),
# an older low at 90; the price ends at 108.
RANGE = zigzag([95, 90, 110, 100, 120, 100, 119.5, 100, 108], legs=8)


def contains(zone: LevelZone | None, price: float) -> bool:
    return zone is not None and zone.low <= price <= zone.high


def near(zone: LevelZone | None, level: float, tol: float = 0.005) -> bool:
    """The zone covers ``level`` give or take the bars' wicks."""
    return zone is not None and zone.low <= level * (1 + tol) and zone.high >= level * (1 - tol)


def check_invariants(r: LevelsResult) -> None:
    price = r.price
    assert all(z.kind == "support" and z.high < price for z in r.supports)
    assert all(z.kind == "resistance" and z.low > price for z in r.resistances)
    if r.at_price is not None:
        assert r.at_price.kind == "at_price"
        assert r.at_price.low <= price <= r.at_price.high
    for side in (r.supports, r.resistances):
        distances = [abs(z.distance_pct) for z in side]
        assert distances == sorted(distances)
    assert all(z.distance_pct < 0 for z in r.supports)
    assert all(z.distance_pct > 0 for z in r.resistances)
    zones = sorted([*r.supports, *r.resistances, *([r.at_price] if r.at_price else [])], key=lambda z: z.low)
    for z in zones:
        assert 0.0 <= z.strength <= 1.0
        assert z.low <= z.mid <= z.high
    for a, b in itertools.pairwise(zones):
        assert a.high < b.low, "zones overlap"
    assert r.nearest_support == (r.supports[0] if r.supports else None)
    assert r.nearest_resistance == (r.resistances[0] if r.resistances else None)
    assert r.next_below == (r.supports[1] if len(r.supports) > 1 else None)
    assert r.next_above == (r.resistances[1] if len(r.resistances) > 1 else None)
    for broken in r.broken:
        assert broken.zone in (r.supports if broken.zone.kind == "support" else r.resistances)
        assert broken.was != broken.zone.kind
    if r.insufficient:
        assert not (r.supports)
        assert not (r.resistances)
        assert not (r.at_price)


def test_range_market_finds_the_turning_points_in_order() -> None:
    r = find_levels("BTC", 108.0, candles_from_closes(RANGE), [], now=NOW)
    check_invariants(r)
    assert r.insufficient is None
    assert near(r.supports[0], 100)
    assert near(r.supports[1], 90)
    assert r.next_below == r.supports[1]
    assert near(r.resistances[0], 110)
    assert near(r.resistances[1], 120)
    assert near(r.resistances[1], 119.5)
    assert r.supports[0].touches == 3
    assert r.resistances[1].touches == 2
    # three touches beat two, two beat one
    assert r.supports[0].strength > r.resistances[1].strength > r.resistances[0].strength
    # the words are the renderer's (tests/render/test_levels.py); here, the numbers
    assert LevelReason(kind="touches", count=3, timeframe="1d") in r.supports[0].reasons
    assert LevelReason(kind="round_number", level=100.0) in r.supports[0].reasons
    assert r.supports[0].distance_pct == pytest.approx((r.supports[0].high - 108) / 108 * 100)
    assert r.sources == ("binance",)
    assert r.as_of == NOW


def test_recent_touches_weigh_more_than_old_ones() -> None:
    # Two single-touch lows at the same distance from the price; the recent one is stronger.
    path = zigzag([100, 80, 100, 100, 100, 100, 120, 100], legs=10)
    r = find_levels("BTC", 100.0, candles_from_closes(path), [], now=NOW)
    check_invariants(r)
    old = next(z for z in r.supports if near(z, 80))
    recent = next(z for z in r.resistances if near(z, 120))
    assert recent.strength > old.strength


def test_moving_average_inside_a_zone_adds_weight_and_a_reason() -> None:
    # 240 flat-ish days around 100 put the 200-day average at ~100, inside the support zone.
    rng = np.random.default_rng(7)
    flat = (100 + rng.normal(0, 0.3, 200)).tolist()
    path = [*flat, *zigzag([100, 99.8, 106, 99.9, 106, 104], legs=8)]
    r = find_levels("BTC", 104.0, candles_from_closes(path), [], now=NOW)
    check_invariants(r)
    assert r.ma200 is not None
    assert r.ma50 is not None
    labelled = [
        z
        for z in (*r.supports, *r.resistances)
        if any(s.kind == "average" and s.days == 200 for s in z.reasons)
    ]
    assert labelled
    assert all(
        s.level == r.ma200 for z in labelled for s in z.reasons if s.kind == "average" and s.days == 200
    )
    assert all(contains(z, r.ma200) or abs(z.mid - r.ma200) < 2 for z in labelled)


def test_lost_support_becomes_resistance_and_is_reported_broken() -> None:
    daily = candles_from_closes(
        zigzag([95, 90, 110, 100, 120, 100, 119.5, 100, 105], legs=8), end=NOW - 3 * DAY
    )
    hourly_path = [*np.linspace(105, 103, 48).tolist(), *np.linspace(103, 97, 24).tolist()]
    hourly = candles_from_closes(hourly_path, step=HOUR, interval="1h")
    r = find_levels("BTC", 97.0, daily, hourly, now=NOW)
    check_invariants(r)
    assert near(r.resistances[0], 100)
    assert len(r.broken) == 1
    b = r.broken[0]
    assert b.was == "support"
    assert b.zone.kind == "resistance"
    assert near(b.zone, 100)
    assert b.zone.reasons[0].kind == "broke"
    assert b.zone.reasons[0].was == "support"
    assert b.zone.reasons[0].ago == NOW - b.broke_at
    assert NOW - 24 * HOUR <= b.broke_at <= NOW


def test_reclaimed_resistance_becomes_support() -> None:
    daily = candles_from_closes(zigzag([110, 100, 120, 105, 120, 105, 115], legs=8), end=NOW - 3 * DAY)
    hourly_path = [*np.linspace(115, 117, 48).tolist(), *np.linspace(117, 123, 24).tolist()]
    hourly = candles_from_closes(hourly_path, step=HOUR, interval="1h")
    r = find_levels("BTC", 123.0, daily, hourly, now=NOW)
    check_invariants(r)
    assert near(r.supports[0], 120)
    assert [(b.was, b.zone.kind) for b in r.broken] == [("resistance", "support")]


def test_zone_containing_the_price_is_at_price_not_support_or_resistance() -> None:
    r = find_levels("BTC", 99.8, candles_from_closes(RANGE), [], now=NOW)  # the lows' wick
    check_invariants(r)
    assert contains(r.at_price, 99.8)
    assert r.at_price is not None
    assert r.at_price.distance_pct == 0
    assert near(r.supports[0], 90)


def test_too_little_data_is_insufficient_not_invented() -> None:
    r = find_levels("BTC", 100.0, candles_from_closes(RANGE[:10]), [], now=NOW)
    assert r.insufficient is not None
    assert (r.insufficient.code, r.insufficient.count) == ("few_bars", 10)
    assert r.supports == ()
    assert r.resistances == ()
    assert r.at_price is None


def test_bars_after_now_are_ignored() -> None:
    past = candles_from_closes(RANGE)
    future = candles_from_closes([150.0, 200.0, 150.0, 200.0, 150.0], end=NOW + 6 * DAY)
    r = find_levels("BTC", 108.0, [*past, *future], [], now=NOW)
    assert r == find_levels("BTC", 108.0, past, [], now=NOW)


def test_hourly_only_is_allowed_and_noted() -> None:
    path = zigzag([100, 95, 105, 95, 104, 100], legs=12)
    r = find_levels("BTC", 100.0, [], candles_from_closes(path, step=HOUR, interval="1h"), now=NOW)
    check_invariants(r)
    assert r.insufficient is None
    assert Caveat(code="hourly_only", count=0) in r.notes
    assert near(r.supports[0], 95)


def _walk_candles(n_daily: int, n_hourly: int, seed: int) -> tuple[list[Candle], list[Candle]]:
    daily = candles_from_closes(
        random_walk(n_daily, 50_000, 0.03, seed),
        volume=np.random.default_rng(seed).uniform(100, 1000, n_daily).tolist(),
    )
    start = daily[-1].close if daily else 50_000
    hourly = candles_from_closes(
        random_walk(n_hourly, start, 0.006, seed + 1),
        step=HOUR,
        interval="1h",
        volume=np.random.default_rng(seed + 2).uniform(10, 100, n_hourly).tolist(),
    )
    return daily, hourly


def test_400_daily_and_720_hourly_bars_hold_the_invariants() -> None:
    # How fast this runs is measured by the benchmarks (`./dev bench`), not asserted here.
    daily, hourly = _walk_candles(400, 720, seed=3)
    price = hourly[-1].close
    check_invariants(find_levels("BTC", price, daily, hourly, now=NOW))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_daily=st.integers(0, 400),
    n_hourly=st.integers(0, 720),
    seed=st.integers(0, 2**16),
    price_factor=st.floats(0.7, 1.3),
    fractal_width=st.integers(1, 4),
)
def test_invariants_hold_on_random_walks(
    n_daily: int, n_hourly: int, seed: int, price_factor: float, fractal_width: int
) -> None:
    daily, hourly = _walk_candles(n_daily, n_hourly, seed)
    last = hourly[-1].close if hourly else daily[-1].close if daily else 50_000.0
    cfg = LevelsConfig(fractal_width_1d=fractal_width, fractal_width_1h=fractal_width + 1)
    r = find_levels("BTC", last * price_factor, daily, hourly, now=NOW, config=cfg)
    check_invariants(r)
    assert r.supports or r.resistances or r.at_price or r.insufficient or r.notes


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**16), price=st.floats(96.0, 124.0))
def test_invariants_hold_for_any_price_inside_a_range(seed: int, price: float) -> None:
    rng = np.random.default_rng(seed)
    jitter = rng.normal(0, 0.3, len(RANGE))
    daily = candles_from_closes((np.array(RANGE) + jitter).tolist())
    r = find_levels("BTC", price, daily, [], now=NOW + timedelta(minutes=int(rng.integers(0, 600))))
    check_invariants(r)
