"""Which stored point stands for "``window`` ago": aligned to the data's own spacing.

A fixed tolerance makes a long change flicker with the time of day: open-interest history is
backfilled as daily points at 00:00 UTC, so a 30-day change that accepts only points within
6 h of its target exists from 18:00 to 06:00 and vanishes in between. Here the tolerance is
the larger of the window-scaled one and half the series' own spacing around the target
(capped), so a daily series always offers its nearest daily point (at most half a day off)
and a finer series near the mark is used as finely as it is stored. The finding then states
the span actually used ("over 29.8 d").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta


@dataclass(frozen=True)
class AlignConfig:
    fraction: float = 0.1  # an end may sit this fraction of the window from its target…
    min_align: timedelta = field(default=timedelta(minutes=10))  # …but at least this
    max_align: timedelta = field(default=timedelta(hours=6))  # …and at most this,
    max_spacing_align: timedelta = field(default=timedelta(hours=12))  # …unless the data is sparser


def window_tolerance(window: timedelta, cfg: AlignConfig = AlignConfig()) -> timedelta:
    """The tolerance a window allows regardless of the data: 10% of it, within bounds."""
    return min(max(window * cfg.fraction, cfg.min_align), cfg.max_align)


def local_spacing(ts: Sequence[datetime], target: datetime) -> timedelta | None:
    """The series' spacing around ``target``: the gap between the points either side of it,
    else (target outside the series) the gap between the nearest point and its neighbour."""
    if len(ts) < 2:
        return None
    before = [t for t in ts if t <= target]
    after = [t for t in ts if t > target]
    if before and after:
        return min(after) - max(before)
    if before:
        a, b = sorted(ts)[-2:]
        return b - a
    a, b = sorted(ts)[:2]
    return b - a


def tolerance(ts: Sequence[datetime], target: datetime, window: timedelta, cfg: AlignConfig) -> timedelta:
    """How far from ``target`` a point may be to stand for it (see module doc)."""
    base = window_tolerance(window, cfg)
    spacing = local_spacing(ts, target)
    if spacing is None:
        return base
    return max(base, min(spacing / 2, cfg.max_spacing_align))


def aligned_index(
    ts: Sequence[datetime],
    target: datetime,
    window: timedelta,
    *,
    not_after: bool = False,
    cfg: AlignConfig = AlignConfig(),
) -> int | None:
    """Index of the point nearest ``target`` within :func:`tolerance` (ties to the earlier),
    or None. With ``not_after`` only points at or before the target count."""
    tol = tolerance(ts, target, window, cfg)
    best: int | None = None
    for i, t in enumerate(ts):
        if not_after and t > target:
            continue
        if abs(t - target) <= tol and (best is None or abs(t - target) < abs(ts[best] - target)):
            best = i
    return best
