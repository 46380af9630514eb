"""One shard process of row 12 (``python -m bench.fanout_child``): drains the alert outbox of
a shared store for the guilds of its shard, as ``tapewatch run --shard-ids k`` does, through
discord.py logged in over REST against the parent's loopback fake Discord. It exits when the
outbox has nothing waiting, printing one JSON line: its wall time and deliveries by status.

The same objects the bot's outbox job runs: :class:`bot.alerts.outbox.Outbox` draining through
:class:`bot.dispatch.Dispatcher`; only the gateway is left out (channel posts need none), so
the shard set is the process's argument instead of the gateway's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections import Counter
from datetime import UTC, datetime

import discord

from bot.alerts.outbox import Outbox
from bot.dispatch import Dispatcher
from bot.fake_gateway import pointed_at
from bot.store import AsyncStore, Store


class ShardDispatcher(Dispatcher):
    """The dispatcher of a process holding ``ids`` of ``count`` gateway shards."""

    def __init__(self, client: discord.Client, count: int, ids: list[int], timeout: float) -> None:
        super().__init__(client, timeout=timeout)
        self._shards = (count, ids)

    def shards(self) -> tuple[int, list[int]] | None:
        return self._shards


async def main(args: argparse.Namespace) -> dict[str, object]:
    store = AsyncStore(Store(args.db))
    client = discord.Client(intents=discord.Intents.none())
    statuses: Counter[str] = Counter()
    try:
        with pointed_at(args.api):
            await client.login("bench-fan-out-token")
            poster = ShardDispatcher(client, args.count, [args.shard], args.timeout)
            outbox = Outbox(store, lambda: datetime.now(UTC))
            await outbox.claimable(poster)  # says it posts for its shard, as the bot's first drain does
            print(json.dumps({"ready": True}), flush=True)
            await asyncio.to_thread(sys.stdin.readline)  # the parent starts every shard at once
            start = time.perf_counter()
            while True:
                statuses.update(d.status for d in await outbox.drain(poster))
                waiting, _ = await store.run(store.sync.outbox_waiting, datetime.now(UTC))
                if not waiting:
                    break
                await asyncio.sleep(0.5)  # rows another shard still holds, or waiting out a retry
            wall = time.perf_counter() - start
    finally:
        await client.close()
        store.close()
    return {"shard": args.shard, "wall_s": wall, "owner": outbox.owner, "statuses": dict(statuses)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--api", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--shard", type=int, required=True)
    parser.add_argument("--timeout", type=float, required=True)
    print(json.dumps(asyncio.run(main(parser.parse_args()))), flush=True)
