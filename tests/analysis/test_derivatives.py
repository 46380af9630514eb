from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.analysis.findings import Caveat, RegimeLabel
from bot.analysis.flow import taker_flow
from bot.analysis.liquidations import LiqMinute, liquidation_window
from bot.analysis.open_interest import oi_change
from bot.analysis.positioning import funding_state, long_short_state
from bot.analysis.regime import RegimeConfig, classify_regime, regime_from_findings
from bot.models import Candle, Funding, LongShortRatio, Market, OpenInterest
from tests.analysis import DAY, HOUR, NOW

# ---------------------------------------------------------------------------------------------
# Liquidations


def liq(
    at: datetime, side: str, usd: float, venue: str = "binance", coin: str = "BTC", **kw: float
) -> LiqMinute:
    return LiqMinute.model_validate(
        {
            "coin": coin,
            "minute": at,
            "side": side,
            "venue": venue,
            "usd": usd,
            "events": 1,
            "max_usd": usd,
            **kw,
        }
    )


START = NOW - DAY
# 30 days before the window: $1K long and $1K short every hour → $48K per 24h.
BASELINE = [liq(START - k * HOUR, s, 1000) for k in range(1, 721) for s in ("long", "short")]
# The window: $4K long (binance) and $1K short (bybit) every hour, and one $20K okx burst of
# long liquidations (largest $15K) in the last hour.
WINDOW = [
    *(liq(NOW - k * HOUR + timedelta(minutes=30), "long", 4000) for k in range(1, 25)),
    *(liq(NOW - k * HOUR + timedelta(minutes=30), "short", 1000, venue="bybit") for k in range(1, 25)),
    liq(NOW - timedelta(minutes=30), "long", 20_000, venue="okx", max_usd=15_000),
]


def test_liquidation_window_sums_sides_venues_baseline_and_acceleration() -> None:
    noise = [liq(NOW - HOUR, "long", 1e9, coin="ETH")]
    f = liquidation_window(
        "BTC", [*BASELINE, *WINDOW, *noise], now=NOW, window=DAY, covered_since=NOW - 40 * DAY
    )
    assert f.insufficient is None
    assert f.notes == ()
    assert f.window == "24h"
    assert f.start == START
    assert f.end == NOW
    assert f.as_of == NOW
    assert (f.long_usd, f.short_usd, f.total_usd) == (116_000, 24_000, 140_000)
    assert f.long_share == pytest.approx(116 / 140)
    assert f.dominant == "long"
    assert f.events == 49
    assert f.largest_usd == 15_000
    assert [(v.venue, v.long_usd, v.short_usd) for v in f.by_venue] == [
        ("binance", 96_000, 0),
        ("bybit", 0, 24_000),
        ("okx", 20_000, 0),
    ]
    assert f.baseline_usd == pytest.approx(48_000)
    assert f.baseline_days == pytest.approx(30)
    assert f.baseline_multiple == pytest.approx(140 / 48)
    assert f.last_hour_usd == 25_000
    assert f.acceleration == pytest.approx(25_000 * 24 / 140_000)
    assert f.sources == ("binance", "bybit", "okx")


def test_a_connected_venue_with_no_liquidations_shows_as_zero() -> None:
    f = liquidation_window(
        "BTC", WINDOW, now=NOW, window=DAY, covered_since=NOW - 2 * DAY, venues=["binance", "bybit", "okx"]
    )
    f2 = liquidation_window(
        "BTC",
        WINDOW[:24],
        now=NOW,
        window=DAY,
        covered_since=NOW - 2 * DAY,
        venues=["binance", "bybit", "okx"],
    )
    assert {v.venue for v in f.by_venue} == {"binance", "bybit", "okx"}
    assert [(v.venue, v.long_usd + v.short_usd) for v in f2.by_venue][1:] == [("bybit", 0), ("okx", 0)]


@pytest.mark.parametrize("covered", [timedelta(minutes=2), 3 * HOUR])
def test_short_coverage_says_the_span_covered(covered: timedelta) -> None:
    # worded in human units ("2 min", not "0.0h"): tests/render/test_caveats.py
    f = liquidation_window("BTC", WINDOW, now=NOW, window=HOUR, covered_since=NOW - covered)
    assert Caveat(code="partly_covered", span=covered, window="1h") in f.notes or covered >= HOUR


def test_partly_covered_window_says_so_and_has_no_baseline() -> None:
    f = liquidation_window("BTC", WINDOW, now=NOW, window=DAY, covered_since=NOW - 6 * HOUR)
    assert f.insufficient is None
    assert f.covered_from == NOW - 6 * HOUR
    assert Caveat(code="partly_covered", span=6 * HOUR, window="24h") in f.notes
    assert [n.code for n in f.notes][-1] == "no_baseline"
    assert f.baseline_multiple is None
    assert f.baseline_usd is None
    assert f.acceleration is None


def test_short_history_gives_no_baseline() -> None:
    f = liquidation_window("BTC", WINDOW, now=NOW, window=DAY, covered_since=NOW - 2 * DAY)
    assert f.baseline_multiple is None  # one day of history is less than three windows
    assert Caveat(code="no_baseline", span=DAY) in f.notes


def test_no_rows_and_no_coverage_is_insufficient() -> None:
    f = liquidation_window("BTC", [], now=NOW, window=DAY)
    assert f.insufficient == Caveat(code="no_liquidations", coin="BTC")
    assert f.total_usd is None
    assert f.long_share is None


def test_quiet_but_covered_is_zero_not_unknown() -> None:
    f = liquidation_window("BTC", [], now=NOW, window=DAY, covered_since=NOW - 40 * DAY)
    assert f.insufficient is None
    assert f.total_usd == 0
    assert f.long_share is None
    assert f.dominant is None
    assert f.baseline_usd == 0
    assert f.baseline_multiple is None
    assert f.notes == (Caveat(code="empty_baseline", days=30),)


def test_without_covered_since_the_oldest_row_bounds_coverage() -> None:
    f = liquidation_window("BTC", WINDOW, now=NOW, window=DAY)
    assert f.covered_from == min(r.minute for r in WINDOW)
    assert f.as_of == max(r.minute for r in WINDOW) + timedelta(minutes=1)


# ---------------------------------------------------------------------------------------------
# Open interest


def oi(venue: str, at: datetime, usd: float, coin: str = "BTC") -> OpenInterest:
    return OpenInterest.model_validate({"coin": coin, "venue": venue, "ts": at, "oi_usd": usd})


def test_oi_change_sums_venues_with_both_ends_and_names_the_rest() -> None:
    points = [
        *(oi("binance", NOW - k * HOUR, 1_000_000 - (24 - k) * 100_000 / 24) for k in range(0, 25)),
        oi("bybit", NOW - DAY + timedelta(minutes=20), 500_000),
        oi("bybit", NOW - timedelta(minutes=5), 550_000),
        oi("okx", NOW - 2 * HOUR, 300_000),
        oi("okx", NOW, 280_000),
        oi("binance", NOW + HOUR, 1.0),  # the future is ignored
    ]
    f = oi_change("BTC", points, now=NOW, window=DAY)
    assert f.insufficient is None
    assert f.venues == ("binance", "bybit")
    assert f.missing_venues == ("okx",)
    assert f.start_usd == pytest.approx(1_500_000)
    assert f.end_usd == pytest.approx(1_450_000)
    assert f.change_usd == pytest.approx(-50_000)
    assert f.change_pct == pytest.approx(-50_000 / 1_500_000 * 100)
    assert f.start == NOW - DAY
    assert f.end == NOW
    assert f.as_of == NOW
    binance = f.by_venue[0]
    assert binance.change_pct == pytest.approx(-10.0)
    assert f.notes == (Caveat(code="venue_no_start", venue="okx", window="24h"),)
    assert f.sources == ("binance", "bybit", "okx")


def test_stale_open_interest_is_insufficient() -> None:
    points = [oi("binance", NOW - 5 * HOUR - k * HOUR, 1e6) for k in range(30)]
    f = oi_change("BTC", points, now=NOW, window=DAY)
    assert f.insufficient == Caveat(code="stale_oi", span=5 * HOUR)
    assert f.change_pct is None


def test_open_interest_without_history_is_insufficient() -> None:
    f = oi_change("BTC", [oi("binance", NOW, 1e6)], now=NOW, window=DAY)
    assert f.insufficient is not None
    assert f.missing_venues == ("binance",)
    assert oi_change("BTC", [], now=NOW, window=DAY).insufficient == Caveat(code="no_oi", coin="BTC")


# ---------------------------------------------------------------------------------------------
# Funding and long/short


def fr(venue: str, at: datetime, rate: float, hours: float = 8.0) -> Funding:
    return Funding.model_validate(
        {"coin": "BTC", "venue": venue, "ts": at, "rate": rate, "interval_hours": hours}
    )


def test_funding_is_normalised_to_8h_and_elevated_above_threshold() -> None:
    f = funding_state("BTC", [fr("binance", NOW - HOUR, 0.0001), fr("bybit", NOW, 0.0003, hours=4)], now=NOW)
    assert [(v.venue, v.rate_8h) for v in f.by_venue] == [
        ("binance", 0.0001),
        ("bybit", pytest.approx(0.0006)),
    ]
    assert f.mean_8h == pytest.approx(0.00035)
    assert f.state == "elevated"
    assert f.as_of == NOW


def test_funding_dropping_to_zero_after_being_positive_is_flushed() -> None:
    points = [
        fr("binance", NOW - DAY - HOUR, 0.0002),
        fr("bybit", NOW - DAY - HOUR, 0.0002),
        fr("binance", NOW - HOUR, 0.00001),
        fr("bybit", NOW - HOUR, -0.00002),
    ]
    f = funding_state("BTC", points, now=NOW)
    assert f.prior_mean_8h == pytest.approx(0.0002)
    assert f.mean_8h == pytest.approx(-0.000005)
    assert f.state == "normal"
    assert f.flushed


def test_negative_funding_and_stale_rates() -> None:
    f = funding_state("BTC", [fr("binance", NOW - HOUR, -0.0002), fr("okx", NOW - 13 * HOUR, 0.01)], now=NOW)
    assert f.state == "negative"
    assert [v.venue for v in f.by_venue] == ["binance"]
    assert not f.flushed
    assert f.prior_mean_8h is None
    stale = funding_state("BTC", [fr("okx", NOW - 13 * HOUR, 0.01)], now=NOW)
    assert stale.insufficient is not None
    assert stale.mean_8h is None


def ls(venue: str, at: datetime, share: float) -> LongShortRatio:
    return LongShortRatio.model_validate({"coin": "BTC", "venue": venue, "ts": at, "long_share": share})


def test_long_short_share_mean_change_and_crowding() -> None:
    points = [
        ls("binance", NOW - DAY - HOUR, 0.6),
        ls("bybit", NOW - DAY - HOUR, 0.6),
        ls("binance", NOW - HOUR, 0.72),
        ls("bybit", NOW - HOUR, 0.70),
    ]
    f = long_short_state("BTC", points, now=NOW)
    assert f.long_share == pytest.approx(0.71)
    assert f.prior_long_share == pytest.approx(0.6)
    assert f.change_pp == pytest.approx(11.0)
    assert f.crowded == "longs"
    assert long_short_state("BTC", [], now=NOW).insufficient is not None


# ---------------------------------------------------------------------------------------------
# Taker flow


def bar(market: Market, at: datetime, quote: float, taker_buy: float | None) -> Candle:
    return Candle.model_validate(
        {
            "coin": "BTC",
            "venue": "binance",
            "market": market,
            "interval": "1h",
            "open_time": at,
            "open": 1.0,
            "high": 1.0,
            "low": 1.0,
            "close": 1.0,
            "volume": quote,
            "quote_volume": quote,
            "taker_buy_quote": taker_buy,
        }
    )


def test_taker_flow_nets_buys_against_sells_and_finds_spot_led_selling() -> None:
    spot = [bar("spot", NOW - k * HOUR, 1000, 300) for k in range(24)]
    perp = [bar("perp", NOW - k * HOUR, 5000, 2450) for k in range(24)]
    old = [bar("spot", NOW - 3 * DAY, 1e9, 0)]
    f = taker_flow("BTC", [*spot, *old], perp, now=NOW, window=DAY)
    assert f.spot_net_usd == pytest.approx(-400 * 24)
    assert f.perp_net_usd == pytest.approx(-100 * 24)
    assert f.spot_volume_usd == 24_000
    assert f.perp_volume_usd == 120_000
    assert f.led_by == "spot"
    assert f.sources == ("binance perp", "binance spot")


def test_taker_flow_without_taker_volume_is_insufficient() -> None:
    f = taker_flow("BTC", [bar("spot", NOW, 1000, None)], [], now=NOW, window=DAY)
    assert f.insufficient is not None
    assert f.led_by is None


# ---------------------------------------------------------------------------------------------
# Regimes: DESIGN.md's table of open interest against price


@pytest.mark.parametrize(
    ("price", "oi_pct", "long_usd", "short_usd", "multiple", "spot", "perp", "label"),
    [
        (-5.0, -4.0, 9e6, 1e6, 4.0, None, None, "long liquidation cascade"),
        (-5.0, None, 9e6, 1e6, 4.0, None, None, "long liquidation cascade"),
        (-5.0, -4.0, 2e6, 1e6, 1.2, None, None, "deleveraging"),
        (-5.0, -4.0, 9e6, 1e6, None, None, None, "deleveraging"),  # no baseline: no spike claim
        (-5.0, 3.0, 1e6, 1e6, 1.0, None, None, "new shorts"),
        (-5.0, 5.0, 9e6, 1e6, 4.0, None, None, "long liquidation cascade"),  # forced exits lead
        (5.0, 3.0, 1e6, 1e6, 1.0, None, None, "new longs"),
        (5.0, -4.0, 1e6, 8e6, 3.0, None, None, "short squeeze"),
        (5.0, -4.0, 1e6, 1e6, 1.0, None, None, "short covering"),
        (-3.0, 0.2, 1e6, 1e6, 1.0, -5e6, -1e6, "spot-led selling"),
        (-3.0, 0.2, 1e6, 1e6, 1.0, -5e6, 2e6, "spot-led selling"),
        (3.0, -0.5, 1e6, 1e6, 1.0, 5e6, 1e6, "spot-led buying"),
        (-3.0, 0.0, 1e6, 1e6, 1.0, -1e6, -5e6, "no leverage signal"),  # perps led
        (-3.0, 0.2, 1e6, 1e6, 1.0, None, None, "no leverage signal"),
        (-5.0, None, None, None, None, None, None, "no leverage signal"),
        (0.4, -9.0, 9e6, 1e6, 9.0, None, None, "no leverage signal"),  # price barely moved
    ],
)
def test_classify_regime(
    price: float,
    oi_pct: float | None,
    long_usd: float | None,
    short_usd: float | None,
    multiple: float | None,
    spot: float | None,
    perp: float | None,
    label: RegimeLabel,
) -> None:
    r = classify_regime(
        price, oi_pct, long_usd, short_usd, multiple, spot_net_usd=spot, perp_net_usd=perp, coin="BTC"
    )
    assert r.label == label
    assert r.reasons
    assert r.insufficient is None
    assert r.price_change_pct == price
    assert r.oi_change_pct == oi_pct


def test_cascade_reasons_carry_the_numbers_and_the_broken_level() -> None:
    # the wording is the renderer's: tests/render/test_regime.py
    r = classify_regime(-6.0, -5.0, 9e6, 1e6, 4.0, broke_level=True)
    assert r.reasons == ("price", "forced_exits", "open_interest", "broke_level")
    assert r.price_change_pct == -6.0
    assert r.long_liq_usd == 9e6
    assert r.liq_side_share == pytest.approx(0.9)
    assert r.liq_multiple == 4.0
    assert r.oi_change_pct == -5.0


def test_regime_thresholds_come_from_config() -> None:
    assert classify_regime(-0.8, -2.0, None, None, None).label == "no leverage signal"
    cfg = RegimeConfig(price_move_pct=0.5)
    assert classify_regime(-0.8, -2.0, None, None, None, config=cfg).label == "deleveraging"


def test_regime_without_price_is_insufficient() -> None:
    r = classify_regime(None, -3.0, 1e6, 1e6, 1.0)
    assert r.label == "no leverage signal"
    assert r.insufficient is not None


def test_regime_from_findings_reads_the_findings_of_the_window() -> None:
    liqs = liquidation_window("BTC", [*BASELINE, *WINDOW], now=NOW, window=DAY, covered_since=NOW - 40 * DAY)
    oi_points = [oi("binance", NOW - DAY, 1e6), oi("binance", NOW, 0.9e6)]
    r = regime_from_findings(
        -4.0, oi=oi_change("BTC", oi_points, now=NOW, window=DAY), liquidations=liqs, coin="BTC"
    )
    assert r.label == "deleveraging"  # 2.9× baseline is below the cascade multiple
    assert r.oi_change_pct == pytest.approx(-10.0)
    assert r.liq_multiple == pytest.approx(140 / 48)
    assert r.sources == ("binance", "bybit", "okx")
    assert r.as_of == NOW
    stale = regime_from_findings(-4.0, oi=oi_change("BTC", [], now=NOW, window=DAY))
    assert stale.oi_change_pct is None
    assert stale.label == "no leverage signal"
