"""Row 12, alert fan-out under Discord's global rate limit: N alert posts (one per subscribed
channel) delivered by two dispatchers, as two shard processes would deliver them (each the
channels of its own guilds, ``(guild_id >> 22) % 2``), through discord.py against the loopback
fake Discord with its opt-in global limit on (50 requests/s for the bot's token, shared by both
dispatchers as Discord shares it across a bot's shards; past it a 429 with ``retry_after`` and
``global: true``, which discord.py waits out).

Two dispatchers in one process, each with its own logged-in ``discord.Client`` (its own HTTP
session and rate-limit state), not two processes: the limit is the fake's, per token, and two
clients in one process meet it exactly as two processes would. The posts are ready-made (the
sample alert ``/alerts test`` posts); evaluating the subscriptions is section 8's figure.

Floor: N / 50 s. Counted per channel on the fake: none lost (every channel has its post), none
doubled (no channel has two).
"""

from __future__ import annotations

import asyncio
import time
from contextlib import ExitStack
from datetime import UTC, datetime

import discord

from bench.common import Sizes, progress
from bench.report import Row, ratio, status
from bot.alerts.messages import SamplePost
from bot.dispatch import Dispatcher
from bot.fake_discord import FakeDiscord
from bot.fake_gateway import FakeDiscordServer, pointed_at

GLOBAL_PER_S = 50
SUBS_FULL = 10_000
SUBS_QUICK = 200
SHARDS = 2
GOAL_RATIO = 1.2
FIRST_GUILD = 1_300_000_000_000_000_000
FIRST_CHANNEL = 1_310_000_000_000_000_000


def _posts(n: int) -> list[SamplePost]:
    at = datetime.now(UTC)
    return [SamplePost(FIRST_GUILD + (k << 22) + k, FIRST_CHANNEL + k, at, None, None) for k in range(n)]


async def _deliver(n: int) -> tuple[float, dict[int, int], int, int]:
    """Wall time, accepted posts per channel, 429s answered, deliveries reported sent."""
    fake = FakeDiscord(global_per_s=GLOBAL_PER_S)
    server = FakeDiscordServer(fake)
    clients = [discord.Client(intents=discord.Intents.none()) for _ in range(SHARDS)]
    with ExitStack() as stack:
        stack.enter_context(pointed_at(await server.start()))
        try:
            for client in clients:
                await client.login("bench-fan-out-token")
            fake.requests.clear()
            posts = _posts(n)
            mine = [[p for p in posts if (p.guild_id >> 22) % SHARDS == s] for s in range(SHARDS)]
            dispatchers = [Dispatcher(c, timeout=max(60.0, 3 * n / GLOBAL_PER_S)) for c in clients]
            start = time.perf_counter()
            done = await asyncio.gather(*(d.deliver(m) for d, m in zip(dispatchers, mine, strict=True)))
            wall = time.perf_counter() - start
        finally:
            for client in clients:
                await client.close()
            await server.close()
    sent = sum(1 for ds in done for d in ds if d.status == "sent")
    return wall, fake.accepted_posts(), sum(1 for r in fake.refused if r.status == 429), sent


async def run_fanout(sizes: Sizes) -> list[Row]:
    n = SUBS_QUICK if sizes.quick else SUBS_FULL
    progress(f"alerts: fan-out of {n:,} posts by {SHARDS} dispatchers at Discord's global {GLOBAL_PER_S}/s")
    wall, per_channel, limited, sent = await _deliver(n)
    floor = n / GLOBAL_PER_S
    expected = {FIRST_CHANNEL + k for k in range(n)}
    lost = len(expected - set(per_channel))
    doubled = sum(1 for c in per_channel.values() if c > 1)
    stray = len(set(per_channel) - expected)
    x = wall / floor
    return [
        Row(
            "12",
            f"alert fan-out to {n:,} subscriptions, {SHARDS} dispatchers, Discord's global limit emulated",
            f"{wall:,.1f} s; lost {lost}, doubled {doubled}",
            f"floor {floor:,.0f} s ({n:,} / {GLOBAL_PER_S}/s) · {ratio(x)}",
            f"≤ {GOAL_RATIO}× the floor, none lost or doubled",
            status(x <= GOAL_RATIO, lost == 0 and doubled == 0 and stray == 0),
            note=f"One post per subscribed channel, split by guild shard between two dispatchers "
            "(two discord.Client logins on one token, in one process: not two processes) against the "
            f"fake Discord answering 429 (global, retry_after) past {GLOBAL_PER_S} requests in any second; "
            f"{limited:,} 429s were answered and waited out. Counted per channel on the fake: "
            f"{len(per_channel):,} channels got a post, {sent:,} deliveries reported sent.",
            values={
                "subscriptions": n,
                "wall_s": wall,
                "floor_s": floor,
                "ratio": x,
                "lost": lost,
                "doubled": doubled,
                "rate_limited": limited,
            },
        )
    ]
