from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.analysis.coverage import coverage
from bot.models import StreamConnection

T0 = datetime(2026, 11, 20, tzinfo=UTC)
H = timedelta(hours=1)


def s(venue: str, a: int, b: int | None) -> StreamConnection:
    return StreamConnection(
        venue=venue, connected_at=T0 + a * H, disconnected_at=None if b is None else T0 + b * H
    )  # type: ignore[arg-type]


def test_gaps_are_time_with_no_venue_connected() -> None:
    c = coverage([s("binance", 0, 5), s("bybit", 2, 6), s("binance", 8, None)], T0, T0 + 10 * H)
    assert c.covered_since == T0
    assert c.gap == 2 * H  # hours 6-8
    assert c.venues == ("binance", "bybit")
    assert c.connected_now == ("binance",)


def test_window_before_first_connection_is_not_a_gap_but_not_covered() -> None:
    c = coverage([s("okx", 5, None)], T0, T0 + 10 * H)
    assert c.covered_since == T0 + 5 * H
    assert c.gap == timedelta(0)


def test_no_sessions() -> None:
    c = coverage([], T0, T0 + H)
    assert c.covered_since is None
    assert c.gap_minutes == 0
