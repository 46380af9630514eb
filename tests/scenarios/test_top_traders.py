"""Top traders' positioning against all accounts, from a fresh store's ratios; absent data is
said so. The collector half (recorded payloads through the loopback venue) is in
tests/providers/test_binance.py and tests/e2e/test_collect_all.py."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest

from bot.analysis.positioning import top_traders_state
from bot.models import TopTraderRatio
from bot.store import Store
from tests.scenarios.day_one import TRACKED, DayOne, answer, at, text

NOW = at("2026-11-27", "15:00")
HOUR = timedelta(hours=1)


@pytest.fixture
def day(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DayOne]:
    s = Store(tmp_path_factory.mktemp("top") / "store.db")
    yield DayOne(s, NOW)
    s.close()


def ratios(basis: str, then: float, now: float) -> list[TopTraderRatio]:
    """Hourly points over 30 h, at ``then`` until a day ago and moving to ``now``."""
    out = []
    for h in range(30, -1, -1):
        share = then if h >= 24 else then + (now - then) * (24 - h) / 24
        out.append(
            TopTraderRatio(
                coin="BTC",
                venue="binance",
                basis=basis,
                ts=NOW.replace(minute=0) - HOUR * h,
                long_share=share,
            )  # type: ignore[arg-type]
        )
    return out


def test_top_traders_against_all_accounts_in_the_answer(day: DayOne) -> None:
    day.tickers({c: -5.0 for c in TRACKED})
    day.store.upsert_top_traders([*ratios("position", 0.64, 0.58), *ratios("account", 0.62, 0.61)])
    day.long_short("BTC", "binance", [(NOW - HOUR * h, 0.70) for h in range(30)])
    a = answer(day.store, NOW)
    t = a.inputs.top_traders
    assert t is not None
    assert t.position_long_share == pytest.approx(0.58)
    assert t.position_change_pp == pytest.approx(-6.0)
    assert t.gap_pp == pytest.approx(-12.0)
    out = text(a)
    assert (
        "Top traders 58% long by position (−6.0 pp in 24h), 61% by accounts (−1.0 pp in 24h) "
        "while 70% of all accounts are long. [Binance]"
    ) in out


def test_absent_top_trader_data_is_said_so(day: DayOne) -> None:
    day.tickers({c: -5.0 for c in TRACKED})
    out = text(answer(day.store, NOW))
    assert "Top traders: no top-trader ratios stored for BTC (Binance only)." in out


def test_stale_ratios_are_not_now() -> None:
    old = [TopTraderRatio(coin="BTC", venue="binance", basis="position", ts=NOW - HOUR * 7, long_share=0.5)]
    f = top_traders_state("BTC", old, now=NOW, window=timedelta(hours=24))
    assert not f.ok
    one = top_traders_state("BTC", ratios("position", 0.6, 0.55)[-3:], now=NOW, window=timedelta(hours=24))
    assert one.position_long_share == pytest.approx(0.55)
    assert one.position_change_pp is None  # no point a day back: no change claimed
    assert one.account_long_share is None
