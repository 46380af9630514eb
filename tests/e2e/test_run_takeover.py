"""Alerts exactly once across processes and crashes, as processes on one PostgreSQL store: a
collector and two bot processes (shards 0 and 1 of 2). An alert fires for a channel of a guild
on shard 0; its message is queued in the outbox with the state that decided it, and the
process holding shard 0 claims and posts it. The fake Discord withholds its answer to that
post — having stored the message (Discord received it) or not yet (it never arrived) — and the
poster is killed with SIGKILL while it waits. Its claim runs out; the other process posts the
row again with the same nonce, and the channel has exactly one message either way: the second
post is deduplicated (``enforce_nonce``) or is the first to arrive. The killed process held
the alerts lease (a session advisory lock) — shard 0 is started first and takes it, so it
evaluates the alert too — the other takes it over and re-sends nothing."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest
from aiohttp import web

from bot.fake_discord import CHANNEL_ID, message_payload
from bot.fake_gateway import FakeDiscordServer
from bot.store.lease import lease_key
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

POST_TIMEOUT_S = 3  # discord.post_timeout_seconds: a claim lasts 2 × this + 5 s
POSTS = f"/channels/{CHANNEL_ID}/messages"


class WithholdingDiscord(FakeDiscordServer):
    """The fake Discord, except that the first alert post is withheld: stored first (the
    channel has it) or not (it never arrived), and its answer held back, so the poster waits,
    as it would on a slow Discord, until killed."""

    def __init__(self, *, store_first: bool) -> None:
        super().__init__()
        self.store_first = store_first
        self.poster_port: int | None = None
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        first = request.method == "POST" and request.path.endswith(POSTS) and not self.held.is_set()
        if first and not self.store_first:
            await self._hold(request)
            return web.Response(status=502)  # nobody is there to read it
        response = await super()._handle(request)
        if first:
            await self._hold(request)
        return response

    async def _hold(self, request: web.Request) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.poster_port = int(peer[1]) if peer else None
        self.held.set()
        await self.release.wait()

    def created(self) -> int:
        return self.fake.accepted_posts().get(CHANNEL_ID, 0)


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    fd_dir = Path(f"/proc/{pid}/fd")
    for fd in fd_dir.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def owner_of_port(port: int, procs: list[subprocess.Popen[str]]) -> subprocess.Popen[str]:
    """Which of ``procs`` has a loopback TCP socket on local ``port`` (from /proc)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            cols = line.split()
            if int(cols[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(cols[9])
    [owner] = [p for p in procs if _socket_inodes(p.pid) & inodes]
    return owner


def lease_holders(url: str) -> list[int]:
    """The server sessions (backend pids) holding the alerts lease: PostgreSQL's own view."""
    key = lease_key("alerts")
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted"
            " AND ((classid::bigint << 32) | objid::bigint) = (%s::bigint & x'FFFFFFFFFFFFFFFF'::bigint)",
            (key,),
        ).fetchall()
    return [int(r[0]) for r in row]


@pytest.mark.parametrize("store_first", [True, False], ids=["received", "not-received"])
async def test_an_alert_posts_once_when_its_poster_is_killed_mid_post(
    new_db: Callable[[], str], tmp_path: Path, store_first: bool
) -> None:
    url = new_db()
    exchange = FakeExchange(venue_routes(["BTC", "ETH"]))
    rest = await exchange.start()
    discord = WithholdingDiscord(store_first=store_first)
    await discord.start()
    config = write_config(tmp_path / "tapewatch.toml", discord.root, rest=rest, coins=["BTC", "ETH"])
    text = config.read_text().replace("[discord]\n", f"[discord]\npost_timeout_seconds = {POST_TIMEOUT_S}\n")
    config.write_text(text + f"[jobs]\ntickers_seconds = {CYCLE_S}\n")
    collector = start_run(config, url, "collect")
    shards = [
        start_run(config, url, "run", "--no-sync", "--no-collect", "--shard-count", "2", "--shard-ids", "0")
    ]
    logs: list[str] = []
    killed: subprocess.Popen[str] | None = None
    try:
        for _ in range(600):  # shard 0 takes the evaluation lease before shard 1 starts
            if lease_holders(url):
                break
            await asyncio.sleep(0.1)
        [evaluator] = lease_holders(url)
        shards.append(
            start_run(
                config, url, "run", "--no-sync", "--no-collect", "--shard-count", "2", "--shard-ids", "1"
            )
        )
        for _ in range(600):
            if sorted(discord.shard_of.values()) == [(0, 2), (1, 2)] and tickers(url):
                break
            await asyncio.sleep(0.1)
        assert tickers(url), "the collector process stored nothing"
        await asyncio.sleep(2.5)  # discord.py waits for guilds after READY before dispatching
        [subscribe] = await payloads(
            [f"/alerts subscribe channel:{CHANNEL_ID} coins:BTC types:funding thresholds:'funding=0.0001%'"],
            ["BTC", "ETH"],
        )
        await discord.dispatch("INTERACTION_CREATE", subscribe)  # GUILD_ID is shard 0's
        seed_funding(url)  # the recorded samples' funding is hours old: an extreme rate, now
        await asyncio.wait_for(discord.held.wait(), 6 * CYCLE_S)  # the alert's post is in flight
        assert discord.poster_port is not None
        killed = owner_of_port(discord.poster_port, shards)
        assert killed is shards[0], "posted by a process that does not hold the guild's shard"
        assert lease_holders(url) == [evaluator]  # it evaluated the alert too
        killed.send_signal(signal.SIGKILL)  # mid-cycle, mid-post: its claim on the row stands
        killed.wait(10)
        discord.release.set()
        survivor = shards[1]
        rows: list[dict[str, Any]] = []
        for _ in range(600):  # the claim runs out (2 × 3 s + 5 s), then the survivor posts it
            rows = outbox(url)
            if rows and rows[0]["done_ms"] is not None:
                break
            await asyncio.sleep(0.1)
        [row] = rows
        assert (row["outcome"], row["attempts"]) == ("sent", 2), row
        assert row["claimed_by"].endswith(f":{survivor.pid}")
        assert discord.created() == 1  # one message in the channel
        assert len(discord.fake.deduplicated) == (1 if store_first else 0)
        posts = [r for r in discord.fake.requests if r.method == "POST" and r.path.endswith(POSTS)]
        assert {r.json["nonce"] for r in posts} == {row["nonce"]}  # the same nonce both times
        assert "funding" in json.dumps(message_payload(posts[-1])).lower()
        [taken] = lease_holders(url)
        assert taken != evaluator, "no process took over the alerts lease"
        await asyncio.sleep(3 * CYCLE_S)  # three more evaluations: nothing re-sent
        assert survivor.poll() is None
        assert discord.created() == 1
        assert len(outbox(url)) == 1
    finally:
        logs = [stop_run(p) for p in (collector, *shards)]
        await discord.close()
        await exchange.close()
    for log in logs:
        assert "Traceback" not in log, log[-3000:]
