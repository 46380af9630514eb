"""Top traders' positioning against the crowd's.

Binance publishes two views of its top traders (its largest accounts by margin): the long share
of their position size and the share of those accounts net long. Set against the share of all
accounts net long, they say whether the big money leans with the crowd or against it — "top
traders 58% long by position (−6 pp in 24h) while 70% of all accounts are long" reads as the
large accounts de-risking into a crowded long.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Literal

from bot.analysis.findings import LongShortFinding, TopTradersFinding, window_label
from bot.models import TopTraderRatio

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
            coin=coin, window=label, sources=sources, insufficient=f"no top-trader ratios stored for {coin}"
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
