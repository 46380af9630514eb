"""Issue 11's done-when, as a process: a fresh store, ``tapewatch run`` against loopback venues
(REST from the recorded samples, Binance's liquidation stream from a loopback websocket) and the
fake Discord (gateway and REST). A channel subscribes to BTC liquidation alerts through
``/alerts subscribe``; a $237M BTC long liquidation then streams in, and the spike alert is
posted to the channel within a minute, measured on open interest (no history exists yet)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

from bot.fake_discord import CHANNEL_ID, message_payload
from bot.fake_gateway import FakeDiscordServer
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

ROOT = Path(__file__).resolve().parents[2]


def _oi_usd(db: Path) -> float:
    """BTC's open interest of the last hour, each venue's latest, summed."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        rows = conn.execute(
            "SELECT venue, oi_usd FROM open_interest WHERE coin = 'BTC' AND ts_ms > ? ORDER BY ts_ms DESC",
            (int(time.time() * 1000) - 3_600_000,),
        ).fetchall()
    latest: dict[str, float] = {}
    for venue, usd in rows:
        latest.setdefault(venue, usd)
    return sum(latest.values())


def _sources_done(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return int(
            conn.execute("SELECT COUNT(*) FROM source_health WHERE last_success_ms IS NOT NULL").fetchone()[0]
        )


async def test_a_cascade_on_a_fresh_install_alerts_within_a_minute(tmp_path: Path) -> None:
    exchange = FakeExchange(fresh_open_interest(venue_routes(["BTC", "ETH"])))
    rest = await exchange.start()
    stream = LiquidationStream()
    await stream.start()
    discord = FakeDiscordServer()
    await discord.start()
    db = tmp_path / "fresh.db"
    config = write_config(
        tmp_path / "tapewatch.toml", discord.root, rest=rest, binance_ws=stream.base, coins=["BTC", "ETH"]
    )
    run = start_run(config, db)
    try:
        await asyncio.wait_for(discord.identified.wait(), 60)
        await asyncio.wait_for(stream.connected.wait(), 60)
        for _ in range(300):  # the first tickers pass stores open interest
            if db.exists() and _oi_usd(db) > 0:
                break
            await asyncio.sleep(0.1)
        oi = _oi_usd(db)
        assert oi > 0, "no open interest was collected"
        for _ in range(900):  # the first pass over every source (the backfill) has finished
            if _sources_done(db) >= 18:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(2.5)  # discord.py waits for guilds after READY before dispatching
        await discord.dispatch(
            "INTERACTION_CREATE",
            (
                await payloads(
                    [f"/alerts subscribe channel:{CHANNEL_ID} coins:BTC types:liquidations"], ["BTC", "ETH"]
                )
            )[0],
        )
        for _ in range(100):
            if any(r.path.endswith("/callback") for r in discord.fake.requests):
                break
            await asyncio.sleep(0.1)
        usd = max(CASCADE_USD, oi * 0.01)  # $237M, or 1% of the fake's open interest if larger
        sent = time.monotonic()
        await stream.send(force_order(usd))
        posts: list[str] = []
        for _ in range(600):  # a minute
            posts = [
                json.dumps(message_payload(r), ensure_ascii=False)
                for r in discord.fake.requests
                if r.method == "POST" and r.path == f"/channels/{CHANNEL_ID}/messages"
            ]
            if posts:
                break
            await asyncio.sleep(0.1)
        elapsed = time.monotonic() - sent
    finally:
        err = stop_run(run)
        await stream.close()
        await discord.close()
        await exchange.close()
    assert posts, f"no alert within a minute; the bot's log:\n{err[-3000:]}"
    assert elapsed < 60
    assert len(posts) == 1
    assert "liquidation spike" in posts[0]
    assert "of open interest" in posts[0]  # no history yet: measured on open interest, and it says so
