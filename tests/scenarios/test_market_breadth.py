"""The market answer always shows the market: the majors side by side, how many tracked coins
fell and rose, median and cap-weighted moves and the total market cap change — a driver when
the move is broad by market cap, context otherwise. Fresh store, no history beyond prices."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from bot.analysis.findings import Caveat
from bot.render.caveats import gap_text
from bot.store import Store
from tests.scenarios.day_one import TRACKED, DayOne, answer, at, text

NOW = at("2026-11-27", "15:00")
MAJORS_FELL = {"BTC": -3.0, "ETH": -4.0, "SOL": -5.0, "BNB": -2.5, "XRP": -3.5}


@pytest.fixture
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DayOne]:
    s = Store(tmp_path_factory.mktemp("breadth") / "store.db")
    yield DayOne(s, NOW)
    s.close()


def test_majors_falling_with_small_coins_flat_is_a_broad_decline_by_market_cap(day: DayOne) -> None:
    day.tickers({c: MAJORS_FELL.get(c, 0.0) for c in TRACKED})
    day.global_stats(2.9e12, -2.8)
    a = answer(day.store, NOW)
    b = a.inputs.breadth
    assert b is not None
    assert (b.n_down, b.n_up) == (5, 0)  # by count the move is narrow…
    assert (b.cap_share_down or 0) > 0.9  # …by market cap it is the market
    assert a.drivers[0].kind == "breadth"
    out = text(a)
    assert "a broad, market-wide decline" in out.splitlines()[0]
    assert "BTC −3.0%, ETH −4.0%, SOL −5.0%, BNB −2.5%, XRP −3.5%" in out
    assert "5 of 20 tracked coins fell, 0 rose (median 0.0%, cap-weighted −3.1%)" in out
    assert "total market cap −2.8% in 24h to $2.90T (CoinGecko)" in out
    assert "BTC −3.0% while the alts barely moved (0.0% median against −3.0% expected" in out
    assert "followed" not in out


def test_small_coins_falling_alone_is_context_with_the_majors_shown(day: DayOne) -> None:
    moves = {c: -6.0 for c in TRACKED} | {"BTC": -0.6, "ETH": 0.4, "SOL": 0.2, "BNB": 0.3, "XRP": -0.2}
    day.tickers(moves)
    day.global_stats(2.9e12, -0.7)
    a = answer(day.store, NOW)
    b = a.inputs.breadth
    assert b is not None
    assert b.n_down == 17  # most coins fell, yet by cap the market barely moved
    assert "breadth" not in [d.kind for d in a.drivers]
    out = text(a)
    assert "\nMarket\nBTC −0.6%, ETH +0.4%, SOL +0.2%, BNB +0.3%, XRP −0.2%" in out
    assert "17 of 20 tracked coins fell" in out
    assert "total market cap −0.7% in 24h" in out


def test_a_quiet_market_still_shows_the_market(day: DayOne) -> None:
    day.tickers({c: 0.2 for c in TRACKED})
    a = answer(day.store, NOW)
    assert a.quiet
    out = text(a)
    assert "Market\nBTC +0.2%, ETH +0.2%, SOL +0.2%, BNB +0.2%, XRP +0.2%" in out
    assert "total market cap: no global market figures stored yet" in out


def test_other_windows_take_the_total_cap_from_stored_snapshots_or_say_so(day: DayOne) -> None:
    day.tickers({c: -1.0 for c in TRACKED})
    day.global_stats(2.9e12, -2.8)
    a = answer(day.store, NOW, window="4h")
    assert a.inputs.market_cap is not None
    assert a.inputs.market_cap.insufficient == Caveat(code="no_cap_then", window="4h")
    assert gap_text(a.inputs.market_cap.insufficient, "") == "no total market cap stored 4h back"
