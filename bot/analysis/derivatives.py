"""Derivatives: liquidations, open interest, funding, long/short share, taker flow, and the
leverage regime they add up to (DESIGN.md, "Reading the tape").

Everything is measured over an explicit window ending at ``now`` and against the coin's own
history where a baseline is asked for, so "$40M of long liquidations" comes with "3.2× its
30-day norm for a 24h window". Where coverage is partial (a stream connected recently, a venue
with no open-interest history), the finding says so instead of filling the gap.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field

from bot.analysis.alignment import AlignConfig, aligned_index, window_tolerance
from bot.analysis.findings import (
    FlowFinding,
    FlowLead,
    FundingFinding,
    FundingState,
    LiqSide,
    LiquidationFinding,
    LongShortFinding,
    OIFinding,
    VenueFunding,
    VenueLiquidations,
    VenueLongShort,
    VenueOI,
    window_label,
)
from bot.fmt import age, ago
from bot.models import Candle, Funding, LongShortRatio, NonNegative, OpenInterest, Side, UtcDatetime

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
            insufficient=f"no liquidation data for {coin}",
        )
    as_of = now if covered_since is not None else max(r.minute for r in mine) + _MINUTE
    notes: list[str] = []
    if covered_from > start:
        notes.append(
            f"liquidations only covered for the last {age(now - covered_from)} of the {label} window"
        )

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
            notes.append(f"no liquidations in the {baseline_days:.1f}d baseline")
    else:
        have = max(span, timedelta(0)).total_seconds() / 3600
        notes.append(f"no baseline: {have:.0f}h of history before the window")

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
        return OIFinding(coin=coin, window=label, insufficient=f"no open-interest data for {coin}")
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
            insufficient=f"latest open interest is from {ago(now - end)}",
        )
    start = end - window
    tol = window_tolerance(window, cfg.align())
    rows: list[VenueOI] = []
    missing: list[str] = []
    notes: list[str] = []
    for venue in sources:
        s = series[venue]
        ts = [p.ts for p in s]
        i1 = _nearest(ts, end, tol, not_after=True)
        i0 = aligned_index(ts, start, window, cfg=cfg.align())
        if i1 is None or i0 is None or i0 >= i1:
            missing.append(venue)
            why = "no recent value" if i1 is None else f"no value {label} ago"
            notes.append(f"{venue} left out of the total: {why}")
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
                "insufficient": f"no venue has open interest {label} back",
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


# ---------------------------------------------------------------------------------------------
# Funding and long/short share


@dataclass(frozen=True)
class FundingConfig:
    elevated_8h: float = 0.0003  # 0.03% per 8h: three times the usual 0.01% base rate
    negative_8h: float = -0.00005  # below this, shorts pay longs
    flush_from_8h: float = 0.0001  # funding at least this at the window start…
    flushed_8h: float = 0.00003  # …and at most this now: the long crowding was flushed
    max_age: timedelta = field(default=timedelta(hours=12))


_Point = TypeVar("_Point", Funding, LongShortRatio)


def _latest_by_venue(
    coin: str, points: Sequence[_Point], at: datetime, max_age: timedelta
) -> dict[str, _Point]:
    """Each venue's newest point at or before ``at`` and no older than ``max_age``."""
    out: dict[str, _Point] = {}
    for p in points:
        if p.coin != coin or p.ts > at or at - p.ts > max_age:
            continue
        if p.venue not in out or p.ts > out[p.venue].ts:
            out[p.venue] = p
    return out


def funding_state(
    coin: str,
    points: Sequence[Funding],
    *,
    now: datetime,
    window: timedelta = timedelta(hours=24),
    config: FundingConfig = FundingConfig(),
) -> FundingFinding:
    """The latest funding per venue (per 8h), its mean, its state against the thresholds, and
    whether it was flushed from positive to about zero since the window start."""
    cfg = config
    label = window_label(window)
    latest = _latest_by_venue(coin, points, now, cfg.max_age)
    sources = tuple(sorted({p.venue for p in points if p.coin == coin}))
    if not latest:
        return FundingFinding(
            coin=coin,
            window=label,
            sources=sources,
            insufficient=f"no funding rate for {coin} in the last {window_label(cfg.max_age)}",
        )
    rows = tuple(
        VenueFunding(venue=v, ts=p.ts, rate_8h=p.rate_8h, interval_hours=p.interval_hours)
        for v, p in sorted(latest.items())
    )
    mean = statistics.fmean(r.rate_8h for r in rows)
    state: FundingState = (
        "elevated" if mean >= cfg.elevated_8h else "negative" if mean <= cfg.negative_8h else "normal"
    )
    prior = _latest_by_venue(coin, points, now - window, cfg.max_age)
    both = [v for v in latest if v in prior]
    prior_mean = statistics.fmean(prior[v].rate_8h for v in both) if both else None
    now_mean_same = statistics.fmean(latest[v].rate_8h for v in both) if both else None
    flushed = (
        prior_mean is not None
        and now_mean_same is not None
        and prior_mean >= cfg.flush_from_8h
        and now_mean_same <= cfg.flushed_8h
    )
    return FundingFinding(
        coin=coin,
        window=label,
        as_of=max(r.ts for r in rows),
        sources=sources,
        by_venue=rows,
        mean_8h=mean,
        prior_mean_8h=prior_mean,
        state=state,
        flushed=flushed,
    )


@dataclass(frozen=True)
class LongShortConfig:
    crowded_long: float = 0.70  # accounts net long at or above this share: longs crowded
    crowded_short: float = 0.40  # at or below: shorts crowded
    max_age: timedelta = field(default=timedelta(hours=6))


def long_short_state(
    coin: str,
    points: Sequence[LongShortRatio],
    *,
    now: datetime,
    window: timedelta = timedelta(hours=24),
    config: LongShortConfig = LongShortConfig(),
) -> LongShortFinding:
    """Share of accounts net long per venue (latest), the mean, and its change since the
    window start (over the venues that have both)."""
    cfg = config
    label = window_label(window)
    latest = _latest_by_venue(coin, points, now, cfg.max_age)
    sources = tuple(sorted({p.venue for p in points if p.coin == coin}))
    if not latest:
        return LongShortFinding(
            coin=coin, window=label, sources=sources, insufficient=f"no long/short ratio for {coin}"
        )
    rows = tuple(VenueLongShort(venue=v, ts=p.ts, long_share=p.long_share) for v, p in sorted(latest.items()))
    share = statistics.fmean(r.long_share for r in rows)
    prior = _latest_by_venue(coin, points, now - window, cfg.max_age)
    both = [v for v in latest if v in prior]
    prior_share = statistics.fmean(prior[v].long_share for v in both) if both else None
    change = (
        (statistics.fmean(latest[v].long_share for v in both) - prior_share) * 100
        if prior_share is not None
        else None
    )
    crowded = "longs" if share >= cfg.crowded_long else "shorts" if share <= cfg.crowded_short else None
    return LongShortFinding(
        coin=coin,
        window=label,
        as_of=max(r.ts for r in rows),
        sources=sources,
        by_venue=rows,
        long_share=share,
        prior_long_share=prior_share,
        change_pp=change,
        crowded=crowded,
    )


# ---------------------------------------------------------------------------------------------
# Taker flow: spot against perpetuals


@dataclass(frozen=True)
class FlowConfig:
    lead_ratio: float = 1.5  # one market leads when its net flow is this many times the other's


def _net(
    bars: Sequence[Candle], coin: str, start: datetime, now: datetime
) -> tuple[float, float, int] | None:
    net = volume = 0.0
    n = 0
    for c in bars:
        if c.coin != coin or not (start <= c.open_time <= now):
            continue
        if c.taker_buy_quote is None or c.quote_volume is None:
            continue
        net += 2.0 * c.taker_buy_quote - c.quote_volume  # taker buys minus taker sells
        volume += c.quote_volume
        n += 1
    return (net, volume, n) if n else None


def taker_flow(
    coin: str,
    spot: Sequence[Candle],
    perp: Sequence[Candle],
    *,
    now: datetime,
    window: timedelta,
    config: FlowConfig = FlowConfig(),
) -> FlowFinding:
    """Net taker flow (aggressive buys minus sells, in quote) on spot and on perpetuals over
    the bars opened in ``[now - window, now]``, and which market led."""
    label = window_label(window)
    start = now - window
    s = _net(spot, coin, start, now)
    p = _net(perp, coin, start, now)
    used = [
        c
        for c in (*spot, *perp)
        if c.coin == coin and start <= c.open_time <= now and c.taker_buy_quote is not None
    ]
    sources = tuple(sorted({f"{c.venue} {c.market}" for c in used}))
    as_of = max((c.open_time for c in used), default=None)
    if s is None and p is None:
        return FlowFinding(
            coin=coin, window=label, sources=sources, insufficient="no bars with taker volume in the window"
        )
    notes = [f"no {m} bars with taker volume" for m, v in (("spot", s), ("perp", p)) if v is None]
    led: FlowLead | None = None
    if s is not None and p is not None:
        a, b = abs(s[0]), abs(p[0])
        led = "spot" if a >= config.lead_ratio * b else "perp" if b >= config.lead_ratio * a else "balanced"
    return FlowFinding(
        coin=coin,
        window=label,
        as_of=as_of,
        sources=sources,
        notes=tuple(notes),
        spot_net_usd=s[0] if s else None,
        perp_net_usd=p[0] if p else None,
        spot_volume_usd=s[1] if s else None,
        perp_volume_usd=p[1] if p else None,
        led_by=led,
    )
