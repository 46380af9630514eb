"""Row 12, alert fan-out under Discord's global rate limit, across processes: N channels (each
its own guild, half on each gateway shard) subscribed to large liquidations in one shared store;
a $50M liquidation stored, and the bot's large-liquidation pass (``AlertsService.run_large``)
run by a process holding no shard: it formats one message per channel and queues them all in
the outbox in one transaction. Two shard processes (``python -m bench.fanout_child``), logged in
before and polling as ``tapewatch run --shard-ids k`` does, each post the rows of their own
guilds through discord.py against the loopback fake Discord with its opt-in global limit on (50
requests/s for the bot's token, shared by both processes as Discord shares it across a bot's
shards; past it a 429 with ``retry_after`` and ``global: true``).

The store is PostgreSQL on a throwaway loopback cluster when one can be started (the shared
store of several machines), else one SQLite file (several processes of one machine); the row
says which. Timed from the start of the evaluation to the last message delivered.

Floor: N / 50 s. Counted per channel on the fake: none lost (every channel has its message),
none doubled (no channel has two); and per process, the rows it posted.
"""

from __future__ import annotations

import asyncio
import json
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import discord

from bench.common import NOWHERE, Sizes, progress
from bench.report import Row, ratio, status
from bot.alerts import store as db
from bot.alerts.models import Subscription
from bot.app import App, build_app
from bot.dispatch import Dispatcher
from bot.fake_discord import FakeDiscord
from bot.fake_gateway import FakeDiscordServer
from bot.models import Liquidation
from bot.settings import load_settings
from tests.helpers import every_venue_at
from tools.pg_cluster import Cluster, NoCluster

GLOBAL_PER_S = 50
SUBS_FULL = 10_000
SUBS_QUICK = 200
SHARDS = 2
GOAL_RATIO = 1.2
FIRST_GUILD = 1_300_000_000_000_000_000
FIRST_CHANNEL = 1_310_000_000_000_000_000


def _subscribe(app: App, n: int) -> None:
    """N channels, each its own guild (half on each shard), subscribed to large liquidations."""
    now = app.clock()
    for k in range(n):
        db.save_subscription(
            app.store.sync,
            Subscription(
                guild_id=FIRST_GUILD + (k << 22) + k,
                channel_id=FIRST_CHANNEL + k,
                coins=("BTC",),
                rules=("large_liq",),
                created_at=now,
                updated_at=now,
            ),
        )


async def _evaluate(app: App) -> int:
    """A $50M BTC long liquidated, stored as the streams store it, and the large-liquidation
    pass the bot runs on it: one message per subscribed channel, queued in the outbox. This
    process holds no shard, so it posts none of them itself."""
    now = app.clock()
    event = Liquidation(
        venue="binance",
        coin="BTC",
        side="long",
        price=60_000.0,
        qty=833.0,
        usd=50e6,
        ts=now,  # after every subscription: a channel is sent what happened since it subscribed
        event_id="bench-fan-out",
    )
    await app.store.run(app.store.sync.insert_liquidations, [event])
    app.services.alerts.attach(NoShard(discord.Client(intents=discord.Intents.none())))
    done = await app.services.alerts.run_large()
    return len(done.posts) if done is not None else 0


class NoShard(Dispatcher):
    """The evaluating process's dispatcher: formats, holds no gateway shard (posts nothing)."""

    def shards(self) -> tuple[int, list[int]] | None:
        return SHARDS, []


ROOT = Path(__file__).resolve().parents[1]


async def _shards(app: App, api: str, n: int) -> tuple[float, float, int, list[dict[str, Any]]]:
    """Start both shard processes; once they are logged in (and have said which shard they post
    for), evaluate, then let them drain: (evaluation seconds, seconds from the evaluation's start
    until both are done, messages queued, their reports)."""
    timeout = max(60.0, 3 * n / GLOBAL_PER_S)
    target = str(app.store.sync.path)
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "bench.fanout_child",
            "--db",
            target,
            "--api",
            api,
            "--count",
            str(SHARDS),
            "--shard",
            str(k),
            "--timeout",
            str(timeout),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            cwd=ROOT,
        )
        for k in range(SHARDS)
    ]
    try:
        for p in procs:
            assert p.stdout is not None
            json.loads(await asyncio.wait_for(p.stdout.readline(), 120))  # logged in
        start = time.perf_counter()
        queued = await _evaluate(app)
        evaluated = time.perf_counter() - start
        for p in procs:
            assert p.stdin is not None
            p.stdin.write(b"go\n")
            await p.stdin.drain()
        reports = []
        for p in procs:
            assert p.stdout is not None
            reports.append(json.loads(await asyncio.wait_for(p.stdout.readline(), 3 * timeout)))
        wall = time.perf_counter() - start
    finally:
        for p in procs:
            if p.returncode is None:
                p.kill()
            await p.wait()
    return evaluated, wall, queued, reports


async def _deliver(n: int) -> dict[str, Any]:
    fake = FakeDiscord(global_per_s=GLOBAL_PER_S)
    server = FakeDiscordServer(fake)
    cluster = Cluster()
    with tempfile.TemporaryDirectory(prefix="tapewatch-fanout-") as tmp:
        try:
            try:
                cluster.start()
                target, backend = cluster.new_database(), "PostgreSQL"
            except NoCluster:
                target, backend = str(Path(tmp) / "fanout.db"), "SQLite"
            settings = load_settings(db=target, coins=["BTC", "ETH"], providers=every_venue_at(NOWHERE))
            app = build_app(settings)
            try:
                await asyncio.to_thread(_subscribe, app, n)
                api = await server.start()
                fake.requests.clear()
                evaluated, wall, queued, reports = await _shards(app, api, n)
                rows = app.store.sync.outbox_rows()
            finally:
                app.close()
        finally:
            await server.close()
            cluster.stop()
    owners = {r["owner"]: r["shard"] for r in reports}
    own = sum(1 for r in rows if owners.get(r["claimed_by"]) == (r["guild_id"] >> 22) % SHARDS)
    return {
        "backend": backend,
        "evaluated": evaluated,
        "queued": queued,
        "wall": wall,
        "per_channel": fake.accepted_posts(),
        "limited": sum(1 for r in fake.refused if r.status == 429),
        "sent": sum(r["statuses"].get("sent", 0) for r in reports),
        "outcomes": Counter(str(r["outcome"]) for r in rows),
        "by_own_shard": own,
        "per_process": [sum(r["statuses"].values()) for r in reports],
    }


async def run_fanout(sizes: Sizes) -> list[Row]:
    n = SUBS_QUICK if sizes.quick else SUBS_FULL
    progress(
        f"alerts: fan-out to {n:,} subscriptions by {SHARDS} shard processes at Discord's global {GLOBAL_PER_S}/s"
    )
    got = await _deliver(n)
    wall, per_channel = got["wall"], got["per_channel"]
    floor = n / GLOBAL_PER_S
    expected = {FIRST_CHANNEL + k for k in range(n)}
    lost = len(expected - set(per_channel))
    doubled = sum(1 for c in per_channel.values() if c > 1)
    stray = len(set(per_channel) - expected)
    x = wall / floor
    return [
        Row(
            "12",
            f"alert fan-out to {n:,} subscriptions, {SHARDS} shard processes, Discord's global limit emulated",
            f"{wall:,.1f} s; lost {lost}, doubled {doubled}",
            f"floor {floor:,.0f} s ({n:,} / {GLOBAL_PER_S}/s) · {ratio(x)}",
            f"≤ {GOAL_RATIO}× the floor, none lost or doubled",
            status(x <= GOAL_RATIO, lost == 0 and doubled == 0 and stray == 0),
            note=f"{n:,} channels subscribed to large liquidations in one {got['backend']} store; a $50M "
            "liquidation stored and the bot's large-liquidation pass run by a process holding no shard "
            f"({got['evaluated']:.1f} s: {got['queued']:,} messages formatted and queued in the outbox in "
            "one transaction with what each channel was sent), then drained by two shard processes "
            f"(posted per process: {got['per_process']}; "
            f"{got['by_own_shard']:,} rows by the process holding the guild's shard) against the fake Discord answering 429 (global, retry_after) past "
            f"{GLOBAL_PER_S} requests in any second; {got['limited']:,} 429s were answered and waited out. "
            f"Counted per channel on the fake: {len(per_channel):,} channels got a message; outbox rows "
            f"{dict(got['outcomes'])}.",
            values={
                "subscriptions": n,
                "backend": got["backend"],
                "wall_s": wall,
                "evaluate_s": got["evaluated"],
                "floor_s": floor,
                "ratio": x,
                "lost": lost,
                "doubled": doubled,
                "rate_limited": got["limited"],
                "by_own_shard": got["by_own_shard"],
            },
        )
    ]
