"""What a scenario's values must satisfy while it validates: times (absolute, or relative to the
scenario's ``now``, never after it) and coins (tracked by the scenario, known to the bot)."""

from __future__ import annotations

from collections.abc import Iterable
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Annotated

from pydantic import (
    AfterValidator,
    Field,
    StringConstraints,
)
from pydantic_core import PydanticCustomError

from bot.coins import CoinRegistry
from bot.timeparse import UNIT_SECONDS, parse_span

_RELATIVE = r"-(?:\d+[wdhms])+"
_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})"
TIME_PATTERN = rf"^(?:now|{_RELATIVE}|{_ISO})$"
TIME_HELP = (
    "an ISO time with a timezone ('2026-03-10T15:00:00Z'), 'now', "
    "or a time before now like '-90m', '-2h', '-30d', '-1d6h'"
)
MAX_SPAN_SECONDS = 100 * 366 * 86_400  # a relative time reaches back at most a century
MIN_YEAR, MAX_YEAR = 1970, 2200

Time = Annotated[
    str,
    StringConstraints(pattern=TIME_PATTERN),
    Field(description=f"A time: {TIME_HELP}.", examples=["2026-03-10T15:00:00Z", "now", "-2h", "-1d6h"]),
]


@lru_cache(maxsize=1 << 16)
def resolve_time(text: str, now: datetime) -> datetime:
    """A scenario time as an aware UTC datetime; relative times count back from ``now``.
    Raises ValueError for text that is neither (the pattern already screens most of it)."""
    if text == "now":
        return now
    if text.startswith("-"):
        try:
            span = parse_span(text[1:])
        except (ValueError, OverflowError):
            raise ValueError(f"bad time {text!r}: expected {TIME_HELP}") from None
        if span.total_seconds() > MAX_SPAN_SECONDS:
            raise ValueError(f"bad time {text!r}: more than {MAX_SPAN_SECONDS // 86_400} days back")
        return now - span
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"bad time {text!r}: expected {TIME_HELP}") from None
    if value.tzinfo is None:
        raise ValueError(f"bad time {text!r}: an absolute time needs a timezone (e.g. 'Z')")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"bad time {text!r}: outside the years {MIN_YEAR}-{MAX_YEAR}")
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """An absolute time as written by exports: ISO 8601 in UTC with a ``Z``, milliseconds only
    when there are any (the store keeps milliseconds, so this round-trips exactly)."""
    value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec).replace("+00:00", "Z")


def format_relative(value: datetime, now: datetime) -> str:
    """``value`` as a time before ``now`` (``-1d6h``); whole seconds, as the format has no finer
    unit. Used by the generator so bundled samples read as ages."""
    seconds = round((now - value).total_seconds())
    if seconds < 0:
        raise ValueError(f"{format_time(value)} is after now ({format_time(now)})")
    if seconds == 0:
        return "now"
    out = "-"
    for unit in ("d", "h", "m", "s"):
        n, seconds = divmod(seconds, UNIT_SECONDS[unit])
        if n:
            out += f"{n}{unit}"
    return out


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("now must carry a timezone (e.g. 2026-03-10T15:00:00Z)")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"now must lie within the years {MIN_YEAR}-{MAX_YEAR}")
    return value.astimezone(UTC)


@cache
def registry_symbols() -> frozenset[str]:
    """Symbols of ``config/coins.toml``: a scenario may only name coins the bot knows."""
    return frozenset(CoinRegistry.load().coins)


# -- validation context -------------------------------------------------------------------
# Rows need the scenario's ``now`` (to order relative and absolute times) and its ``coins``
# (to reject a coin it does not track) while pydantic validates them bottom-up. The Scenario's
# wrap validator sets both for the duration of one validation; sub-models validated on their
# own skip those checks.


@dataclass(frozen=True)
class _Context:
    now: datetime | None
    coins: frozenset[str]


_CONTEXT: ContextVar[_Context | None] = ContextVar("scenario_context", default=None)


def _error(message: str, at: str | None = None) -> PydanticCustomError:
    """A validation error; ``at`` extends the reported field path below the failing model
    (``rows[10]``) where the check runs on a whole list at once."""
    return PydanticCustomError("scenario", message, {"at": at} if at else None)


def _tracked(symbol: str) -> str:
    ctx = _CONTEXT.get()
    if ctx is not None and ctx.coins and symbol not in ctx.coins:
        raise _error(f"unknown coin {symbol!r}: not in this scenario's coins")
    return symbol


def _known(symbol: str) -> str:
    if symbol not in registry_symbols():
        raise _error(f"unknown coin {symbol!r}: not in config/coins.toml")
    return symbol


TrackedCoin = Annotated[str, AfterValidator(_tracked), Field(description="A symbol from `coins`.")]
KnownCoin = Annotated[str, AfterValidator(_known), Field(description="A symbol of config/coins.toml.")]


def _check_time(text: str, where: str) -> datetime | None:
    """The time resolved against the scenario's now, which it must not pass (None when
    validated outside a scenario)."""
    ctx = _CONTEXT.get()
    if ctx is None or ctx.now is None:
        return None
    try:
        at = resolve_time(text, ctx.now)
    except ValueError as exc:
        raise _error(str(exc), where) from None
    if at > ctx.now:
        raise _error(f"time {text!r} is after now", where)
    return at


def _check_times(times: Iterable[str], *, ordered: bool, label: str = "rows") -> None:
    """Each time resolves, none lies after now and (``ordered``) each is after the one before."""
    previous: datetime | None = None
    for i, text in enumerate(times):
        at = _check_time(text, f"{label}[{i}]")
        if at is None:
            return
        if ordered and previous is not None and at <= previous:
            raise _error(f"time {text!r} is not after the previous row's", f"{label}[{i}]")
        previous = at
