"""How much of a window the liquidation streams actually saw. Keyless streams only count
while connected, so every liquidation figure says since when and with how many gaps."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.models import StreamConnection


class Coverage(BaseModel):
    model_config = ConfigDict(frozen=True)

    venues: tuple[str, ...]  # venues that streamed at some point in the window
    covered_since: datetime | None  # earliest connection still within retention
    gap: timedelta  # time in the window when no stream was connected (after covered_since)
    connected_now: tuple[str, ...]

    @property
    def gap_minutes(self) -> int:
        return round(self.gap.total_seconds() / 60)


def coverage(sessions: Sequence[StreamConnection], start: datetime, end: datetime) -> Coverage:
    """Union of all venues' connected intervals against ``[start, end]``: a gap is time when
    no venue was connected (one venue down while another streams is a partial count, which
    the venue list already shows)."""
    spans = sorted((s.connected_at, s.disconnected_at or end) for s in sessions)
    first = spans[0][0] if spans else None
    venues = tuple(sorted({s.venue for s in sessions if (s.disconnected_at or end) >= start}))
    connected_now = tuple(sorted({s.venue for s in sessions if s.disconnected_at is None}))
    if first is None:
        return Coverage(venues=(), covered_since=None, gap=timedelta(0), connected_now=())
    lo = max(start, first)
    covered = timedelta(0)
    cursor = lo
    for a, b in spans:
        a, b = max(a, cursor), min(b, end)
        if b > a:
            covered += b - a
            cursor = b
    gap = max(timedelta(0), (end - lo) - covered)
    return Coverage(venues=venues, covered_since=first, gap=gap, connected_now=connected_now)
