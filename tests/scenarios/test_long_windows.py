"""Long windows at any hour: a 30-day (and 7-day) open-interest change on a fresh store whose
history is the collector's backfill (daily points at 00:00 UTC, hourly for two days, a live
point a minute old) exists at every time of day and says the span it used."""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.analysis.findings import Caveat
from bot.analysis.open_interest import oi_change
from bot.models import OpenInterest
from bot.render.caveats import gap_text
from bot.render.drivers import span_days
from bot.services.why import MARKET, coin_oi, market_oi
from bot.store import Store

DAY = timedelta(days=1)
HOUR = timedelta(hours=1)
MONTH = timedelta(days=30)
WEEK = timedelta(days=7)
VENUES = ("binance", "bybit", "okx")
TIMES = ("00:30", "06:00", "12:00", "17:41", "18:07", "23:50")


def oi_path(t: datetime, now: datetime, level: float) -> float:
    """Open interest falling steadily by 34% over the 30 days to ``now``."""
    frac = (t - (now - MONTH)) / MONTH
    return level * math.exp(math.log(0.66) * frac)


def backfilled(store: Store, coin: str, now: datetime, level: float) -> None:
    """What `collect --once` leaves: 31 daily points, 48 hourly points and a live one."""
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    stamps = {today - DAY * k for k in range(31)}
    stamps |= {now.replace(minute=0, second=0, microsecond=0) - HOUR * k for k in range(48)}
    stamps.add(now - timedelta(minutes=1))
    store.upsert_open_interest(
        OpenInterest(coin=coin, venue=v, ts=t, oi_usd=oi_path(t, now, level))  # type: ignore[arg-type]
        for v in VENUES
        for t in stamps
        if t <= now
    )


def at(clock: str, day: datetime = datetime(2026, 11, 27, tzinfo=UTC)) -> datetime:
    h, m = map(int, clock.split(":"))
    return day + timedelta(hours=h, minutes=m)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store(tmp_path_factory.mktemp("long") / "store.db")
    yield s
    s.close()


@pytest.mark.parametrize("clock", TIMES)
def test_a_coins_30_day_change_exists_at_every_hour(store: Store, clock: str) -> None:
    now = at(clock)
    backfilled(store, "SOL", now, 5e9)
    points = coin_oi(store, "SOL", now, (timedelta(hours=24), MONTH, WEEK))
    month = oi_change("SOL", points, now=now, window=MONTH)
    assert month.ok, month.insufficient
    assert month.venues == VENUES
    assert month.span_days is not None
    assert 29.5 <= month.span_days <= 30.5
    expected = (
        oi_path(now - timedelta(minutes=1), now, 1) / oi_path(now - month.span_days * DAY, now, 1) - 1
    ) * 100
    assert month.change_pct == pytest.approx(expected, abs=0.2)
    assert span_days(month) == f"{month.span_days:.1f} d"
    week = oi_change("SOL", points, now=now, window=WEEK)
    assert week.ok, week.insufficient
    assert week.span_days is not None
    assert 6.5 <= week.span_days <= 7.5


@pytest.mark.parametrize("clock", TIMES)
def test_the_markets_30_day_change_exists_at_every_hour(store: Store, clock: str) -> None:
    now = at(clock)
    for coin, level in (("BTC", 3e10), ("ETH", 1.2e10), ("SOL", 5e9)):
        backfilled(store, coin, now, level)
    points = market_oi(store, ["BTC", "ETH", "SOL"], now, (timedelta(hours=24), MONTH))
    month = oi_change(MARKET, points, now=now, window=MONTH)
    assert month.ok, month.insufficient
    assert month.change_pct == pytest.approx(-34, abs=1.5)
    assert month.span_days is not None
    assert 29.5 <= month.span_days <= 30.5
    day = oi_change(MARKET, points, now=now, window=timedelta(hours=24))
    assert day.ok
    assert day.span_days == pytest.approx(1.0, abs=0.05)


def test_the_span_said_is_the_span_used_17_41_vs_18_07(store: Store) -> None:
    """The issue's pair: missing at 17:41 and present at 18:07 before; now both, each with
    the daily point nearest its own target."""
    spans = []
    for clock in ("17:41", "18:07"):
        now = at(clock)
        backfilled(store, "SOL", now, 5e9)
        month = oi_change("SOL", coin_oi(store, "SOL", now, (MONTH,)), now=now, window=MONTH)
        assert month.by_venue
        starts = {v.start for v in month.by_venue}
        assert starts == {at("00:00") - DAY * 29}  # the nearest daily point to 30 days ago
        spans.append(month.span_days)
    assert spans[0] == pytest.approx((at("17:40") - (at("00:00") - DAY * 29)) / DAY)


def test_history_too_short_is_said_not_stretched(store: Store) -> None:
    now = at("12:00")
    store.upsert_open_interest(
        OpenInterest(coin="SOL", venue="binance", ts=now - DAY * k, oi_usd=1e9) for k in range(20)
    )
    month = oi_change("SOL", coin_oi(store, "SOL", now, (MONTH,)), now=now, window=MONTH)
    assert not month.ok
    assert month.insufficient == Caveat(code="no_oi_back", window="30d")
    assert gap_text(month.insufficient, "") == "no venue has open interest 30d back"
