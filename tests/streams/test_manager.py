"""The stream manager as the bot runs it: three venues against one loopback websocket server,
OKX contract values from a loopback REST fake, events stored once, sessions closed on stop."""

from __future__ import annotations

import copy
import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bot.coins import CoinRegistry
from bot.providers.http import HttpClient
from bot.settings import load_settings
from bot.store import AsyncStore, Store
from bot.streams.manager import StreamManager
from bot.universe import TrackedCoins
from tests.helpers import FakeExchange, every_venue_at

from .conftest import LoopbackServer, ServerConn, StepClock, load_frame, wait_until


def frames_for(path: str) -> list[Any]:
    """Recorded frames, re-keyed to tracked instruments (the samples use ROSE and IOST)."""
    if "forceOrder" in path:
        return [load_frame("binance-usdm/ws-force-order-arr.json")]
    if path.endswith("/bybit"):
        frame = copy.deepcopy(load_frame("bybit-v5/ws-all-liquidation.json"))
        frame["topic"] = "allLiquidation.ETHUSDT"
        frame["data"][0].update(s="ETHUSDT", v="2", p="3000")
        return [frame]
    frame = copy.deepcopy(load_frame("okx-v5/ws-liquidation-orders.json"))
    frame["data"][0].update(instId="BTC-USDT-SWAP", instFamily="BTC-USDT", uly="BTC-USDT")
    frame["data"][0]["details"][0].update(bkPx="90000", sz="5")
    return [frame]


async def test_manager_runs_every_venue_and_stops_cleanly(
    ws_server: Callable[..., Awaitable[LoopbackServer]], tmp_path: Path
) -> None:
    async def script(conn: ServerConn) -> None:
        await conn.send(*frames_for(conn.path))
        await conn.until_closed()

    server = await ws_server(script)
    rest = FakeExchange(
        {
            "/api/v5/public/instruments": {
                "code": "0",
                "msg": "",
                "data": [
                    {"instType": "SWAP", "instId": "BTC-USDT-SWAP", "ctVal": "0.01", "ctType": "linear"}
                ],
            }
        }
    )
    url = await rest.start()
    providers: dict[str, Any] = every_venue_at(url)
    providers["binance"]["futures_ws_url"] = f"{server.base}/market"
    providers["bybit"]["ws_url"] = f"{server.base}/bybit"
    providers["okx"]["ws_url"] = f"{server.base}/okx"
    settings = load_settings(db=tmp_path / "s.db", coins=["BTC", "ETH"], providers=providers)
    store = AsyncStore(Store(settings.db))
    http = HttpClient(settings.http)
    manager = StreamManager(settings, store, CoinRegistry.load(), http, StepClock())
    try:
        await manager.start()
        await wait_until(lambda: store.sync.count("liquidations") == 3, within=5)
        await wait_until(lambda: len(manager.connected) == 3, within=5)
        subscribed = [
            json.loads(m) for c in server.connections if c.path.endswith("/bybit") for m in c.received
        ]
        assert [m["args"] for m in subscribed if m.get("op") == "subscribe"] == [
            ["allLiquidation.BTCUSDT", "allLiquidation.ETHUSDT"]
        ]
    finally:
        await manager.stop()
        await http.aclose()
        await rest.close()
    rows = store.sync.conn.execute(
        "SELECT venue, coin, side, ROUND(usd, 2) FROM liquidations ORDER BY venue"
    ).fetchall()
    assert rows == [
        ("binance", "BTC", "long", round(0.014 * 9910, 2)),
        ("bybit", "ETH", "short", 6000.0),  # Bybit "Sell" = a short position was liquidated
        ("okx", "BTC", "short", 4500.0),  # 5 contracts × 0.01 BTC × $90,000; buy + posSide short
    ]
    sessions = store.sync.stream_sessions(datetime(2000, 1, 1, tzinfo=UTC))
    assert {s.venue for s in sessions} == {"binance", "bybit", "okx"}
    assert all(s.disconnected_at is not None for s in sessions)
    assert manager.tasks == []
    store.close()


async def test_bybit_subscribes_coins_that_enter_the_tracked_set(
    ws_server: Callable[..., Awaitable[LoopbackServer]], tmp_path: Path
) -> None:
    """The tracked set follows the market: a coin entering while Bybit's connection is open is
    subscribed on that connection (Binance's and OKX's all-market streams need nothing)."""

    async def script(conn: ServerConn) -> None:
        await conn.until_closed()

    server = await ws_server(script)
    providers: dict[str, Any] = every_venue_at("http://127.0.0.1:9")
    providers["bybit"]["ws_url"] = f"{server.base}/bybit"
    providers["binance"]["enabled"] = False
    providers["okx"]["enabled"] = False
    settings = load_settings(db=tmp_path / "s.db", coins=["BTC"], providers=providers)
    store = AsyncStore(Store(settings.db))
    http = HttpClient(settings.http)
    tracked = TrackedCoins(["BTC"], follows_market=True)
    manager = StreamManager(settings, store, CoinRegistry.load(), http, StepClock(), tracked=tracked)
    try:
        await manager.start()
        await wait_until(lambda: len(manager.connected) == 1, within=5)
        tracked.replace(["BTC", "SOL", "PEPE"])
        [conn] = server.connections
        await conn.wait_received(lambda got: len(got) == 2)
        subscribed = [json.loads(m)["args"] for m in conn.received]
        assert subscribed == [
            ["allLiquidation.BTCUSDT"],
            ["allLiquidation.1000PEPEUSDT", "allLiquidation.SOLUSDT"],
        ]
        assert manager.registry.by_venue("bybit", "SOLUSDT") is not None  # recorded from now on
    finally:
        await manager.stop()
        await http.aclose()
        store.close()
