"""Alerts exactly once across processes, as processes on one PostgreSQL store: a collector and
two bot processes (shards 0 and 1 of 2). The process holding the ``alerts`` lease posts an
alert; the fake Discord stores the message and then withholds its answer, and the holder is
killed with SIGKILL while it waits (mid-cycle: its states persisted, its post unanswered). The
lease is a session advisory lock, so the kill frees it; the other shard takes over, evaluates
the same subscription every cycle, and re-sends nothing: the channel gets exactly one post."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from aiohttp import web

from bot.fake_discord import CHANNEL_ID, message_payload
from bot.fake_gateway import FakeDiscordServer
from bot.models import Funding
from bot.store import Store
from bot.store.lease import lease_key
from tests.e2e.running import payloads, start_run, stop_run, write_config
from tests.fake_venues import venue_routes
from tests.helpers import FakeExchange

pytestmark = pytest.mark.parametrize("store_backend", ["postgresql"])

CYCLE_S = 5  # jobs.tickers_seconds: the alert evaluation interval (its minimum)
POSTS = f"/channels/{CHANNEL_ID}/messages"


class WithholdingDiscord(FakeDiscordServer):
    """The fake Discord, except that the first alert post is stored (the channel has it) and
    its answer withheld: the poster waits, as it would on a slow Discord, until killed."""

    def __init__(self) -> None:
        super().__init__()
        self.poster_port: int | None = None
        self.held = asyncio.Event()
        self.release = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        response = await super()._handle(request)
        if request.method == "POST" and request.path.endswith(POSTS) and not self.held.is_set():
            peer = request.transport.get_extra_info("peername") if request.transport else None
            self.poster_port = int(peer[1]) if peer else None
            self.held.set()
            await self.release.wait()
        return response

    def posts(self) -> int:
        return sum(1 for r in self.fake.requests if r.method == "POST" and r.path.endswith(POSTS))


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


def seed_funding(url: str) -> None:
    now = datetime.now(UTC)
    store = Store(url)
    try:
        store.upsert_funding(
            Funding(coin="BTC", venue=venue, ts=now - timedelta(minutes=m), rate=0.002)
            for venue in ("binance", "bybit", "okx")
            for m in (0, 30, 60)
        )
    finally:
        store.close()


def tickers(url: str) -> int:
    store = Store(url)
    try:
        return len(store.tickers())
    finally:
        store.close()


async def test_an_alert_fires_once_when_its_evaluator_is_killed_mid_cycle(
    new_db: Callable[[], str], tmp_path: Path
) -> None:
    url = new_db()
    exchange = FakeExchange(venue_routes(["BTC", "ETH"]))
    rest = await exchange.start()
    discord = WithholdingDiscord()
    await discord.start()
    config = write_config(tmp_path / "tapewatch.toml", discord.root, rest=rest, coins=["BTC", "ETH"])
    config.write_text(config.read_text() + f"[jobs]\ntickers_seconds = {CYCLE_S}\n")
    collector = start_run(config, url, "collect")
    shards = [
        start_run(config, url, "run", "--no-sync", "--no-collect", "--shard-count", "2", "--shard-ids", s)
        for s in ("0", "1")
    ]
    logs: list[str] = []
    killed: subprocess.Popen[str] | None = None
    try:
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
        await asyncio.wait_for(discord.held.wait(), 6 * CYCLE_S)  # the holder posted the alert
        assert discord.poster_port is not None
        killed = owner_of_port(discord.poster_port, shards)
        [first] = lease_holders(url)
        killed.send_signal(signal.SIGKILL)  # mid-cycle: its post unanswered
        killed.wait(10)
        discord.release.set()
        survivor = next(p for p in shards if p is not killed)
        for _ in range(10 * 3 * CYCLE_S):  # the survivor takes the freed lease on its next cycle
            if lease_holders(url) not in ([], [first]):
                break
            await asyncio.sleep(0.1)
        [taken] = lease_holders(url)
        assert taken != first, "no process took over the alerts lease"
        await asyncio.sleep(3 * CYCLE_S)  # three more evaluations by the new holder
        assert survivor.poll() is None
        assert discord.posts() == 1
        [post] = [r for r in discord.fake.requests if r.method == "POST" and r.path.endswith(POSTS)]
        assert "funding" in json.dumps(message_payload(post)).lower()
    finally:
        logs = [stop_run(p) for p in (collector, *shards)]
        await discord.close()
        await exchange.close()
    for log in logs:
        assert "Traceback" not in log, log[-3000:]
