"""The alert rules, pure: inputs in, observations out; thresholds and their parsing."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.alerts.config import (
    RULES,
    AlertConfig,
    ThresholdError,
    describe_thresholds,
    parse_rules,
    parse_thresholds,
    with_overrides,
)
from bot.alerts.inputs import CoinInputs, CoinSeries, inputs_at
from bot.alerts.rules import evaluate, funding_extreme, large_move, level_break, liquidation_spike, oi_flush
from bot.analysis.findings import LevelZone
from bot.models import Candle, OpenInterest
from tests.conftest import NOW

CFG = AlertConfig()
HOUR = timedelta(hours=1)


def zone(low: float, high: float, strength: float = 0.8) -> LevelZone:
    return LevelZone(
        kind="support",
        low=low,
        high=high,
        mid=(low + high) / 2,
        strength=strength,
        touches=3,
        distance_pct=-1.0,
    )


def inputs(**kw: object) -> CoinInputs:
    return CoinInputs(coin="SOL", now=NOW, **kw)  # type: ignore[arg-type]


# -- large move ---------------------------------------------------------------------------------


def test_large_move_against_the_fixed_threshold() -> None:
    o = large_move(inputs(change_1h_pct=-6.0, change_24h_pct=-7.0), CFG)
    assert o is not None
    assert o.triggered
    assert (o.window, o.basis, o.direction) == ("1h", "threshold", "down")
    assert o.score == pytest.approx(6.0 / CFG.move_1h_pct)
    quiet = large_move(inputs(change_1h_pct=1.0, change_24h_pct=4.0), CFG)
    assert quiet is not None
    assert not quiet.triggered


def test_large_move_against_the_coins_own_sigma() -> None:
    # BTC-like: 24h σ of 1.5%: −6.5% is 4.3σ although it is under the 12% threshold
    o = large_move(inputs(change_1h_pct=-0.8, change_24h_pct=-6.5, sigma_1h_pct=0.4, sigma_24h_pct=1.5), CFG)
    assert o is not None
    assert o.triggered
    assert (o.window, o.basis, o.sigma) == ("24h", "sigma", 1.5)
    assert o.threshold == pytest.approx(CFG.sigma_k * 1.5)


def test_sigma_needs_a_minimum_move() -> None:
    # a sleepy coin: 2.5% is 5σ of its 0.5% moves, but under the 3% minimum for σ alerts
    o = large_move(inputs(change_1h_pct=2.5, sigma_1h_pct=0.5), CFG)
    assert o is not None
    assert not o.triggered
    assert o.basis == "threshold"


def test_large_move_without_prices_observes_nothing() -> None:
    assert large_move(inputs(), CFG) is None


# -- liquidation spike ----------------------------------------------------------------------------


def test_spike_needs_the_multiple_and_the_floor() -> None:
    big = liquidation_spike(
        inputs(liq_usd=2e6, liq_long_usd=1.8e6, liq_baseline_usd=50_000, liq_baseline_days=7.0), CFG
    )
    assert big is not None
    assert big.triggered
    assert big.basis == "floor"  # 5 × $50K = $250K is under the $500K floor
    assert big.multiple == pytest.approx(40.0)
    assert big.long_share == pytest.approx(0.9)
    # a quiet coin: 20× its own tiny baseline, but under the absolute floor
    quiet = liquidation_spike(
        inputs(liq_usd=60_000, liq_long_usd=0, liq_baseline_usd=3_000, liq_baseline_days=7.0), CFG
    )
    assert quiet is not None
    assert not quiet.triggered
    # a busy coin: over the floor but only 2× its own baseline
    busy = liquidation_spike(
        inputs(liq_usd=800_000, liq_long_usd=0, liq_baseline_usd=400_000, liq_baseline_days=7.0), CFG
    )
    assert busy is not None
    assert not busy.triggered
    assert busy.basis == "baseline"
    assert busy.direction == "up"  # shorts liquidated


def test_spike_without_a_baseline_observes_nothing() -> None:
    assert liquidation_spike(inputs(liq_usd=5e6, liq_long_usd=5e6), CFG) is None


def test_spike_without_history_or_open_interest_is_measured_on_24h_volume() -> None:
    """A fresh install on a coin whose venues give no open interest: the 24h volume band
    (1% in 15 min by default) is the yardstick, and the observation says so."""
    spike = liquidation_spike(inputs(liq_usd=12e6, liq_long_usd=11e6, liq_volume_usd=1e9), CFG)
    assert spike is not None
    assert spike.triggered
    assert spike.liq_basis == "volume"
    calm = liquidation_spike(inputs(liq_usd=2e6, liq_long_usd=2e6, liq_volume_usd=1e9), CFG)
    assert calm is not None
    assert not calm.triggered
    # open interest, when known, comes first
    by_oi = liquidation_spike(
        inputs(liq_usd=12e6, liq_long_usd=11e6, liq_oi_usd=2e9, liq_volume_usd=1e9), CFG
    )
    assert by_oi is not None
    assert by_oi.liq_basis == "open_interest"


def test_24h_volume_for_the_spike_needs_a_whole_day_of_bars() -> None:
    day = [c.model_copy(update={"quote_volume": 1e6}) for c in bars([100.0] * 26)]
    assert inputs_at(CoinSeries("SOL", hourly=day), NOW, CFG).liq_volume_usd == pytest.approx(24e6)
    partial = [c.model_copy(update={"quote_volume": 1e6}) for c in bars([100.0] * 10)]
    assert inputs_at(CoinSeries("SOL", hourly=partial), NOW, CFG).liq_volume_usd is None


# -- level break ----------------------------------------------------------------------------------


def level_inputs(prev: float, close: float, *zones: LevelZone) -> CoinInputs:
    return inputs(prev_close=prev, last_close=close, bar_time=NOW - HOUR, zones=tuple(zones))


def test_close_beyond_a_zone_by_the_buffer_is_a_break() -> None:
    z = zone(98.0, 100.0)
    o = level_break(level_inputs(99.0, 96.0, z), CFG)  # prev inside the zone, close 2% below it
    assert o is not None
    assert o.triggered
    assert (o.zone_was, o.direction) == ("support", "down")
    assert o.value == pytest.approx((98.0 - 96.0) / 98.0 * 100)  # % of the zone edge


def test_a_wick_is_not_a_break() -> None:
    # the bar's low went far below the zone but it closed back inside: only closes are read
    o = level_break(level_inputs(99.0, 98.5, zone(98.0, 100.0)), CFG)
    assert o is not None
    assert o.score == 0
    assert not o.triggered


def test_a_close_within_the_buffer_is_not_yet_a_break() -> None:
    o = level_break(level_inputs(99.0, 97.5, zone(98.0, 100.0)), CFG)  # 0.5% below, buffer 1%
    assert o is not None
    assert 0 < o.score < 1


def test_break_up_through_resistance_and_weak_zones_ignored() -> None:
    up = level_break(level_inputs(100.5, 103.0, zone(100.0, 101.0)), CFG)
    assert up is not None
    assert up.triggered
    assert (up.zone_was, up.direction) == ("resistance", "up")
    weak = level_break(level_inputs(100.5, 103.0, zone(100.0, 101.0, strength=0.2)), CFG)
    assert weak is not None
    assert not weak.triggered


def test_already_beyond_the_zone_is_no_new_break() -> None:
    o = level_break(level_inputs(95.0, 94.0, zone(98.0, 100.0)), CFG)
    assert o is not None
    assert o.score == 0


# -- OI flush and funding ---------------------------------------------------------------------------


def test_oi_flush_counts_falls_only() -> None:
    o = oi_flush(inputs(oi_1h_pct=-5.0, oi_24h_pct=-3.0, oi_usd=1e9), CFG)
    assert o is not None
    assert o.triggered
    assert o.window == "1h"
    rise = oi_flush(inputs(oi_1h_pct=9.0, oi_24h_pct=20.0), CFG)
    assert rise is not None
    assert rise.score == 0


def test_funding_extreme_either_side_of_the_band() -> None:
    high = funding_extreme(inputs(funding_8h=0.0008), CFG)
    assert high is not None
    assert high.triggered
    assert high.direction == "up"
    low = funding_extreme(inputs(funding_8h=-0.0006), CFG)
    assert low is not None
    assert low.triggered
    assert low.direction == "down"
    normal = funding_extreme(inputs(funding_8h=0.0001), CFG)
    assert normal is not None
    assert not normal.triggered


def test_evaluate_skips_rules_without_inputs() -> None:
    found = evaluate(inputs(change_1h_pct=1.0, funding_8h=0.0001), CFG)
    assert set(found) == {"move", "funding"}


# -- inputs from a series ---------------------------------------------------------------------------


def bars(closes: list[float], coin: str = "SOL") -> list[Candle]:
    """Hourly bars ending with one opened at NOW (still in progress)."""
    out = []
    start = NOW - HOUR * (len(closes) - 1)
    prev = closes[0]
    for k, c in enumerate(closes):
        out.append(
            Candle(
                coin=coin,
                venue="binance",
                market="spot",
                interval="1h",
                open_time=start + HOUR * k,
                open=prev,
                high=max(prev, c) * 1.01,
                low=min(prev, c) * 0.9,  # deep wicks: the rules read closes only
                close=c,
                volume=1.0,
            )
        )
        prev = c
    return out


def test_inputs_read_closed_bars_only() -> None:
    closes = [100.0 + (k % 2) * 0.5 for k in range(24 * 10)] + [110.0, 50.0]  # last bar in progress
    s = CoinSeries("SOL", hourly=bars(closes))
    i = inputs_at(s, NOW, CFG)
    assert i.last_close == 110.0  # the bar opened at NOW has not closed
    assert i.prev_close == closes[-3]
    assert i.price == 110.0
    assert i.change_1h_pct == pytest.approx((110.0 / closes[-3] - 1) * 100)
    assert i.sigma_1h_pct is not None
    assert i.sigma_1h_pct < 1  # the latest move does not inflate its own σ
    assert i.bar_time == NOW - HOUR


def test_stale_bars_are_not_current() -> None:
    s = CoinSeries("SOL", hourly=bars([100.0] * 50))
    later = inputs_at(s, NOW + timedelta(hours=4), CFG)
    assert later.price is None
    assert later.last_close is None


def test_oi_inputs_from_a_series() -> None:
    points = [
        OpenInterest(coin="SOL", venue="binance", ts=NOW - HOUR * k, oi_usd=1e9 * (1 + 0.01 * k))
        for k in range(30)
    ]
    i = inputs_at(CoinSeries("SOL", oi=points), NOW, CFG)
    assert i.oi_1h_pct == pytest.approx((1.0 / 1.01 - 1) * 100)
    assert i.oi_24h_pct == pytest.approx((1.0 / 1.24 - 1) * 100)


# -- thresholds -------------------------------------------------------------------------------------


def test_thresholds_parse_with_units_and_aliases() -> None:
    got = parse_thresholds("move_24h=6%, liq_floor=2.5M sigma=3x cooldown=2h level_buffer:0.5")
    assert got == {
        "move_24h_pct": 6.0,
        "liq_floor_usd": 2_500_000.0,
        "sigma_k": 3.0,
        "cooldown_minutes": 120,
        "level_buffer_pct": 0.5,
    }
    cfg = with_overrides(AlertConfig(), got)
    assert cfg.move_24h_pct == 6.0
    assert cfg.move_1h_pct == AlertConfig().move_1h_pct
    assert describe_thresholds(got) == (
        "cooldown=2h, level_buffer=0.5%, liq_floor=$2.50M, move_24h=6%, sigma=3σ"
    )
    assert parse_thresholds(None) == {}
    assert parse_thresholds("defaults") == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("speed=3", "unknown threshold 'speed'"),
        ("move_1h=fast", "move_1h: 'fast' is not a number"),
        ("move_1h=-2", "move_1h: input should be greater than 0"),
        ("hysteresis=1", "hysteresis: input should be less than 1"),
        ("move_1h", "expected key=value"),
    ],
)
def test_bad_thresholds_name_the_key(text: str, message: str) -> None:
    with pytest.raises(ThresholdError, match="^" + message.replace("(", r"\(")):
        parse_thresholds(text)


def test_rule_names_are_forgiving() -> None:
    assert parse_rules(None) == RULES
    assert parse_rules("all") == RULES
    assert parse_rules("Liquidations, large move, OI") == ("move", "liquidations", "oi_flush")
    assert parse_rules("levels/funding") == ("level", "funding")
    with pytest.raises(ValueError, match="unknown alert type 'whales'"):
        parse_rules("move, whales")
