"""Open interest: its change over a window, per venue and aligned across venues, and where
the history is too short to say."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.analysis.alignment import AlignConfig, aligned_index, window_tolerance
from bot.analysis.findings import (
    Caveat,
    OIFinding,
    VenueOI,
    window_label,
)
from bot.models import OpenInterest

# ---------------------------------------------------------------------------------------------
# Open interest


@dataclass(frozen=True)
class OIConfig:
    align_fraction: float = 0.1  # an end may sit this fraction of the window from its target…
    min_align: timedelta = field(default=timedelta(minutes=10))  # …but at least this
    max_align: timedelta = field(default=timedelta(hours=6))  # …and at most this,
    max_spacing_align: timedelta = field(default=timedelta(hours=12))  # …unless the data is sparser
    max_age: timedelta = field(default=timedelta(hours=2))  # older latest data is stale

    def align(self) -> AlignConfig:
        return AlignConfig(self.align_fraction, self.min_align, self.max_align, self.max_spacing_align)


def _nearest(ts: list[datetime], target: datetime, tol: timedelta, *, not_after: bool) -> int | None:
    best: int | None = None
    for i, t in enumerate(ts):
        if not_after and t > target:
            break
        if abs(t - target) <= tol and (best is None or abs(t - target) < abs(ts[best] - target)):
            best = i
    return best


def oi_change(
    coin: str,
    points: Sequence[OpenInterest],
    *,
    now: datetime,
    window: timedelta,
    config: OIConfig = OIConfig(),
) -> OIFinding:
    """Open-interest change over ``window`` per venue and summed across venues.

    The sum is taken at aligned times: the end is the newest point on any venue, the start is
    ``window`` before it, and each venue contributes its point nearest each end (within a
    tolerance scaled to the window and to the series' own spacing, see
    :mod:`bot.analysis.alignment`, so a daily history serves a 30-day change at any hour). A venue missing either end is left out of the sum, on both
    ends, and named in ``missing_venues``.
    """
    cfg = config
    label = window_label(window)
    series: dict[str, list[OpenInterest]] = defaultdict(list)
    for p in points:
        if p.coin == coin and p.ts <= now:
            series[p.venue].append(p)
    if not series:
        return OIFinding(coin=coin, window=label, insufficient=Caveat(code="no_oi", coin=coin))
    for s in series.values():
        s.sort(key=lambda p: p.ts)
    end = max(s[-1].ts for s in series.values())
    sources = tuple(sorted(series))
    if now - end > cfg.max_age:
        return OIFinding(
            coin=coin,
            window=label,
            as_of=end,
            sources=sources,
            insufficient=Caveat(code="stale_oi", span=now - end),
        )
    start = end - window
    tol = window_tolerance(window, cfg.align())
    rows: list[VenueOI] = []
    missing: list[str] = []
    notes: list[Caveat] = []
    for venue in sources:
        s = series[venue]
        ts = [p.ts for p in s]
        i1 = _nearest(ts, end, tol, not_after=True)
        i0 = aligned_index(ts, start, window, cfg=cfg.align())
        if i1 is None or i0 is None or i0 >= i1:
            missing.append(venue)
            if i1 is None:
                notes.append(Caveat(code="venue_no_recent", venue=venue))
            else:
                notes.append(Caveat(code="venue_no_start", venue=venue, window=label))
            continue
        a, b = s[i0], s[i1]
        rows.append(
            VenueOI(
                venue=venue,
                start=a.ts,
                end=b.ts,
                start_usd=a.oi_usd,
                end_usd=b.oi_usd,
                change_usd=b.oi_usd - a.oi_usd,
                change_pct=(b.oi_usd / a.oi_usd - 1.0) * 100.0 if a.oi_usd > 0 else None,
            )
        )
    base = {"coin": coin, "window": label, "as_of": end, "sources": sources, "notes": tuple(notes)}
    if not rows:
        return OIFinding.model_validate(
            {
                **base,
                "missing_venues": tuple(missing),
                "insufficient": Caveat(code="no_oi_back", window=label),
            }
        )
    start_usd = sum(r.start_usd for r in rows)
    end_usd = sum(r.end_usd for r in rows)
    return OIFinding.model_validate(
        {
            **base,
            "start": start,
            "end": end,
            "start_usd": start_usd,
            "end_usd": end_usd,
            "change_usd": end_usd - start_usd,
            "change_pct": (end_usd / start_usd - 1.0) * 100.0 if start_usd > 0 else None,
            "span_days": min((r.end - r.start) / timedelta(days=1) for r in rows),
            "venues": tuple(r.venue for r in rows),
            "missing_venues": tuple(missing),
            "by_venue": tuple(rows),
        }
    )
