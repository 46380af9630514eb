"""Trading sessions of the macro markets: which session(s) a crypto window should be read
against, and each session's close.

A market's move is only meaningful close to close: an hourly slice of a session (the last
2.5 hours of Friday's US session inside a Saturday-afternoon 24h window) can be a bounce in a
sell-off. So a window is read against the sessions that overlap it — from the close before the
first of them to the last one's close, or to the latest price while a session is still open
("so far") — and, when none overlaps (a weekend, a night), against the session that
immediately precedes it, weighted down by how long before the window it closed.

Daily bars say which day they belong to, not when; sources stamp them at the session open,
at local midnight or at 00:00 UTC of the local date. The session day is the local date of the
stamp shifted by six hours, which maps all three to the right day in New York and Frankfurt.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.analysis.finding_base import Caveat
from bot.models import MacroPoint

Region = Literal["us", "eu"]
STAMP_SLACK = timedelta(hours=6)


@dataclass(frozen=True)
class Calendar:
    tz: ZoneInfo
    opens: time
    closes: time


CALENDARS: dict[Region, Calendar] = {
    "us": Calendar(ZoneInfo("America/New_York"), time(9, 30), time(16, 0)),
    "eu": Calendar(ZoneInfo("Europe/Berlin"), time(9, 0), time(17, 30)),
}
REGION_OF: dict[str, Region] = {"sx5e": "eu", "dax": "eu"}  # everything else trades on US hours


def region(series: str) -> Region:
    return REGION_OF.get(series, "us")


def session_day(ts: datetime, cal: Calendar) -> date:
    return (ts.astimezone(cal.tz) + STAMP_SLACK).date()


def bounds(day: date, cal: Calendar) -> tuple[datetime, datetime]:
    """The session's open and close in UTC (daylight saving included)."""
    o = datetime.combine(day, cal.opens, tzinfo=cal.tz).astimezone(UTC)
    c = datetime.combine(day, cal.closes, tzinfo=cal.tz).astimezone(UTC)
    return o, c


@dataclass(frozen=True)
class Session:
    day: date
    opens: datetime
    closes: datetime
    close: float  # the session's close, or the latest price while it is open
    live: bool  # still trading at ``now``


def sessions(bars: Sequence[MacroPoint], cal: Calendar, now: datetime) -> list[Session]:
    """One entry per trading day, oldest first, from daily and/or hourly bars: a finished day
    closes at its daily bar (else its last hourly bar); the day in progress at its newest
    hourly bar (else its daily bar, which sources update live)."""
    daily: dict[date, MacroPoint] = {}
    hourly: dict[date, MacroPoint] = {}
    for b in sorted(bars, key=lambda b: b.ts):
        if b.ts > now:
            continue
        (daily if b.interval == "1d" else hourly)[session_day(b.ts, cal)] = b
    days: dict[date, list[MacroPoint]] = defaultdict(list)
    for d, b in (*daily.items(), *hourly.items()):
        days[d].append(b)
    out = []
    for d in sorted(days):
        opens, closes = bounds(d, cal)
        if opens > now:
            continue
        live = now < closes
        first, second = (hourly, daily) if live else (daily, hourly)
        bar = first.get(d) or second[d]
        out.append(Session(day=d, opens=opens, closes=closes, close=bar.close, live=live))
    return out


@dataclass(frozen=True)
class Span:
    base: Session  # the close the move is measured from
    used: tuple[Session, ...]  # the sessions the move covers, oldest first
    overlaps: bool  # False: the session immediately preceding the window
    weight: float  # 1 when a session overlaps the window, decaying with the time since its close


def window_span(
    days: Sequence[Session], start: datetime, now: datetime, half_life: timedelta = timedelta(hours=24)
) -> Span | Caveat:
    """The sessions a window is read against (see module doc), or why there are none."""
    overlap = [s for s in days if s.opens < now and s.closes > start]
    if overlap:
        used, weight = overlap, 1.0
    else:
        before = [s for s in days if s.closes <= start]
        if not before:
            return Caveat(code="no_session_before")
        used = [before[-1]]
        weight = 0.5 ** ((start - used[-1].closes) / half_life)
    i = days.index(used[0])
    if i == 0 or (used[0].day - days[i - 1].day).days > 5:
        return Caveat(code="no_close_before", day=used[0].day)
    return Span(base=days[i - 1], used=tuple(used), overlaps=bool(overlap), weight=weight)
