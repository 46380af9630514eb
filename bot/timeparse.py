"""Durations and times of day, parsed in one place (RoboDanny's ``cogs/utils/time.py``): the
mute length and brief time of the /alerts commands, the minute thresholds of an alert
subscription, and scenario files' relative times. :mod:`cogs.alerts` takes them as
app-command transformers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|min|mins|minutes?|hours?|days?)")


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``2h``, ``1d``, ``1h30m``, ``90`` (minutes) → a duration; ``off``/``0`` → None."""
    t = text.strip().lower()
    if t in ("off", "0", "none", "unmute", "no"):
        return None
    if t.isdigit():
        return timedelta(minutes=int(t))
    parts = _DURATION.findall(t)
    if not parts or _DURATION.sub("", t).strip():
        raise ValueError(f"{text!r} is not a duration: use e.g. 30m, 2h, 1d (or off)")
    unit_minutes = {"w": 10080, "d": 1440, "h": 60, "m": 1}
    minutes = sum(int(n) * unit_minutes[u[0]] for n, u in parts)
    return timedelta(minutes=minutes)


def parse_local_time(text: str) -> str:
    """``8``, ``08:30``, ``8:30pm``, ``20h`` → ``HH:MM``."""
    m = re.fullmatch(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|h)?", text.strip().lower())
    if m is None:
        raise ValueError(f"{text!r} is not a time of day: use HH:MM, e.g. 08:00 or 21:30")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if m.group(3) in ("am", "pm"):
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r} is not a time of day: use HH:MM, e.g. 08:00 or 21:30")
        hour = hour % 12 + (12 if m.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day: use HH:MM, e.g. 08:00 or 21:30")
    return f"{hour:02d}:{minute:02d}"


@cache
def _timezone_names() -> dict[str, str]:
    return {n.lower(): n for n in available_timezones()}


def resolve_timezone(name: str) -> ZoneInfo:
    """An IANA timezone by name, whatever its case (``europe/berlin`` is Europe/Berlin)."""
    key = _timezone_names().get(name.strip().lower().replace(" ", "_"), name.strip())
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r}: use a name like Europe/Berlin, America/New_York or UTC"
        ) from None


def next_brief_time(after: datetime, local_time: str, timezone: str) -> datetime:
    """The first ``local_time`` in ``timezone`` strictly after ``after``, in UTC (wall-clock
    arithmetic, so a brief stays at 08:00 local across daylight-saving changes)."""
    zone = resolve_timezone(timezone)
    hour, minute = (int(x) for x in local_time.split(":"))
    local = after.astimezone(zone)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate.astimezone(UTC)
