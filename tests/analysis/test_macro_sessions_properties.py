"""Property: a window's macro move never comes from part of a session. Whatever the time and
the window, each move runs from a session's close to a later session's close (or, while a
session trades, to its latest price), with daily bars, hourly bars or both."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analysis.macro import macro_moves
from bot.analysis.sessions import CALENDARS, bounds
from bot.models import MacroPoint

FIRST = date(2026, 11, 30)  # a Monday
DAYS = [FIRST + timedelta(days=k) for k in range(12) if (FIRST + timedelta(days=k)).weekday() < 5]
WINDOWS = [timedelta(hours=1), timedelta(hours=4), timedelta(hours=24), timedelta(days=7)]


def bars(
    paths: list[list[float]], with_daily: bool, with_hourly: bool
) -> tuple[list[MacroPoint], dict[date, float]]:
    """US-session hourly bars per day along ``paths`` (the close of each hour) and a daily bar
    stamped at 00:00 UTC of the day closing at the last hourly close."""
    out: list[MacroPoint] = []
    closes: dict[date, float] = {}
    for day, path in zip(DAYS, paths, strict=False):
        opens, _ = bounds(day, CALENDARS["us"])
        for h, c in enumerate(path):
            if with_hourly:
                out.append(
                    MacroPoint(
                        series="spx",
                        symbol="^GSPC",
                        source="yahoo",
                        interval="1h",
                        ts=opens + timedelta(hours=h),
                        close=c,
                    )
                )
        closes[day] = path[-1]
        if with_daily:
            stamp = datetime(day.year, day.month, day.day, tzinfo=UTC)
            out.append(
                MacroPoint(
                    series="spx", symbol="^GSPC", source="yahoo", interval="1d", ts=stamp, close=path[-1]
                )
            )
    return out, closes


@settings(max_examples=300, deadline=None)
@given(
    paths=st.lists(
        st.lists(st.floats(50, 150), min_size=7, max_size=7), min_size=len(DAYS), max_size=len(DAYS)
    ),
    minutes=st.integers(3 * 24 * 60, 16 * 24 * 60),
    window=st.sampled_from(WINDOWS),
    kinds=st.sampled_from([(True, True), (True, False), (False, True)]),
)
def test_moves_run_close_to_close(
    paths: list[list[float]], minutes: int, window: timedelta, kinds: tuple[bool, bool]
) -> None:
    now = datetime(FIRST.year, FIRST.month, FIRST.day, tzinfo=UTC) + timedelta(minutes=minutes)
    points, closes = bars(paths, *kinds)
    f = macro_moves(points, now=now, window=window, series=("spx",))
    for m in f.moves:
        if m.change_pct is None:
            continue
        session_closes = {bounds(d, CALENDARS["us"])[1]: c for d, c in closes.items()}
        assert m.start in session_closes, "a move starts at a session's close"
        assert m.start < now
        assert m.start_close == session_closes[m.start]
        assert m.last_session is not None
        last_close_at = bounds(m.last_session, CALENDARS["us"])[1]
        if not m.live:
            assert last_close_at <= now
            assert m.end_close == closes[m.last_session], "a finished session ends at its close"
        else:
            assert bounds(m.last_session, CALENDARS["us"])[0] <= now < last_close_at
        # the sessions read overlap the window, or the last one closed before it started
        assert m.in_window == (last_close_at > now - window)
