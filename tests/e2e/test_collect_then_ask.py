"""End to end, as a user would: ``tapewatch collect --once`` against a loopback fake exchange
(pointed there by env vars), then ``tapewatch ask --json`` — and the same command through the
bot against the fake Discord receives the same payload."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import build_app
from bot.client import TapewatchBot
from bot.offline import OfflineSession, message_payload
from bot.settings import load_settings
from tests.helpers import BINANCE_ROUTES, FakeExchange, every_venue_at


@pytest.fixture
async def exchange() -> AsyncIterator[FakeExchange]:
    fake = FakeExchange(dict(BINANCE_ROUTES))
    await fake.start()
    yield fake
    await fake.close()


async def tapewatch(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode or 0, out.decode(), err.decode()


def collect_env(exchange: FakeExchange, db: str) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TAPEWATCH_") and k != "DISCORD_TOKEN"},
        "TAPEWATCH_DB": db,
        **{
            f"TAPEWATCH_PROVIDERS__{venue.upper()}__{key.upper()}": url
            for venue, keys in every_venue_at(exchange.url).items()
            for key, url in keys.items()
        },
        **{
            f"TAPEWATCH_PROVIDERS__{v}__REQUESTS_PER_MINUTE": "60000"
            for v in ("BINANCE", "BYBIT", "OKX", "COINGECKO", "YAHOO")
        },
        "TAPEWATCH_HTTP__RETRIES": "0",
    }


async def test_collect_once_then_ask(exchange: FakeExchange, db: str) -> None:
    """On both store backends: the same processes, a SQLite file or a PostgreSQL URL."""
    env = collect_env(exchange, db)
    code, out, err = await tapewatch("collect", "--once", env=env)
    assert code == 0, err
    # not a terminal: "[k/n] source ok stored …" per source, then a summary and the store
    lines = {line.split()[1]: line.split("] ", 1)[1] for line in out.splitlines() if line.startswith("[")}
    assert lines["binance/spot-tickers"].split()[1:4] == ["ok", "stored", "2"]
    assert lines["binance/perp-tickers"].split()[1:4] == ["ok", "stored", "1"]

    code, out, err = await tapewatch("ask", "/price coin:BTC", "--json", env=env)
    assert code == 0, err
    printed = json.loads(out)
    [embed] = printed["embeds"]
    assert embed["title"].startswith("BTC $4.000")  # the recorded sample's lastPrice
    assert "Source: Binance spot" in embed["footer"]["text"]
    assert "stale" in embed["footer"]["text"]  # the recorded payload is from 2017 and says so
    assert printed["allowed_mentions"] == {"parse": []}

    app = build_app(load_settings(db=db))
    try:
        async with OfflineSession(TapewatchBot(services=app.services)) as session:
            await session.invoke("/price coin:BTC")
            received = message_payload(session.fake.messages()[-1])
    finally:
        app.close()
    assert received == printed

    code, out, _ = await tapewatch("ask", "/price coin:BTC", env=env)
    assert code == 0
    assert out.startswith("BTC $4.000")


async def test_a_running_bot_sees_another_process_collect(exchange: FakeExchange, db: str) -> None:
    """The bot's process answers, then a collector *process* writes into the same store: the
    bot's next answer has the new data (its cached answer was not served again), on both
    backends — the shared PostgreSQL store is what several processes on several machines use."""
    app = build_app(load_settings(db=db))
    try:
        async with OfflineSession(TapewatchBot(services=app.services)) as session:
            await session.invoke("/price coin:BTC")
            before = message_payload(session.fake.messages()[-1])
            assert "$4.000" not in json.dumps(before)  # nothing collected yet
            code, _, err = await tapewatch("collect", "--once", env=collect_env(exchange, db))
            assert code == 0, err
            deadline = asyncio.get_running_loop().time() + 10
            while True:  # another process's commit is seen within 0.1 s: allow a slow machine
                await session.invoke("/price coin:BTC")
                after = message_payload(session.fake.messages()[-1])
                if "BTC $4.000" in json.dumps(after) or asyncio.get_running_loop().time() > deadline:
                    break
                await asyncio.sleep(0.1)
            [embed] = after["embeds"]
            assert embed["title"].startswith("BTC $4.000")
    finally:
        app.close()
