"""Row 8, large liquidations: one pass of :func:`bot.alerts.large.prepare` (read the events and
open interest, decide every channel's message, record them) over a synthetic cascade.

A fresh store (``bot.store.Store`` on a temporary file) holds open interest for 100 coins and a
cascade of 20,000 liquidations in the 10 minutes before "now" (log-normal sizes, so a few
thousand are past the default bar of 0.02% of $1B open interest); N channels subscribe to large
liquidations of every coin. Timed: the cold pass that posts the whole backlog to every channel,
a warm pass 15 s later (nothing new), and a pass after a restart (the state read back).
"""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bench.common import Sizes, progress
from bench.report import INFO, Row, median, ms
from bot.alerts.config import AlertConfig
from bot.alerts.large import StateCache, prepare
from bot.alerts.models import Subscription
from bot.models import Liquidation, OpenInterest
from bot.store import Store

NOW = datetime(2026, 11, 26, 12, tzinfo=UTC)
COINS = [f"C{i:03d}" for i in range(100)]
EVENTS = 20_000
EVENTS_QUICK = 4_000
CHANNELS_FULL = 1000
CHANNELS_QUICK = 100


def _store(path: Path, n: int) -> tuple[Store, int]:
    store = Store(path)
    store.upsert_open_interest(
        [OpenInterest(coin=c, venue="binance", ts=NOW - timedelta(minutes=3), oi_usd=1e9) for c in COINS]
    )
    rnd = random.Random(17)
    events = []
    for k in range(n):
        usd = rnd.lognormvariate(11, 1.5)
        at = NOW - timedelta(seconds=rnd.uniform(0, 600))
        events.append(
            Liquidation(
                venue="binance",
                coin=rnd.choice(COINS),
                side="long",
                price=1.0,
                qty=usd,
                usd=usd,
                ts=at,
                event_id=str(k),
            )
        )
    store.insert_liquidations(events)
    return store, sum(1 for e in events if e.usd >= 200_000)


def run_large_liq(sizes: Sizes, workdir: Path) -> list[Row]:
    channels = CHANNELS_QUICK if sizes.quick else CHANNELS_FULL
    n = EVENTS_QUICK if sizes.quick else EVENTS
    progress(f"alerts: a large-liquidation pass over a cascade, {channels} channels")
    workdir.mkdir(parents=True, exist_ok=True)
    subs = [
        Subscription(
            guild_id=g,
            channel_id=10_000 + g,
            rules=("large_liq",),
            created_at=NOW - timedelta(hours=1),
            updated_at=NOW - timedelta(hours=1),
        )
        for g in range(channels)
    ]
    cold: list[float] = []
    warm: list[float] = []
    restart: list[float] = []
    large = posted = 0
    for run in range(max(1, sizes.repeat)):
        path = workdir / f"large-liq-{run}.db"
        store, large = _store(path, n)
        try:
            cache = StateCache()
            for at, c, out in ((NOW, cache, cold), (NOW + timedelta(seconds=15), cache, warm),
                               (NOW + timedelta(seconds=30), StateCache(), restart)):  # fmt: skip
                t = time.perf_counter()
                done = prepare(store, subs, AlertConfig(), COINS, at, c)
                out.append(time.perf_counter() - t)
                if at == NOW:
                    posted = sum(p.count for p, _ in done.posts)
        finally:
            store.close()
            path.unlink(missing_ok=True)
    return [
        Row(
            "8",
            f"large-liquidation pass, {channels:,} channels × a 10-min cascade (cold / warm / after a restart)",
            f"{ms(median(cold))} / {ms(median(warm))} / {ms(median(restart))}",
            "—",
            "report",
            INFO,
            note=f"100 coins, {n:,} liquidations in the last 10 minutes, {large:,} of them past the "
            f"bar (0.02% of $1B open interest): the cold pass decides and records {posted:,} channel × event "
            "pairs (one message per channel); warm: 15 s later, nothing new; after a restart: the same, "
            "the channels' state read back from the store. Median of "
            f"{len(cold)} run(s).",
            values={
                "channels": channels,
                "cold_s": median(cold),
                "warm_s": median(warm),
                "restart_s": median(restart),
            },
        )
    ]
