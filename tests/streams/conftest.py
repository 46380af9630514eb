"""Fixtures for the liquidation stream tests: a small coin registry, the ws sample frames, a
real store on tmp_path, a stepping clock and a scripted loopback websocket server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from aiohttp.test_utils import TestServer

from bot.coins import Coin, CoinRegistry
from bot.store import AsyncStore, Store

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "ws"


def load_frame(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


@pytest.fixture
def registry() -> CoinRegistry:
    return CoinRegistry(
        [
            Coin(symbol="BTC", name="Bitcoin", coingecko="bitcoin", binance_perp="BTCUSDT", bybit="BTCUSDT",
                 okx="BTC-USDT-SWAP"),
            Coin(symbol="ETH", name="Ethereum", coingecko="ethereum", binance_perp="ETHUSDT", bybit="ETHUSDT",
                 okx="ETH-USDT-SWAP"),
            Coin(symbol="ROSE", name="Oasis", coingecko="oasis-network", binance_perp="ROSEUSDT",
                 bybit="ROSEUSDT", okx="ROSE-USDT-SWAP"),
            Coin(symbol="IOST", name="IOST", coingecko="iostoken", binance_perp="IOSTUSDT", bybit="IOSTUSDT",
                 okx="IOST-USDT-SWAP"),
            Coin(symbol="PEPE", name="Pepe", coingecko="pepe", binance_perp="1000PEPEUSDT", bybit="1000PEPEUSDT",
                 okx="PEPE-USDT-SWAP", perp_multiplier=1000),
            Coin(symbol="SHIB", name="Shiba Inu", coingecko="shiba-inu", binance_perp="1000SHIBUSDT",
                 bybit="SHIB1000USDT", okx="SHIB-USDT-SWAP", perp_multiplier=1000),
        ]
    )  # fmt: skip


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    db = Store(tmp_path / "streams.db")
    yield db
    db.close()


@pytest.fixture
def astore(store: Store) -> AsyncStore:
    return AsyncStore(store)


class StepClock:
    """A clock that moves one second per reading, so every recorded time is distinct."""

    def __init__(self, start: datetime = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)) -> None:
        self.now = start

    def __call__(self) -> datetime:
        current = self.now
        self.now += timedelta(seconds=1)
        return current


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


async def wait_until(predicate: Callable[[], bool], within: float = 3.0) -> None:
    """Poll ``predicate`` (state spread over the store, the server and the stream, so there is
    no single event to wait on) until it holds; TimeoutError after ``within`` seconds."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110
            await asyncio.sleep(0.005)


# -- loopback websocket server ---------------------------------------------------------------


@dataclass
class ServerConn:
    """One accepted client connection as the server saw it."""

    index: int
    path: str
    ws: web.WebSocketResponse
    request: web.Request
    received: list[str] = field(default_factory=list)
    pongs: list[bytes] = field(default_factory=list)
    closed: asyncio.Event = field(default_factory=asyncio.Event)

    async def send(self, *frames: Any) -> None:
        for frame in frames:
            await self.ws.send_str(frame if isinstance(frame, str) else json.dumps(frame))

    async def wait_received(self, predicate: Callable[[list[str]], bool], within: float = 3.0) -> None:
        await wait_until(lambda: predicate(self.received), within)

    def drop(self) -> None:
        """Cut the TCP connection without a websocket close frame."""
        transport = self.request.transport
        assert transport is not None
        transport.abort()

    async def until_closed(self) -> None:
        await self.closed.wait()


Script = Callable[[ServerConn], Awaitable[None]]
Responder = Callable[[str], str | None]


@dataclass
class LoopbackServer:
    server: TestServer
    connections: list[ServerConn] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"ws://127.0.0.1:{self.server.port}"


async def _collect(conn: ServerConn, respond: Responder | None) -> None:
    try:
        async for msg in conn.ws:
            if msg.type is WSMsgType.TEXT:
                conn.received.append(msg.data)
                reply = respond(msg.data) if respond else None
                if reply is not None:
                    await conn.ws.send_str(reply)
            elif msg.type is WSMsgType.PONG:
                conn.pongs.append(msg.data)
    except (ConnectionError, RuntimeError):
        pass
    finally:
        conn.closed.set()


@pytest.fixture
async def ws_server() -> AsyncIterator[Callable[..., Awaitable[LoopbackServer]]]:
    """``await ws_server(script, respond=None)``: a websocket server on 127.0.0.1 (random port)
    accepting any path. ``script(conn)`` runs per connection (``conn.index`` 0, 1, ...);
    ``respond(text)`` may answer each text frame from the client (acks, pongs)."""
    started: list[TestServer] = []

    async def start(script: Script, respond: Responder | None = None) -> LoopbackServer:
        app = web.Application()
        loopback: LoopbackServer

        async def handler(request: web.Request) -> web.StreamResponse:
            ws = web.WebSocketResponse(autoping=False)
            await ws.prepare(request)
            conn = ServerConn(index=len(loopback.connections), path=request.path, ws=ws, request=request)
            loopback.connections.append(conn)
            collector = asyncio.create_task(_collect(conn, respond))
            try:
                await script(conn)
            finally:
                if not ws.closed and not conn.closed.is_set():
                    await ws.close()
                collector.cancel()
                await asyncio.gather(collector, return_exceptions=True)
            return ws

        app.router.add_route("GET", "/{tail:.*}", handler)
        server = TestServer(app, host="127.0.0.1")
        await server.start_server()
        started.append(server)
        loopback = LoopbackServer(server)
        return loopback

    yield start
    for server in started:
        await server.close()
