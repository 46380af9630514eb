"""Roles as processes on one PostgreSQL store: ``tapewatch run --no-collect`` answers and alerts
but collects nothing; a ``tapewatch collect`` process beside it fills the store, and the bot's
next answer has that data (another process's commits invalidate its cached answers); two bot
processes as gateway shards each answer the guilds Discord routes to them, and each posts the
alerts of its own guilds."""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.fake_discord import CHANNEL_ID, GUILD_ID
from bot.fake_gateway import FakeDiscordServer
from tests.e2e.running import (
    CYCLE_S,
    outbox,
    payloads,
    seed_funding,
    start_run,
    stop_run,
    tickers,
    write_config,
)
from tests.fake_venues import venue_routes
from tests.helpers import FakeExchange

pytestmark = pytest.mark.parametrize("store_backend", ["postgresql"])


async def answer_to(server: FakeDiscordServer, command: str) -> str:
    """Send ``command`` over the gateway; the text of its answer (callback or follow-up)."""
    [payload] = await payloads([command], ["BTC", "ETH"])
    return await answer_to_payload(server, payload)


async def answer_to_payload(server: FakeDiscordServer, payload: dict[str, Any]) -> str:
    start = len(server.fake.requests)
    await server.dispatch("INTERACTION_CREATE", payload)
    for _ in range(300):
        done = [
            r
            for r in server.fake.requests[start:]
            if r.method in ("POST", "PATCH")
            and (
                r.path.startswith("/webhooks/")
                or (r.path.endswith("/callback") and (r.json or {}).get("type") == 4)
            )
        ]
        if done:
            return json.dumps(done[-1].json, ensure_ascii=False)
        await asyncio.sleep(0.1)
    raise AssertionError(f"no answer to {payload.get('data', {}).get('name')}")


async def alert_in_each_guild(
    discord: FakeDiscordServer, url: str, shards: list[subprocess.Popen[str]]
) -> None:
    """A channel of a guild on each shard subscribes to funding alerts; the extreme rate then
    stored fires both, and each message is posted by the process holding its guild's shard."""
    [subscribe] = await payloads(
        [f"/alerts subscribe channel:{CHANNEL_ID} coins:BTC types:funding thresholds:'funding=0.0001%'"],
        ["BTC", "ETH"],
    )
    channels = {}
    for k, guild in enumerate((GUILD_ID, GUILD_ID + (1 << 22))):
        channel = CHANNEL_ID + k
        text = json.dumps(subscribe).replace(str(GUILD_ID), str(guild)).replace(str(CHANNEL_ID), str(channel))
        sent = json.loads(text)
        sent["id"] = str(int(sent["id"]) + 100 + k)
        assert "Alerts subscribed" in await answer_to_payload(discord, sent)
        channels[guild] = channel
    seed_funding(url)  # the recorded samples' funding is hours old: an extreme rate, now
    rows: list[dict[str, Any]] = []
    for _ in range(600):
        rows = outbox(url)
        if len(rows) == 2 and all(r["done_ms"] is not None for r in rows):
            break
        await asyncio.sleep(0.1)
    assert sorted(r["guild_id"] for r in rows) == sorted(channels), rows
    for row in rows:
        shard = (row["guild_id"] >> 22) % 2
        assert row["outcome"] == "sent"
        assert row["claimed_by"].endswith(f":{shards[shard].pid}"), (shard, row["claimed_by"])
    posted = discord.fake.accepted_posts()
    assert {c: posted.get(c) for c in channels.values()} == {c: 1 for c in channels.values()}


async def test_a_bot_that_does_not_collect_answers_from_the_collector_process(
    new_db: Callable[[], str], tmp_path: Path
) -> None:
    url = new_db()
    exchange = FakeExchange(venue_routes(["BTC", "ETH"]))
    rest = await exchange.start()
    discord = FakeDiscordServer()
    await discord.start()
    config = write_config(tmp_path / "tapewatch.toml", discord.root, rest=rest, coins=["BTC", "ETH"])
    bot = start_run(config, url, "run", "--no-sync", "--no-collect")
    collector = None
    try:
        await asyncio.wait_for(discord.identified.wait(), 60)
        await asyncio.sleep(2.5)  # discord.py waits for guilds after READY before dispatching
        before = await answer_to(discord, "/price coin:BTC")  # answered, from an empty store
        assert "BTC $" not in before
        await asyncio.sleep(3)
        assert exchange.hits == [], "the --no-collect bot asked a venue"
        assert tickers(url) == 0

        collector = start_run(config, url, "collect")
        for _ in range(600):
            if tickers(url):
                break
            await asyncio.sleep(0.1)
        assert tickers(url), "the collector process stored nothing"
        text = ""
        for _ in range(50):  # its commits reach the bot's data version within 0.1 s
            text = await answer_to(discord, "/price coin:BTC")
            if "BTC $" in text:
                break
            await asyncio.sleep(0.2)
        assert "BTC $" in text, text
        assert [(r.code, r.reason[:80]) for r in discord.fake.refused] == []
    finally:
        bot_log = stop_run(bot)
        collector_log = stop_run(collector) if collector is not None else ""
        await discord.close()
        await exchange.close()
    assert "not collecting" in bot_log
    assert "Traceback" not in bot_log, bot_log[-3000:]
    assert "Traceback" not in collector_log, collector_log[-3000:]


async def test_two_shard_processes_each_answer_their_guilds_and_post_their_alerts(
    new_db: Callable[[], str], tmp_path: Path
) -> None:
    """A collector process and two bot processes, shards 0 and 1 of 2, on one PostgreSQL
    store: the fake gateway routes each guild's interaction to the shard holding it, and each
    shard answers its own, once, with what the collector stored; an alert in each guild is
    posted by the process holding that guild's shard, whichever process evaluated it."""
    url = new_db()
    exchange = FakeExchange(venue_routes(["BTC", "ETH"]))
    rest = await exchange.start()
    discord = FakeDiscordServer()
    await discord.start()
    config = write_config(tmp_path / "tapewatch.toml", discord.root, rest=rest, coins=["BTC", "ETH"])
    config.write_text(config.read_text() + f"[jobs]\ntickers_seconds = {CYCLE_S}\n")
    procs = [start_run(config, url, "collect")]
    for shard in ("0", "1"):
        procs.append(
            start_run(
                config, url, "run", "--no-sync", "--no-collect", "--shard-count", "2", "--shard-ids", shard
            )
        )
    logs: list[str] = []
    try:
        for _ in range(600):
            if sorted(s for s, _ in discord.shard_of.values()) == [0, 1] and tickers(url):
                break
            await asyncio.sleep(0.1)
        assert sorted(discord.shard_of.values()) == [(0, 2), (1, 2)], "both shards identify"
        assert tickers(url), "the collector process stored nothing"
        await asyncio.sleep(2.5)  # discord.py waits for guilds after READY before dispatching
        [payload] = await payloads(["/price coin:BTC"], ["BTC", "ETH"])
        by_shard: dict[int, str] = {}
        for guild in (GUILD_ID, GUILD_ID + (1 << 22)):  # one guild on each shard
            shard = (guild >> 22) % 2
            sent = json.loads(json.dumps(payload).replace(str(GUILD_ID), str(guild)))
            sent["id"] = str(int(sent["id"]) + shard + 1)
            start = len(discord.delivered)
            text = ""
            for _ in range(30):  # the collector's data reaches the shards' answers within 0.1 s
                text = await answer_to_payload(discord, sent)
                sent["id"] = str(int(sent["id"]) + 2)
                if "BTC $" in text:
                    break
                await asyncio.sleep(0.3)
            assert {s for e, s in discord.delivered[start:] if e == "INTERACTION_CREATE"} == {shard}
            by_shard[shard] = text
        assert all("BTC $" in text for text in by_shard.values()), by_shard
        await alert_in_each_guild(discord, url, procs[1:])
        assert [(r.code, r.reason[:80]) for r in discord.fake.refused] == []  # nothing answered twice
    finally:
        logs = [stop_run(p) for p in procs]
        await discord.close()
        await exchange.close()
    for log in logs:
        assert "Traceback" not in log, log[-3000:]
    assert "gateway shards 0 of 2" in logs[1]
    assert "gateway shards 1 of 2" in logs[2]
