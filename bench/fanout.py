"""Row 12, alert fan-out under Discord's global rate limit: N alert messages (one per
subscribed channel) queued in the outbox of one shared store, posted by two shard processes
(``python -m bench.fanout_child``: each drains the rows of its own guilds, ``(guild_id >> 22)
% 2``, and those of shards no live process posts for, as ``tapewatch run --shard-ids k`` does) through discord.py against the loopback fake Discord with its opt-in
global limit on (50 requests/s for the bot's token, shared by both processes as Discord shares
it across a bot's shards; past it a 429 with ``retry_after`` and ``global: true``).

The store is PostgreSQL on a throwaway loopback cluster when one can be started (the shared
store of several machines), else one SQLite file (several processes of one machine); the row
says which. The messages are ready-made (the sample alert ``/alerts test`` posts), queued the
way the engine queues them; evaluating the subscriptions is section 8's figure.

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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import discord

from bench.common import Sizes, progress
from bench.report import Row, ratio, status
from bot.alerts.messages import SamplePost
from bot.alerts.outbox import outbox_row
from bot.dispatch import Dispatcher
from bot.fake_discord import FakeDiscord
from bot.fake_gateway import FakeDiscordServer
from bot.store import Store
from tools.pg_cluster import Cluster, NoCluster

GLOBAL_PER_S = 50
SUBS_FULL = 10_000
SUBS_QUICK = 200
SHARDS = 2
GOAL_RATIO = 1.2
FIRST_GUILD = 1_300_000_000_000_000_000
FIRST_CHANNEL = 1_310_000_000_000_000_000


def _queue(target: str, n: int) -> None:
    """N messages in the outbox, formatted as the engine formats them, each with its nonce."""
    at = datetime.now(UTC)
    poster = Dispatcher(discord.Client(intents=discord.Intents.none()))
    store = Store(target)
    try:
        rows = [
            outbox_row(
                poster,
                SamplePost(FIRST_GUILD + (k << 22) + k, FIRST_CHANNEL + k, at, None, None),
                "alerts",
                1,
                f"fan-{k}",
                at,
            )
            for k in range(n)
        ]
        store.queue_outbox(rows)
    finally:
        store.close()


ROOT = Path(__file__).resolve().parents[1]


async def _shards(target: str, api: str, n: int) -> tuple[float, list[dict[str, Any]]]:
    """Start both shard processes, let them go at once; the wall time until both are done."""
    timeout = max(60.0, 3 * n / GLOBAL_PER_S)
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
    return wall, reports


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
            _queue(target, n)
            api = await server.start()
            fake.requests.clear()
            wall, reports = await _shards(target, api, n)
            store = Store(target)
            try:
                rows = store.outbox_rows()
            finally:
                store.close()
        finally:
            await server.close()
            cluster.stop()
    owners = {r["owner"]: r["shard"] for r in reports}
    own = sum(1 for r in rows if owners.get(r["claimed_by"]) == (r["guild_id"] >> 22) % SHARDS)
    return {
        "backend": backend,
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
        f"alerts: fan-out of {n:,} outbox rows by {SHARDS} shard processes at Discord's global {GLOBAL_PER_S}/s"
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
            note=f"One message per subscribed channel queued in the outbox of one {got['backend']} store, "
            f"drained by two shard processes (posted per process: {got['per_process']}; "
            f"{got['by_own_shard']:,} rows by the process holding the guild's shard) against the fake Discord answering 429 (global, retry_after) past "
            f"{GLOBAL_PER_S} requests in any second; {got['limited']:,} 429s were answered and waited out. "
            f"Counted per channel on the fake: {len(per_channel):,} channels got a message; outbox rows "
            f"{dict(got['outcomes'])}.",
            values={
                "subscriptions": n,
                "backend": got["backend"],
                "wall_s": wall,
                "floor_s": floor,
                "ratio": x,
                "lost": lost,
                "doubled": doubled,
                "rate_limited": got["limited"],
                "by_own_shard": got["by_own_shard"],
            },
        )
    ]
