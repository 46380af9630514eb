"""Macro by session, not by keyhole: asked on a Saturday after a Friday equity sell-off with a
VIX spike — when only the last 2.5 hours of Friday's US session (a bounce) fall inside the
24h window and the European sessions closed before it — the answer names Friday's shock,
close to close, with the session's day; on Sunday it still does, weighted down."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.analysis.sessions import CALENDARS, bounds
from bot.store import Store
from tests.scenarios.day_one import TRACKED, DayOne, answer, at, text

FRIDAY = date(2026, 12, 4)
WEEK = [FRIDAY - timedelta(days=k) for k in (7, 6, 5, 4, 3, 0)]  # Thu 26 Nov … Fri 4 Dec (weekdays)
# Friday's session close to close, and the previous sessions flat
FRIDAY_MOVES = {"spx": -2.7, "ndx": -3.2, "vix": 32.0, "dxy": 0.4, "us10y": 1.5, "sx5e": -1.3, "dax": -1.5}
LEVELS = {
    "spx": 6000.0,
    "ndx": 21000.0,
    "vix": 16.0,
    "dxy": 100.0,
    "us10y": 4.2,
    "sx5e": 5000.0,
    "dax": 19000.0,
}
CRYPTO = {c: -4.5 for c in TRACKED} | {"BTC": -4.0, "ETH": -5.0}


def sessions_days() -> list[date]:
    d0 = FRIDAY - timedelta(days=11)
    return [d0 + timedelta(days=k) for k in range(12) if (d0 + timedelta(days=k)).weekday() < 5]


def friday_shock(day: DayOne) -> None:
    """Daily closes for two weeks (flat, then Friday's move), and Friday's US session hourly:
    the fall in the morning, a bounce of the last 2.5 hours."""
    for series, level in LEVELS.items():
        cal = CALENDARS["eu" if series in ("sx5e", "dax") else "us"]
        daily = []
        for d in sessions_days():
            close = level * (1 + FRIDAY_MOVES[series] / 100) if d == FRIDAY else level
            daily.append((datetime(d.year, d.month, d.day, tzinfo=UTC), close))
        day.macro(series, "1d", daily)
        opens, closes = bounds(FRIDAY, cal)
        hourly, t = [], opens
        low = level * (1 + 1.6 * FRIDAY_MOVES[series] / 100)  # the intraday extreme
        while t < closes:
            frac = (t - opens) / (closes - opens)
            bounce = closes - t <= timedelta(hours=2, minutes=30)
            value = (
                low + (level * (1 + FRIDAY_MOVES[series] / 100) - low) * frac
                if bounce
                else level + (low - level) * frac
            )
            hourly.append((t, value))
            t += timedelta(hours=1)
        hourly[-1] = (hourly[-1][0], level * (1 + FRIDAY_MOVES[series] / 100))  # the close
        day.macro(series, "1h", hourly)


@pytest.fixture
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    s = Store(tmp_path_factory.mktemp("macro") / "store.db")
    yield s
    s.close()


@pytest.mark.parametrize(
    "now", [at("2026-12-05", "18:30"), at("2026-12-05", "09:00"), at("2026-12-06", "15:00")]
)
def test_a_weekend_move_after_a_friday_shock_names_the_shock(store: Store, now: datetime) -> None:
    day = DayOne(store, now)
    day.tickers(CRYPTO)
    friday_shock(day)
    a = answer(store, now)
    m = a.inputs.macro
    assert m is not None
    assert m.verdict == "risk_off"
    spx = next(mv for mv in m.moves if mv.series == "spx")
    assert (spx.first_session, spx.last_session) == (FRIDAY, FRIDAY)
    assert spx.change_pct == pytest.approx(-2.7)  # the session, not its last 2.5 hours
    assert "macro" in [d.kind for d in a.drivers]
    out = text(a)
    assert "macro risk-off" in out.splitlines()[0]
    assert (
        "Fri: S&P 500 −2.7%, Nasdaq 100 −3.2%, US dollar index +0.4%, US 10-year yield +1.5%, VIX +32.0%; Euro Stoxx 50 −1.3%, DAX −1.5%"
        in out
    )


def test_the_shock_weighs_less_as_it_ages(store: Store) -> None:
    scores = []
    for now in (at("2026-12-05", "18:30"), at("2026-12-06", "15:00"), at("2026-12-07", "06:00")):
        day = DayOne(store, now)
        day.tickers(CRYPTO)
        friday_shock(day)
        a = answer(store, now)
        scores.append(next((d.score for d in a.drivers if d.kind == "macro"), 0.0))
    assert scores[0] > scores[1] > scores[2]
