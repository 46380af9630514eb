"""Helpers the venue parsers share: numbers and millisecond times out of a frame's fields, and
a throttled log line for malformed frames."""

from __future__ import annotations

import logging
import math
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    pass

log = logging.getLogger(__name__)


# -- parsing helpers shared by the venue parsers -----------------------------------------------


def to_float(value: Any) -> float:
    """A finite float from a venue's number or numeric string; ValueError otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"not a number: {value!r}")
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"not finite: {value!r}")
    return number


def ms_field(value: Any) -> int:
    """An integer millisecond timestamp from a number or numeric string; ValueError otherwise."""
    if isinstance(value, str) and value.isdigit():
        return int(value)
    number = to_float(value)
    if number <= 0 or number != int(number):
        raise ValueError(f"not a ms timestamp: {value!r}")
    return int(number)


class _Throttle:
    """Allows one event per key per ``every`` seconds (log spam guard)."""

    def __init__(self, every: float) -> None:
        self.every = every
        self._last: dict[str, float] = {}

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        last = self._last.get(key)
        if last is not None and now - last < self.every:
            return False
        self._last[key] = now
        return True


_malformed = _Throttle(60.0)


def log_malformed(logger: logging.Logger, venue: str, what: str, payload: Any) -> None:
    """Log a skipped malformed frame: a warning at most once a minute per venue (a format
    change would otherwise log every frame), debug otherwise."""
    level = logging.WARNING if _malformed.allow(venue) else logging.DEBUG
    logger.log(level, "%s: skipped malformed %s: %.300r", venue, what, payload)
