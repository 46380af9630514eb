"""A liquidation spike streamed into a ``tapewatch collect`` process reaches the channel a
``tapewatch run --no-collect`` process answers for, through the store alone (the bot has no
streams; :mod:`bot.alerts.liq_watch`), on both backends. The bot's interval evaluation is set an
hour away, so a post at all is the watcher's doing; the seconds it took are printed."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.fake_discord import CHANNEL_ID, message_payload
from bot.fake_gateway import FakeDiscordServer
from bot.store import Store
from tests.e2e.running import (
    CASCADE_USD,
    LiquidationStream,
    force_order,
    fresh_open_interest,
    payloads,
    start_run,
    stop_run,
    write_config,
)
from tests.fake_venues import venue_routes
from tests.helpers import FakeExchange


def _collected(store: Store) -> tuple[float, int]:
    """BTC's open interest of the last hour (each venue's latest, summed) and how many sources
    have succeeded once."""
    latest: dict[str, float] = {}
    for p in sorted(store.open_interest("BTC", datetime.now(UTC) - timedelta(hours=1)), key=lambda p: p.ts):
        latest[p.venue] = p.oi_usd
    done = sum(1 for h in store.source_health() if h.last_success is not None)
    return sum(latest.values()), done


async def test_a_spike_the_collector_stores_is_posted_by_a_bot_that_does_not_collect(
    new_db: Callable[[], str], tmp_path: Path
) -> None:
    target = new_db()
    exchange = FakeExchange(fresh_open_interest(venue_routes(["BTC", "ETH"])))
    rest = await exchange.start()
    stream = LiquidationStream()
    await stream.start()
    discord = FakeDiscordServer()
    await discord.start()
    collector_config = write_config(
        tmp_path / "collect.toml", discord.root, rest=rest, binance_ws=stream.base, coins=["BTC", "ETH"]
    )
    bot_config = write_config(tmp_path / "run.toml", discord.root, rest=rest, coins=["BTC", "ETH"])
    with bot_config.open("a") as f:
        f.write("[jobs]\ntickers_seconds = 3600\n")  # the interval evaluation: an hour away
    collector = start_run(collector_config, target, "collect")
    bot = start_run(bot_config, target, "run", "--no-sync", "--no-collect")
    store: Store | None = None
    posts: list[str] = []
    committed = sent = posted = 0.0
    try:
        await asyncio.wait_for(discord.identified.wait(), 60)
        await asyncio.wait_for(stream.connected.wait(), 60)
        store = Store(target)  # the processes have made the store by now
        oi = 0.0
        for _ in range(900):  # the collector's first pass over every source (the backfill)
            oi, done = _collected(store)
            if oi > 0 and done >= 18:
                break
            await asyncio.sleep(0.1)
        assert oi > 0, "the collector stored no open interest"
        await asyncio.sleep(2.5)  # discord.py waits for guilds after READY before dispatching
        [subscribe] = await payloads(
            [f"/alerts subscribe channel:{CHANNEL_ID} coins:BTC types:liquidations"], ["BTC", "ETH"]
        )
        await discord.dispatch("INTERACTION_CREATE", subscribe)
        for _ in range(100):
            if any(r.path.endswith("/callback") for r in discord.fake.requests):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2)  # the bot's watcher has taken its first look: it starts from now

        since = datetime.now(UTC) - timedelta(minutes=1)
        sent = time.monotonic()
        await stream.send(force_order(max(CASCADE_USD, oi * 0.01)))
        for _ in range(1200):  # a bound, not a figure: the interval evaluation is an hour away
            if not committed and store.liq_minute_events(since):
                committed = time.monotonic()
            posts = [
                json.dumps(message_payload(r), ensure_ascii=False)
                for r in discord.fake.requests
                if r.method == "POST" and r.path == f"/channels/{CHANNEL_ID}/messages"
            ]
            if posts:
                posted = time.monotonic()
                break
            await asyncio.sleep(0.05)
    finally:
        if store is not None:
            store.close()
        bot_log = stop_run(bot)
        collector_log = stop_run(collector)
        await stream.close()
        await discord.close()
        await exchange.close()
    assert posts, f"no alert; the bot's log:\n{bot_log[-3000:]}"
    assert len(posts) == 1
    assert "BTC liquidation spike" in posts[0]
    assert "not collecting" in bot_log
    assert "Traceback" not in bot_log, bot_log[-3000:]
    assert "Traceback" not in collector_log, collector_log[-3000:]
    print(
        f"\nstreamed → stored {committed - sent:.2f} s (seen by the test), "
        f"stored → posted by the --no-collect bot {posted - committed:.2f} s, "
        f"streamed → posted {posted - sent:.2f} s"
    )
