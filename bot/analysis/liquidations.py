"""Liquidations over a window: totals per venue and side, the share of longs, cascades, and
the coin's own baseline for a window that long (DESIGN.md, "Reading the tape"). Where the
streams covered only part of the window, the finding says so instead of filling the gap."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from bot.analysis.findings import (
    Caveat,
    LiqSide,
    LiquidationFinding,
    VenueLiquidations,
    window_label,
)
from bot.models import NonNegative, Side, UtcDatetime

_MINUTE = timedelta(minutes=1)


class LiqMinute(BaseModel):
    """One row of the per-minute liquidation roll-up (table ``liq_minute``): the liquidations of
    one coin, side and venue in the minute starting at ``minute``.

    :func:`liquidation_window` only reads each row's start time, so the baseline part (before
    the window) may be passed as coarser buckets, e.g. hourly sums, to keep 30 days small."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    coin: str
    minute: UtcDatetime
    side: Side  # the side whose positions were liquidated
    venue: str
    usd: NonNegative
    events: Annotated[int, Field(ge=0)]
    max_usd: NonNegative  # the largest single liquidation in the minute


# ---------------------------------------------------------------------------------------------
# Liquidations


@dataclass(frozen=True)
class LiquidationConfig:
    baseline_days: float = 30.0
    min_baseline: timedelta = field(default=timedelta(days=1))  # less history: no baseline
    min_baseline_windows: float = 3.0  # …nor with fewer than this many windows' worth of it
    dominance: float = 0.65  # a side with at least this share of the total dominates
    accel_span: timedelta = field(default=timedelta(hours=1))


def _side(long_share: float | None, dominance: float) -> LiqSide | None:
    if long_share is None:
        return None
    if long_share >= dominance:
        return "long"
    if long_share <= 1.0 - dominance:
        return "short"
    return "balanced"


def liquidation_window(
    coin: str,
    rows: Sequence[LiqMinute],
    *,
    now: datetime,
    window: timedelta,
    covered_since: datetime | None = None,
    venues: Sequence[str] = (),
    config: LiquidationConfig = LiquidationConfig(),
) -> LiquidationFinding:
    """Liquidations of ``coin`` in the minutes ``[now - window, now]``, with the long/short split,
    venues, the 30-day baseline multiple and the last hour's acceleration.

    ``covered_since`` is when the streams have been collecting without a gap (from the stream
    sessions); it bounds the baseline, flags a partly covered window, and tells "no
    liquidations" from "no data". Without it the oldest row stands in, which can only
    understate coverage. ``venues`` lists the connected venues so one with nothing to report
    still shows as $0.
    """
    cfg = config
    start = now - window
    mine = [r for r in rows if r.coin == coin and r.minute <= now]
    covered_from = covered_since or min((r.minute for r in mine), default=None)
    all_venues = tuple(sorted({*venues, *(r.venue for r in mine)}))
    label = window_label(window)
    if covered_from is None:
        return LiquidationFinding(
            coin=coin,
            window=label,
            start=start,
            end=now,
            sources=all_venues,
            insufficient=Caveat(code="no_liquidations", coin=coin),
        )
    as_of = now if covered_since is not None else max(r.minute for r in mine) + _MINUTE
    notes: list[Caveat] = []
    if covered_from > start:
        notes.append(Caveat(code="partly_covered", span=now - covered_from, window=label))

    inside = [r for r in mine if r.minute >= start]
    long_usd = sum(r.usd for r in inside if r.side == "long")
    short_usd = sum(r.usd for r in inside if r.side == "short")
    total = long_usd + short_usd
    per_venue: dict[str, list[float]] = {v: [0.0, 0.0, 0.0] for v in all_venues}
    for r in inside:
        acc = per_venue[r.venue]
        acc[0 if r.side == "long" else 1] += r.usd
        acc[2] += r.events
    by_venue = tuple(
        VenueLiquidations(venue=v, long_usd=a[0], short_usd=a[1], events=int(a[2]))
        for v, a in sorted(per_venue.items(), key=lambda kv: -(kv[1][0] + kv[1][1]))
    )
    long_share = long_usd / total if total > 0 else None

    baseline_usd = multiple = baseline_days = None
    b_start = max(start - timedelta(days=cfg.baseline_days), covered_from)
    span = start - b_start
    if span >= max(cfg.min_baseline, window * cfg.min_baseline_windows):
        b_total = sum(r.usd for r in mine if b_start <= r.minute < start)
        baseline_usd = b_total * (window / span)
        baseline_days = span.total_seconds() / 86400
        if baseline_usd > 0:
            multiple = total / baseline_usd
        else:
            notes.append(Caveat(code="empty_baseline", days=baseline_days))
    else:
        notes.append(Caveat(code="no_baseline", span=max(span, timedelta(0))))

    last_hour = sum(r.usd for r in inside if r.minute >= now - cfg.accel_span)
    acceleration = None
    if total > 0 and window >= 2 * cfg.accel_span and covered_from <= start:
        acceleration = (last_hour / (cfg.accel_span / window)) / total

    return LiquidationFinding(
        coin=coin,
        window=label,
        start=start,
        end=now,
        as_of=as_of,
        sources=all_venues,
        notes=tuple(notes),
        total_usd=total,
        long_usd=long_usd,
        short_usd=short_usd,
        long_share=long_share,
        dominant=_side(long_share, cfg.dominance),
        events=sum(r.events for r in inside),
        largest_usd=max((r.max_usd for r in inside), default=0.0),
        by_venue=by_venue,
        covered_from=covered_from,
        baseline_usd=baseline_usd,
        baseline_multiple=multiple,
        baseline_days=baseline_days,
        last_hour_usd=last_hour,
        acceleration=acceleration,
    )
