from __future__ import annotations

import statistics

import pytest

from bot.analysis.breadth import breadth, breadth_from_tickers
from bot.analysis.findings import Caveat
from bot.models import Ticker
from tests.analysis import NOW

SELLOFF = {"BTC": -3.0, "ETH": -4.0, "SOL": -5.0, "XRP": -3.5, "BNB": -2.0, "DOGE": -4.5, "ADA": 0.05}


def test_counts_median_dispersion_and_majors_in_fixed_order() -> None:
    b = breadth(SELLOFF, window="24h", as_of=NOW, sources=["binance"])
    assert b.insufficient is None
    assert (b.n, b.n_down, b.n_up, b.n_flat) == (7, 6, 0, 1)
    assert b.share_down == pytest.approx(6 / 7)
    assert b.median_pct == pytest.approx(-3.5)
    assert b.dispersion_pct == pytest.approx(statistics.pstdev(SELLOFF.values()))
    assert [(m.coin, m.change_pct) for m in b.majors] == [
        ("BTC", -3.0),
        ("ETH", -4.0),
        ("SOL", -5.0),
        ("BNB", -2.0),
        ("XRP", -3.5),
    ]
    assert b.window == "24h"
    assert b.as_of == NOW
    assert b.sources == ("binance",)


def test_cap_weighted_move_uses_the_caps_given_and_says_how_many() -> None:
    caps = {"BTC": 1000.0, "ETH": 400.0, "SOL": 100.0}
    b = breadth(SELLOFF, window="24h", as_of=NOW, market_caps=caps)
    assert b.cap_weighted_pct == pytest.approx((-3.0 * 1000 - 4.0 * 400 - 5.0 * 100) / 1500)
    assert b.n_capped == 3
    assert b.notes == (Caveat(code="partly_capped", count=3, of=7),)
    assert breadth(SELLOFF, window="24h", as_of=NOW).cap_weighted_pct is None


def test_alts_following_btc_by_their_betas_is_btc_led() -> None:
    betas = {"ETH": 1.3, "SOL": 1.6, "XRP": 1.2, "BNB": 0.8, "DOGE": 1.5, "ADA": 1.2}
    changes = {"BTC": -3.0, **{c: -3.0 * beta for c, beta in betas.items()}}
    b = breadth(changes, window="24h", as_of=NOW, betas=betas)
    assert b.led_by == "BTC"
    assert b.alts_expected_pct == pytest.approx(-3.0 * 1.25)
    assert b.lead == "alts_followed"  # worded in tests/render/test_breadth.py


def test_btc_moving_most_on_its_own_is_btc_led() -> None:
    b = breadth({"BTC": -4.0, "ETH": -1.0, "SOL": -0.5, "XRP": -1.2}, window="24h", as_of=NOW)
    assert b.led_by == "BTC"


def test_alts_falling_well_beyond_btc_is_alt_led() -> None:
    b = breadth({"BTC": -1.0, "ETH": -6.0, "SOL": -8.0, "XRP": -7.0}, window="24h", as_of=NOW)
    assert b.led_by == "alts"
    assert b.alts_median_pct == pytest.approx(-7.0)


def test_alts_moving_while_btc_is_flat_is_alt_led() -> None:
    b = breadth({"BTC": 0.1, "ETH": 3.0, "SOL": 4.0, "XRP": 2.5}, window="24h", as_of=NOW)
    assert b.led_by == "alts"


def test_btc_and_alts_going_opposite_ways_is_mixed() -> None:
    b = breadth({"BTC": -3.0, "ETH": 2.0, "SOL": 2.5, "XRP": 1.5}, window="24h", as_of=NOW)
    assert b.led_by == "mixed"


def test_a_quiet_market_is_mixed() -> None:
    b = breadth({"BTC": 0.05, "ETH": -0.2, "SOL": 0.3, "XRP": 0.0}, window="1h", as_of=NOW)
    assert b.led_by == "mixed"
    assert b.n_flat == 2


def test_without_btc_there_is_no_leader() -> None:
    b = breadth({"ETH": -3.0, "SOL": -4.0, "XRP": -2.0}, window="24h", as_of=NOW)
    assert b.led_by is None
    assert b.lead == "no_btc"
    assert b.median_pct == pytest.approx(-3.0)


def test_too_few_coins_is_insufficient() -> None:
    b = breadth({"BTC": -3.0, "ETH": float("nan")}, window="24h", as_of=NOW)
    assert b.insufficient is not None
    assert b.n == 1
    assert b.median_pct is None
    assert b.led_by is None


def _ticker(coin: str, change: float | None, venue: str = "binance", cap: float | None = None) -> Ticker:
    return Ticker(
        coin=coin, venue=venue, market="spot", price=1.0, change_24h_pct=change, market_cap=cap, ts=NOW
    )


def test_from_tickers_takes_the_first_ticker_per_coin() -> None:
    tickers = [
        _ticker("BTC", -2.0, cap=1000),
        _ticker("BTC", -9.0, venue="coingecko"),
        _ticker("ETH", -3.0, cap=400),
        _ticker("SOL", None),
        _ticker("SOL", -4.0, venue="coingecko"),
    ]
    b = breadth_from_tickers(tickers)
    assert [(m.coin, m.change_pct) for m in b.majors] == [("BTC", -2.0), ("ETH", -3.0), ("SOL", -4.0)]
    assert b.sources == ("binance", "coingecko")
    assert b.n_capped == 2
    assert b.cap_weighted_pct == pytest.approx((-2.0 * 1000 - 3.0 * 400) / 1400)
    assert b.window == "24h"
    assert b.as_of == NOW
