"""``tapewatch console`` on the live store: after its one collecting pass, the liquidation
streams run in the background while the prompt is open, so an answer shows what streamed and
says for how long. Every venue is a loopback fake (REST and websockets); never the internet."""

from __future__ import annotations

import asyncio
import copy
import queue
import sqlite3
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from bot.console import run_console
from bot.settings import load_settings
from tests.fake_venues import venue_routes
from tests.helpers import FakeExchange, every_venue_at

from .conftest import LoopbackServer, ServerConn, load_frame, wait_until


class PipedInput:
    """stdin as a pipe the test writes to while the console reads (readline blocks, in the
    console's worker thread, until the test feeds a line; ``""`` is the end of the input)."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()

    def isatty(self) -> bool:
        return False

    def readline(self) -> str:
        return self.lines.get(timeout=30)


def force_order_now(usd: float) -> dict[str, Any]:
    """Binance's recorded forceOrder frame for BTCUSDT, stamped now (the parser keeps the
    venue's event time, and an answer's window ends now)."""
    frame = copy.deepcopy(load_frame("binance-usdm/ws-force-order-arr.json"))
    now_ms = int(time.time() * 1000)
    frame["E"] = frame["o"]["T"] = now_ms
    frame["o"].update(q=str(usd / 60_000), p="60000", ap="60000", l=str(usd / 60_000), z=str(usd / 60_000))
    return frame


def stored_liquidations(db: Path) -> int:
    if not db.exists():
        return 0
    with sqlite3.connect(db) as conn:
        try:
            return int(conn.execute("SELECT COUNT(*) FROM liquidations").fetchone()[0])
        except sqlite3.OperationalError:  # the schema is not there yet
            return 0


async def test_console_streams_liquidations_while_the_prompt_is_open(
    ws_server: Callable[..., Awaitable[LoopbackServer]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    async def script(conn: ServerConn) -> None:
        if conn.path.startswith("/market"):
            await conn.send(force_order_now(1_200_000.0))
        await conn.until_closed()

    server = await ws_server(script)
    rest = FakeExchange(venue_routes(["BTC", "ETH"]))
    url = await rest.start()
    providers: dict[str, Any] = every_venue_at(url)
    providers["binance"]["futures_ws_url"] = f"{server.base}/market"
    providers["bybit"]["ws_url"] = f"{server.base}/bybit"
    providers["okx"]["ws_url"] = f"{server.base}/okx"
    for venue in ("binance", "bybit", "okx", "coingecko", "yahoo", "fred"):
        providers[venue]["requests_per_minute"] = 60_000
    db = tmp_path / "console.db"
    settings = load_settings(db=db, coins=["BTC", "ETH"], providers=providers, http={"retries": 0})
    stdin = PipedInput()
    monkeypatch.setattr("sys.stdin", stdin)
    monkeypatch.chdir(tmp_path)
    console = asyncio.create_task(run_console(settings))
    try:
        # the prompt is open and the stream delivered: ask, as a newcomer would
        await wait_until(lambda: stored_liquidations(db) >= 1 or console.done(), within=30)
        assert not console.done(), capsys.readouterr().out
        stdin.lines.put("/liquidations coin:BTC window:1h\n")
        stdin.lines.put("quit\n")
        assert await asyncio.wait_for(console, timeout=30) == 0
    finally:
        if not console.done():
            console.cancel()
        await rest.close()
    out = capsys.readouterr().out
    assert "Liquidation streams and the collectors now run in the background" in out
    assert "≥ $1.20M" in out  # what streamed while the prompt was open
    assert "(streaming for " in out
    assert "No liquidation stream has run yet" not in out
    # the streams were stopped with the console: no session left open
    with sqlite3.connect(db) as conn:
        open_sessions = conn.execute(
            "SELECT COUNT(*) FROM stream_sessions WHERE disconnected_ms IS NULL"
        ).fetchone()[0]
    assert open_sessions == 0
