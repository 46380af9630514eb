"""Coin-specific without a good β fit: with R² ≈ 0 (a new listing, an idiosyncratic coin) or
no hourly history at all, a coin −14% in a flat market is its own story, benchmarked against
the market and saying why β was not used; a coin that fell with every other alt is not."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.store import Store
from tests.scenarios.day_one import TRACKED, DayOne, answer, at, text, walk

NOW = at("2026-11-27", "15:00")
FLAT = {c: 0.0 for c in TRACKED} | {"BTC": 0.3, "ETH": 0.2, "BNB": -0.1, "XRP": 0.1, "SOL": -14.0}


@pytest.fixture
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DayOne]:
    s = Store(tmp_path_factory.mktemp("coin") / "store.db")
    yield DayOne(s, NOW)
    s.close()


def with_uncorrelated_history(day: DayOne) -> None:
    n = 32 * 24
    day.hourly("BTC", walk(n, 87000, 0.006, seed=1))
    day.hourly("SOL", walk(n, 200, 0.012, seed=2))  # its own path: R² ≈ 0
    day.open_interest("SOL", 4e9, -14.0, -20.0)  # open interest fell with the price


def test_a_coin_crash_in_a_flat_market_with_r2_near_zero_is_its_own_story(day: DayOne) -> None:
    day.tickers(FLAT)
    with_uncorrelated_history(day)
    a = answer(day.store, NOW, "SOL")
    beta = a.inputs.beta
    assert beta is not None
    assert beta.r2 is not None
    assert beta.r2 < 0.05
    assert a.drivers[0].kind == "coin_specific"
    bench = a.inputs.benchmark
    assert bench is not None
    assert bench.basis == "market"
    out = text(a)
    assert out.splitlines()[0].startswith("SOL −14.0% in 24h: a SOL-specific drop")
    assert "leverage unwinding" not in out.splitlines()[0].split(":")[1].split(" with ")[0]
    assert f"β unreliable: R² {beta.r2:.2f} over 30 d" in out
    assert (
        "SOL moved −14.0% while the market moved +0.2% (cap-weighted over 19 other tracked coins, median 0.0%)"
        in out
    )
    assert "and BTC +0.3%" in out


def test_without_any_history_the_obvious_driver_is_still_named(day: DayOne) -> None:
    day.tickers(FLAT)
    a = answer(day.store, NOW, "SOL")
    assert a.drivers[0].kind == "coin_specific"
    assert "β unreliable: only 0 aligned hourly returns in 30d (need 540)" in text(a)


def test_a_coin_that_fell_with_every_other_alt_is_not_its_own_story(day: DayOne) -> None:
    day.tickers({c: -7.0 for c in TRACKED} | {"BTC": -5.0, "SOL": -8.0})
    with_uncorrelated_history(day)
    a = answer(day.store, NOW, "SOL")
    assert "coin_specific" not in [d.kind for d in a.drivers]
    assert "breadth" in [d.kind for d in a.drivers]
