from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.analysis.findings import Caveat
from bot.analysis.macro import MacroConfig, macro_moves
from bot.models import Interval, MacroPoint

DAY = timedelta(days=1)
# November 2026: Mon 16, Tue 17 … Fri 20, Sat 21, Sun 22. US cash sessions open 14:30 UTC.
SESSIONS = [datetime(2026, 11, d, 14, 30, tzinfo=UTC) for d in (9, 10, 11, 12, 13, 16, 17, 18, 19, 20)]
TUE_AFTERNOON = datetime(2026, 11, 17, 15, 0, tzinfo=UTC)


def series(
    name: str, closes: Sequence[float], times: Sequence[datetime], interval: Interval = "1d"
) -> list[MacroPoint]:
    return [
        MacroPoint(series=name, symbol=f"^{name.upper()}", source="yahoo", interval=interval, ts=t, close=c)
        for t, c in zip(times, closes, strict=True)
    ]


def two_day(moves: dict[str, float], level: float = 100.0) -> list[MacroPoint]:
    """Monday close at ``level`` and Tuesday ``move`` percent away, per series (with Friday
    equal to Monday, so the Friday→Tuesday span reads the same move)."""
    times = SESSIONS[4:7]  # Fri, Mon, Tue
    out: list[MacroPoint] = []
    for name, pct in moves.items():
        out += series(name, [level, level, level * (1 + pct / 100)], times)
    return out


def close_of(day: int) -> datetime:
    """A November 2026 US session's close in UTC (16:00 New York, EST)."""
    return datetime(2026, 11, day, 21, 0, tzinfo=UTC)


def test_a_window_reads_the_sessions_it_overlaps_close_to_close() -> None:
    closes = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]
    f = macro_moves(series("spx", closes, SESSIONS), now=TUE_AFTERNOON, window=DAY)
    (m,) = f.moves
    # window Mon 15:00 → Tue 15:00: Monday's session and Tuesday's so far, from Friday's close
    assert (m.first_session, m.last_session, m.live) == (date(2026, 11, 16), date(2026, 11, 17), True)
    assert (m.start, m.end) == (close_of(13), TUE_AFTERNOON)
    assert (m.start_close, m.end_close, m.bars) == (104, 106, 2)
    assert m.change_pct == pytest.approx((106 / 104 - 1) * 100)
    assert m.change_abs == pytest.approx(2)
    assert m.in_window
    assert m.weight == 1.0
    assert m.name == "S&P 500"
    assert m.symbol == "^SPX"
    assert m.source == "yahoo"
    assert f.window == "24h"
    assert f.as_of == TUE_AFTERNOON
    assert f.sources == ("yahoo",)
    assert "vix" in f.missing
    assert "spx" not in f.missing


def test_week_window_spans_the_weeks_sessions() -> None:
    closes = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]
    f = macro_moves(series("dax", closes, SESSIONS), now=TUE_AFTERNOON, window=7 * DAY)
    (m,) = f.moves
    assert (m.first_session, m.last_session, m.bars) == (date(2026, 11, 10), date(2026, 11, 17), 6)
    assert (m.start_close, m.end_close) == (100, 106)
    assert m.region == "eu"


def test_saturday_reads_fridays_session_and_sunday_the_session_before_weighted_down() -> None:
    closes = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]
    for now in (datetime(2026, 11, 21, 15, 0, tzinfo=UTC), datetime(2026, 11, 21, 12, 0, tzinfo=UTC)):
        sat = macro_moves(series("spx", closes, SESSIONS), now=now, window=DAY)
        (m,) = sat.moves
        assert (m.first_session, m.last_session, m.bars) == (date(2026, 11, 20), date(2026, 11, 20), 1)
        assert (m.start_close, m.end_close, m.in_window, m.weight) == (108, 109, True, 1.0)
    sun = macro_moves(
        series("spx", closes, SESSIONS), now=datetime(2026, 11, 22, 15, 0, tzinfo=UTC), window=DAY
    )
    (m,) = sun.moves
    assert (m.first_session, m.start_close, m.end_close) == (date(2026, 11, 20), 108, 109)
    assert not m.in_window
    assert m.weight == pytest.approx(0.5 ** (18 / 24))  # closed 18 h before the window
    assert sun.recency == pytest.approx(m.weight)
    assert sun.notes == (Caveat(code="session_before_window", series="S&P 500", day=date(2026, 11, 20)),)


def test_an_hourly_window_reads_the_session_not_its_slice() -> None:
    mon = [datetime(2026, 11, 16, 14, 30, tzinfo=UTC) + timedelta(hours=h) for h in range(7)]
    tue = [datetime(2026, 11, 17, 14, 30, tzinfo=UTC) + timedelta(hours=h) for h in range(3)]
    closes = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]
    f = macro_moves(
        series("dxy", closes, [*mon, *tue], interval="1h"),
        now=datetime(2026, 11, 17, 17, 0, tzinfo=UTC),
        window=timedelta(hours=3),
    )
    (m,) = f.moves
    # from Monday's close (its last hourly bar), not from the bar in progress at 14:00
    assert (m.start, m.start_close, m.end_close, m.live) == (close_of(16), 106, 109, True)
    assert f.window == "3h"


def test_equities_down_with_the_dollar_up_is_risk_off() -> None:
    f = macro_moves(
        two_day({"spx": -1.2, "ndx": -1.5, "dax": -0.8, "dxy": 0.4, "us10y": 0.5, "vix": 3.0}),
        now=TUE_AFTERNOON,
        window=DAY,
    )
    assert f.verdict == "risk_off"
    assert f.confirming == ("dxy",)
    assert f.equities_pct == pytest.approx((-1.2 - 1.5 - 0.8) / 3)
    assert f.verdict_case == "confirmed"  # worded in tests/render/test_macro.py
    assert [m.series for m in f.moves] == ["spx", "ndx", "dax", "dxy", "us10y", "vix"]
    assert f.missing == ("sx5e",)


def test_vix_spike_alone_confirms_risk_off() -> None:
    f = macro_moves(two_day({"spx": -2.0, "vix": 15.0, "dxy": -0.1}), now=TUE_AFTERNOON, window=DAY)
    assert f.verdict == "risk_off"
    assert f.confirming == ("vix",)


def test_equities_down_without_confirmation_is_mixed() -> None:
    f = macro_moves(
        two_day({"spx": -1.2, "ndx": -1.5, "dxy": -0.3, "us10y": -2.0, "vix": 1.0}),
        now=TUE_AFTERNOON,
        window=DAY,
    )
    assert f.verdict == "mixed"
    assert f.confirming == ()


def test_equities_up_with_vix_down_is_risk_on() -> None:
    f = macro_moves(two_day({"spx": 1.0, "ndx": 1.4, "vix": -8.0, "dxy": 0.1}), now=TUE_AFTERNOON, window=DAY)
    assert f.verdict == "risk_on"
    assert f.confirming == ("vix",)


def test_indices_disagreeing_is_mixed_and_flat_is_no_verdict() -> None:
    split = macro_moves(two_day({"spx": -1.0, "dax": 1.0, "dxy": 0.5}), now=TUE_AFTERNOON, window=DAY)
    assert split.verdict == "mixed"
    flat = macro_moves(two_day({"spx": 0.1, "ndx": -0.2, "dxy": 0.5}), now=TUE_AFTERNOON, window=DAY)
    assert flat.verdict is None
    assert flat.verdict_case == "flat"


def test_no_gauges_means_no_verdict() -> None:
    f = macro_moves(two_day({"spx": -1.5}), now=TUE_AFTERNOON, window=DAY)
    assert f.verdict is None
    assert f.verdict_case == "no_gauges"
    assert f.equities_pct == pytest.approx(-1.5)


def test_thresholds_come_from_config() -> None:
    points = two_day({"spx": -0.4, "dxy": 0.4})
    assert macro_moves(points, now=TUE_AFTERNOON, window=DAY).verdict is None
    loose = MacroConfig(equity_move_pct=0.3)
    assert macro_moves(points, now=TUE_AFTERNOON, window=DAY, config=loose).verdict == "risk_off"


def test_stale_and_short_series_are_flagged_not_used() -> None:
    stale = series("spx", [100, 99], SESSIONS[:2])  # last close a week before
    short = series("dxy", [100], SESSIONS[6:7])
    late = series("vix", [20, 25], SESSIONS[6:8])  # starts after the window start
    f = macro_moves([*stale, *short, *late], now=TUE_AFTERNOON + DAY, window=DAY * 3)
    moves = {m.series: m for m in f.moves}
    assert moves["spx"].insufficient is not None
    assert moves["spx"].insufficient.code == "stale_close"
    assert (moves["spx"].insufficient.span or timedelta(0)) > MacroConfig().max_age
    assert moves["dxy"].insufficient == Caveat(code="one_close")
    assert moves["vix"].insufficient is not None
    assert moves["vix"].insufficient.code == "no_close_before"
    assert all(m.change_pct is None for m in f.moves)
    assert f.insufficient is not None
    assert f.verdict is None
    assert len(f.notes) == 3
    assert [(n.series, n.code) for n in f.notes] == [
        ("S&P 500", "stale_close"),
        ("US dollar index", "one_close"),
        ("VIX", "no_close_before"),
    ]


def test_bars_after_now_and_other_intervals_are_ignored() -> None:
    closes = [100, 101, 102, 103, 104, 105, 106, 107, 108, 109]
    points = [
        *series("spx", closes, SESSIONS),
        *series(
            "spx", [1.0, 2.0], [SESSIONS[5] - timedelta(hours=2), SESSIONS[5] - timedelta(hours=1)], "1h"
        ),
    ]
    f = macro_moves(points, now=TUE_AFTERNOON, window=DAY)
    assert f.moves[0].end_close == 106
