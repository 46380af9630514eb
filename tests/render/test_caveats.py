"""Why a finding has no numbers, in words: the analysis gives each gap and caveat as a
:class:`Caveat` (its code and numbers) and :mod:`bot.render.caveats` words it. The wording
asserts the analysis tests used to make on the findings' strings live here, on the same
scenarios, with the same text; the table below holds every code's exact wording."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import get_args

import numpy as np
import pytest

from bot.analysis.benchmark import beta_unreliable, market_benchmark
from bot.analysis.beta import BetaConfig, beta_to_btc
from bot.analysis.breadth import breadth
from bot.analysis.findings import MARKET, BetaResult, Caveat, CaveatCode
from bot.analysis.levels import find_levels
from bot.analysis.liquidations import liquidation_window
from bot.analysis.macro import macro_moves
from bot.analysis.open_interest import oi_change
from bot.render.caveats import _WORDS, caveat_text, coin_name, gap_text, notes_text
from tests.analysis import DAY, HOUR, NOW, candles_from_closes, zigzag
from tests.analysis.test_beta import N, _hourly, _paths
from tests.analysis.test_derivatives import WINDOW, oi
from tests.analysis.test_levels import RANGE
from tests.analysis.test_macro import SESSIONS, TUE_AFTERNOON, series

# Every code with the numbers its analysis sets, and the words it had as a string.
TABLE: list[tuple[Caveat, str]] = [
    (
        Caveat(code="few_returns", count=239, days=30.0, need=540),
        "only 239 aligned hourly returns in 30d (need 540)",
    ),
    (Caveat(code="did_not_move", coin="USDT", days=30.0), "USDT did not move in 30d"),
    (
        Caveat(code="no_move_window", window="60d"),
        "no aligned bars 60d before the latest to measure the move",
    ),
    (Caveat(code="unscalable_move", pct=-100.0), "BTC move -100.0% cannot be scaled by beta"),
    (
        Caveat(code="weak_r2", r2=0.0412, coin="XYZ"),
        "R² 0.04: BTC explains little of XYZ's moves; β is a weak guide",
    ),
    (Caveat(code="no_beta"), "no β to BTC"),
    (Caveat(code="low_r2", r2=0.04, days=30.0), "R² 0.04 over 30 d"),
    (Caveat(code="no_coin_move", window="4h", coin="SOL"), "no 4h move for SOL"),
    (Caveat(code="no_peers"), "no peer moves"),
    (Caveat(code="no_market_move"), "no market move"),
    (
        Caveat(code="few_bars", count=10, hourly=0, need=30, need_hourly=200),
        "only 10 daily and 0 hourly bars (need 30 daily or 200 hourly)",
    ),
    (Caveat(code="no_atr"), "no price range to measure volatility (ATR)"),
    (Caveat(code="hourly_only", count=3), "levels from hourly bars only (3 daily bars)"),
    (Caveat(code="daily_only", hourly=12), "levels from daily bars only (12 hourly bars)"),
    (Caveat(code="no_ma200", count=120), "no 200-day average (120 daily bars)"),
    (Caveat(code="no_swings"), "no swing highs or lows yet"),
    (Caveat(code="no_swings_near", pct=25.0), "no swing highs or lows within 25% of the price"),
    (Caveat(code="no_zone_near", pct=12.5), "no zone strong enough within 12.5% of the price"),
    (Caveat(code="no_liquidations", coin="BTC"), "no liquidation data for BTC"),
    (Caveat(code="no_liquidations", coin=MARKET), "no liquidation data for all coins"),
    (
        Caveat(code="partly_covered", span=timedelta(hours=6), window="24h"),
        "liquidations only covered for the last 6 h of the 24h window",
    ),
    (Caveat(code="empty_baseline", days=29.96), "no liquidations in the 30.0d baseline"),
    (
        Caveat(code="no_baseline", span=timedelta(hours=23, minutes=40)),
        "no baseline: 24h of history before the window",
    ),
    (Caveat(code="no_baseline", span=timedelta(0)), "no baseline: 0h of history before the window"),
    (Caveat(code="few_coins", count=1, need=3), "changes for only 1 coins (need 3)"),
    (
        Caveat(code="partly_capped", count=3, of=7),
        "cap-weighted move over the 3 of 7 coins with a market cap",
    ),
    (Caveat(code="no_global"), "no global market figures stored yet"),
    (Caveat(code="no_cap_then", window="4h"), "no total market cap stored 4h back"),
    (Caveat(code="no_taker_volume"), "no bars with taker volume in the window"),
    (Caveat(code="no_taker_market", market="spot"), "no spot bars with taker volume"),
    (Caveat(code="no_oi", coin="BTC"), "no open-interest data for BTC"),
    (Caveat(code="no_oi", coin=MARKET), "no open-interest data for all coins"),
    (Caveat(code="stale_oi", span=timedelta(hours=5)), "latest open interest is from 5 h ago"),
    (Caveat(code="venue_no_recent", venue="okx"), "okx left out of the total: no recent value"),
    (Caveat(code="venue_no_start", venue="okx", window="24h"), "okx left out of the total: no value 24h ago"),
    (Caveat(code="no_oi_back", window="30d"), "no venue has open interest 30d back"),
    (Caveat(code="no_top_traders", coin="ETH"), "no top-trader ratios stored for ETH"),
    (Caveat(code="no_funding", coin="ETH", window="12h"), "no funding rate for ETH in the last 12h"),
    (Caveat(code="no_long_short", coin="ETH"), "no long/short ratio for ETH"),
    (Caveat(code="no_price_change"), "no price change for the window"),
    (Caveat(code="stale_close", span=timedelta(days=6)), "latest close is from 6 d ago"),
    (Caveat(code="one_close"), "only one close"),
    (Caveat(code="no_session_before"), "no session before the window"),
    (Caveat(code="no_close_before", day=date(2026, 11, 23)), "no close before the Mon 23 Nov session"),
    (
        Caveat(code="session_before_window", series="S&P 500", day=date(2026, 11, 20)),
        "S&P 500: no session in the window; the last one, Fri 20 Nov, closed before it",
    ),
    (Caveat(code="one_close", series="US dollar index"), "US dollar index: only one close"),
    (Caveat(code="no_macro_move"), "no macro series with a usable move"),
]


@pytest.mark.parametrize(("caveat", "words"), TABLE)
def test_every_code_is_worded_as_before(caveat: Caveat, words: str) -> None:
    assert caveat_text(caveat) == words


def test_every_code_has_words_and_a_row() -> None:
    codes = set(get_args(CaveatCode))
    assert set(_WORDS) == codes
    assert {c.code for c, _ in TABLE} == codes


def test_a_gap_falls_back_only_when_the_finding_gives_none() -> None:
    assert gap_text(None, "no data") == "no data"
    assert gap_text(Caveat(code="no_global"), "no data") == "no global market figures stored yet"
    assert coin_name(MARKET) == "all coins"
    assert coin_name("SOL") == "SOL"


# ---------------------------------------------------------------------------------------------
# Moved from tests/analysis: the same scenarios, the same words


def test_beta_notes_and_gaps_in_words() -> None:
    rng = np.random.default_rng(9)
    btc = (60_000 * np.exp(np.cumsum(rng.normal(0, 0.005, N)))).tolist()
    other = (2 * np.exp(np.cumsum(rng.normal(0, 0.01, N)))).tolist()
    r = beta_to_btc("XYZ", _hourly(other, "XYZ"), _hourly(btc, "BTC"), now=NOW)
    assert any("explains little" in n for n in notes_text(r.notes))

    btc_p, sol = _paths(beta=1.5, noise=0.002, n=24 * 10)
    short = beta_to_btc("SOL", _hourly(sol, "SOL"), _hourly(btc_p, "BTC"), now=NOW)
    assert "need 540" in gap_text(short.insufficient, "")

    btc_p, sol = _paths(beta=1.5, noise=0.002)
    flat = beta_to_btc("USDT", _hourly([1.0] * N, "USDT"), _hourly(btc_p, "BTC"), now=NOW)
    assert gap_text(flat.insufficient, "") == "USDT did not move in 30d"

    long = beta_to_btc(
        "SOL",
        _hourly(sol, "SOL"),
        _hourly(btc_p, "BTC"),
        now=NOW,
        move_window=timedelta(days=60),
        config=BetaConfig(window_days=30),
    )
    assert any("60d" in n for n in notes_text(long.notes))


@pytest.mark.parametrize(("covered", "words"), [(timedelta(minutes=2), "2 min"), (3 * HOUR, "3 h")])
def test_short_coverage_reads_in_human_units(covered: timedelta, words: str) -> None:
    f = liquidation_window("BTC", WINDOW, now=NOW, window=HOUR, covered_since=NOW - covered)
    notes = notes_text(f.notes)
    assert f"liquidations only covered for the last {words} of the 1h window" in notes or covered >= HOUR
    assert not any("0.0h" in n for n in notes)


def test_liquidation_gaps_in_words() -> None:
    partly = notes_text(
        liquidation_window("BTC", WINDOW, now=NOW, window=DAY, covered_since=NOW - 6 * HOUR).notes
    )
    assert any("last 6 h of the 24h window" in n for n in partly)
    assert any(n.startswith("no baseline") for n in partly)
    short = liquidation_window("BTC", WINDOW, now=NOW, window=DAY, covered_since=NOW - 2 * DAY)
    assert any("24h of history" in n for n in notes_text(short.notes))
    assert gap_text(liquidation_window("BTC", [], now=NOW, window=DAY).insufficient, "") == (
        "no liquidation data for BTC"
    )
    quiet = liquidation_window("BTC", [], now=NOW, window=DAY, covered_since=NOW - 40 * DAY)
    assert any("no liquidations in the" in n for n in notes_text(quiet.notes))


def test_open_interest_gaps_in_words() -> None:
    points = [
        *(oi("binance", NOW - k * HOUR, 1_000_000 - (24 - k) * 100_000 / 24) for k in range(0, 25)),
        oi("bybit", NOW - DAY + timedelta(minutes=20), 500_000),
        oi("bybit", NOW - timedelta(minutes=5), 550_000),
        oi("okx", NOW - 2 * HOUR, 300_000),
        oi("okx", NOW, 280_000),
    ]
    assert any("okx" in n for n in notes_text(oi_change("BTC", points, now=NOW, window=DAY).notes))
    stale = [oi("binance", NOW - 5 * HOUR - k * HOUR, 1e6) for k in range(30)]
    assert "5 h ago" in gap_text(oi_change("BTC", stale, now=NOW, window=DAY).insufficient, "")
    assert (
        gap_text(oi_change("BTC", [], now=NOW, window=DAY).insufficient, "")
        == "no open-interest data for BTC"
    )


def test_breadth_and_levels_caveats_in_words() -> None:
    selloff = {"BTC": -3.0, "ETH": -4.0, "SOL": -5.0, "XRP": -3.5, "BNB": -2.0, "DOGE": -4.5, "ADA": 0.05}
    caps = {"BTC": 1000.0, "ETH": 400.0, "SOL": 100.0}
    b = breadth(selloff, window="24h", as_of=NOW, market_caps=caps)
    assert any("3 of 7" in n for n in notes_text(b.notes))

    few = find_levels("BTC", 100.0, candles_from_closes(RANGE[:10]), [], now=NOW)
    assert "10 daily" in gap_text(few.insufficient, "")
    path = zigzag([100, 95, 105, 95, 104, 100], legs=12)
    hourly = find_levels("BTC", 100.0, [], candles_from_closes(path, step=HOUR, interval="1h"), now=NOW)
    assert any("hourly bars only" in n for n in notes_text(hourly.notes))


def test_macro_gaps_in_words() -> None:
    closes = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]
    sun = macro_moves(
        series("spx", closes, SESSIONS), now=datetime(2026, 11, 22, 15, 0, tzinfo=UTC), window=DAY
    )
    assert any("closed before it" in n for n in notes_text(sun.notes))

    stale = series("spx", [100, 99], SESSIONS[:2])
    short = series("dxy", [100], SESSIONS[6:7])
    late = series("vix", [20, 25], SESSIONS[6:8])
    f = macro_moves([*stale, *short, *late], now=TUE_AFTERNOON + DAY, window=DAY * 3)
    moves = {m.series: m for m in f.moves}
    assert "ago" in gap_text(moves["spx"].insufficient, "")
    assert gap_text(moves["dxy"].insufficient, "") == "only one close"
    assert "no close before" in gap_text(moves["vix"].insufficient, "")
    assert [n.split(":")[0] for n in notes_text(f.notes)] == ["S&P 500", "US dollar index", "VIX"]


def test_why_beta_is_unreliable_in_words() -> None:
    assert caveat_text(beta_unreliable(None, 0.2) or Caveat(code="no_peers")) == "no β to BTC"
    weak = BetaResult(coin="SOL", window_days=30, move_window="24h", beta=0.3, r2=0.04, n_obs=700)
    assert caveat_text(beta_unreliable(weak, 0.2) or Caveat(code="no_peers")) == "R² 0.04 over 30 d"
    bench = market_benchmark("SOL", "24h", None, None, weak)
    assert gap_text(bench.insufficient, "") == "no 24h move for SOL"
    assert gap_text(bench.beta_reason, "") == "R² 0.04 over 30 d"
