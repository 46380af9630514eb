"""Positioning: funding (what holding a position costs), the crowd's long/short share, and
top traders' positioning against the crowd's.

Binance publishes two views of its top traders (its largest accounts by margin): the long share
of their position size and the share of those accounts net long. Set against the share of all
accounts net long, they say whether the big money leans with the crowd or against it — "top
traders 58% long by position (−6 pp in 24h) while 70% of all accounts are long" reads as the
large accounts de-risking into a crowded long.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from bot.analysis.findings import (
    Caveat,
    FundingFinding,
    FundingState,
    LongShortFinding,
    TopTradersFinding,
    VenueFunding,
    VenueLongShort,
    window_label,
)
from bot.models import (
    Funding,
    LongShortRatio,
    TopTraderRatio,
)

MAX_AGE = timedelta(hours=6)  # the ratios come hourly; older than this is not "now"


def _share(
    points: Sequence[TopTraderRatio], basis: Literal["position", "account"], at: datetime
) -> tuple[float, datetime] | None:
    """Mean over venues of each venue's latest share at or before ``at`` (within MAX_AGE)."""
    latest: dict[str, TopTraderRatio] = {}
    for p in sorted(points, key=lambda p: p.ts):
        if p.basis == basis and at - MAX_AGE <= p.ts <= at:
            latest[p.venue] = p
    if not latest:
        return None
    return statistics.fmean(p.long_share for p in latest.values()), max(p.ts for p in latest.values())


def top_traders_state(
    coin: str,
    points: Sequence[TopTraderRatio],
    *,
    now: datetime,
    window: timedelta,
    all_accounts: LongShortFinding | None = None,
) -> TopTradersFinding:
    label = window_label(window)
    mine = [p for p in points if p.coin == coin]
    sources = tuple(sorted({p.venue for p in mine}))
    position, account = _share(mine, "position", now), _share(mine, "account", now)
    if position is None and account is None:
        return TopTradersFinding(
            coin=coin, window=label, sources=sources, insufficient=Caveat(code="no_top_traders", coin=coin)
        )
    update: dict[str, object] = {}
    for basis, now_share in (("position", position), ("account", account)):
        if now_share is None:
            continue
        update[f"{basis}_long_share"] = now_share[0]
        before = _share(mine, basis, now - window)  # type: ignore[arg-type]
        if before is not None:
            update[f"{basis}_change_pp"] = (now_share[0] - before[0]) * 100
    crowd = all_accounts.long_share if all_accounts is not None and all_accounts.ok else None
    if crowd is not None:
        update["all_accounts_long_share"] = crowd
        if position is not None:
            update["gap_pp"] = (position[0] - crowd) * 100
    as_of = max(s[1] for s in (position, account) if s is not None)
    return TopTradersFinding.model_validate(
        {"coin": coin, "window": label, "sources": sources, "as_of": as_of, **update}
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
            insufficient=Caveat(code="no_funding", coin=coin, window=window_label(cfg.max_age)),
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
            coin=coin, window=label, sources=sources, insufficient=Caveat(code="no_long_short", coin=coin)
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
