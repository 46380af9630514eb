"""The one source of "now": injected everywhere so tests and replays are exact."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


class FrozenClock:
    """A clock that only moves when told to; for tests and scenario replays."""

    def __init__(self, now: datetime) -> None:
        if now.tzinfo is None:
            raise ValueError("FrozenClock needs a timezone-aware datetime")
        self.now = now.astimezone(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


def to_ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


MAX_MS = 32_503_680_000_000  # 3000-01-01: later "timestamps" are garbage


def from_ms(ms: int | float) -> datetime:
    """An aware UTC time from epoch milliseconds; ValueError (never OverflowError or OSError)
    for a value no clock could show, so parsers reject the row instead of crashing."""
    if not 0 <= ms <= MAX_MS:  # also false for NaN
        raise ValueError(f"timestamp {ms!r} ms is out of range")
    return datetime.fromtimestamp(ms / 1000, tz=UTC)
