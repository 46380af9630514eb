"""Durations and times of day, parsed in one place (RoboDanny's ``cogs/utils/time.py``): the
mute length and brief time of the /alerts commands, the minute thresholds of an alert
subscription, and scenario files' relative times. :mod:`cogs.alerts` takes them as
app-command transformers."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import discord
from discord import app_commands

from bot.errors import UserFacingError

# Seconds per unit. The compact form (scenario files, --since) takes one letter per part;
# commands also take the words.
UNIT_SECONDS = {"w": 604_800, "d": 86_400, "h": 3_600, "m": 60, "s": 1}
_UNIT_WORDS = {
    "min": "m",
    "mins": "m",
    "minute": "m",
    "minutes": "m",
    "hour": "h",
    "hours": "h",
    "day": "d",
    "days": "d",
}
_COMPACT_PART = re.compile(r"(\d+)([wdhms])")
_PART = re.compile(r"(\d+(?:\.\d+)?)\s*(minutes?|mins?|hours?|days?|w|d|h|m)")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OFF = ("off", "0", "none", "unmute", "no")


def parse_span(text: str, units: str = "wdhms") -> timedelta:
    """The compact form, whole numbers and one letter per part: ``90m``, ``2h``, ``30d``,
    ``1d6h`` → a duration. Raises ValueError for anything else (the callers say what they
    expected)."""
    parts = _COMPACT_PART.findall(text)
    if not parts or "".join(n + u for n, u in parts) != text or any(u not in units for _, u in parts):
        raise ValueError(text)
    return timedelta(seconds=sum(int(n) * UNIT_SECONDS[u] for n, u in parts))


def parse_minutes(text: str) -> float:
    """A length as people type it: ``90`` (minutes), ``30m``, ``1.5h``, ``2 hours``, ``1h30m``
    → minutes. Raises ValueError for anything else."""
    t = text.strip().lower()
    if _NUMBER.fullmatch(t):
        return float(t)
    parts = _PART.findall(t)
    if not parts or _PART.sub("", t).strip():
        raise ValueError(text)
    return sum(float(n) * UNIT_SECONDS[_UNIT_WORDS.get(u, u)] / 60 for n, u in parts)


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``2h``, ``1d``, ``1h30m``, ``90`` (minutes) → a duration; ``off``/``0`` → None."""
    if text.strip().lower() in _OFF:
        return None
    try:
        minutes = parse_minutes(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a duration: use e.g. 30m, 2h, 1d (or off)") from None
    try:
        return timedelta(minutes=minutes)
    except OverflowError:  # digits past any duration: out of range, not a crash
        raise ValueError(f"{text!r} is longer than any duration: use e.g. 30m, 2h, 1d (or off)") from None


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
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: "Europe" is a folder of zones
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


# -- as app-command parameters -----------------------------------------------------------------
# Discord validates the length before the code runs; a value that does not parse reaches the
# user as one line through the tree's error handler (a UserFacingError inside the
# TransformerError).


def _sentence(exc: ValueError) -> str:
    text = str(exc)
    return f"{text[:1].upper()}{text[1:]}."


class _TextArg(app_commands.Transformer):
    """A string option of 1 to ``max_length`` characters."""

    max_length = 100

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return self.max_length


class DurationArg(_TextArg):
    """``30m``, ``2h``, ``1d`` … → a duration; ``off`` → None."""

    max_length = 20

    async def transform(self, interaction: discord.Interaction[Any], value: str, /) -> timedelta | None:
        try:
            return parse_duration(value)
        except ValueError as exc:
            raise UserFacingError(f"Duration: {exc}.") from None


class LocalTimeArg(_TextArg):
    """``08:00``, ``8:30pm`` … → ``HH:MM``; ``off`` → None."""

    max_length = 10

    async def transform(self, interaction: discord.Interaction[Any], value: str, /) -> str | None:
        if value.strip().lower() == "off":
            return None
        try:
            return parse_local_time(value)
        except ValueError as exc:
            raise UserFacingError(_sentence(exc)) from None


class TimezoneArg(_TextArg):
    """An IANA timezone name, whatever its case → the zone."""

    max_length = 64

    async def transform(self, interaction: discord.Interaction[Any], value: str, /) -> ZoneInfo:
        try:
            return resolve_timezone(value)
        except ValueError as exc:
            raise UserFacingError(_sentence(exc)) from None


Duration = app_commands.Transform[timedelta | None, DurationArg]
LocalTime = app_commands.Transform[str | None, LocalTimeArg]
Timezone = app_commands.Transform[ZoneInfo, TimezoneArg]
