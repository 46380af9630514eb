"""The reconnecting runner against a loopback websocket server (127.0.0.1, random port):
drops, replays, resubscription, pings, rotation, stop/cancel and a failing sink."""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from typing import Any

import pytest

from bot.coins import CoinRegistry
from bot.models import Liquidation
from bot.settings import BinanceSettings, BybitSettings, OkxSettings
from bot.store import AsyncStore, Store
from bot.streams import (
    LiquidationStream,
    StreamConfig,
    StreamHooks,
    binance_stream,
    bybit_stream,
    okx_stream,
)
from bot.streams.binance import BinanceLiquidations

from .conftest import LoopbackServer, ServerConn, StepClock, load_frame, wait_until

StartServer = Callable[..., Awaitable[LoopbackServer]]

FAST = StreamConfig(
    ping_interval=None,
    idle_timeout=3.0,
    connect_timeout=2.0,
    close_timeout=0.5,
    backoff_initial=0.01,
    backoff_max=0.05,
    stable_after=30.0,
    flush_interval=0.02,
)

BINANCE_A = load_frame("binance-usdm/ws-force-order-arr.json")  # BTC long
BINANCE_B = copy.deepcopy(BINANCE_A)
BINANCE_B["o"].update(s="ETHUSDT", S="BUY", z="2.5", ap="3000", T=1568014461000)
BINANCE_C = copy.deepcopy(BINANCE_A)
BINANCE_C["o"].update(s="1000PEPEUSDT", z="100000", ap="0.012", T=1568014462000)

BYBIT_A = load_frame("bybit-v5/ws-all-liquidation.json")  # ROSE short
BYBIT_B = copy.deepcopy(BYBIT_A)
BYBIT_B["data"][0].update(T=1739502303000, S="Buy", v="500", p="0.05")

OKX_A = load_frame("okx-v5/ws-liquidation-orders.json")  # IOST short, 13 contracts


def sessions(store: Store) -> list[dict[str, Any]]:
    return store._rows("SELECT * FROM stream_sessions ORDER BY connected_ms")


def liquidations(store: Store) -> list[dict[str, Any]]:
    return store._rows("SELECT * FROM liquidations ORDER BY ts_ms")


def assert_sessions_closed_in_order(rows: list[dict[str, Any]], venue: str, count: int) -> None:
    assert [r["venue"] for r in rows] == [venue] * count
    for earlier, later in itertools.pairwise(rows):
        assert earlier["disconnected_ms"] is not None
        assert earlier["connected_ms"] < earlier["disconnected_ms"] <= later["connected_ms"]


async def stop_and_join(stream: LiquidationStream, task: asyncio.Task[None]) -> None:
    async with asyncio.timeout(3):
        await stream.stop()
        await task
    assert not stream.running


# -- drop, replay, dedupe, sessions ----------------------------------------------------------


async def test_binance_drop_then_replay_stores_each_event_once(
    ws_server: StartServer, registry: CoinRegistry, store: Store, astore: AsyncStore, clock: StepClock
) -> None:
    async def script(conn: ServerConn) -> None:
        if conn.index == 0:
            await conn.send(BINANCE_A, BINANCE_B)
            await wait_until(lambda: store.count("liquidations") == 2)
            conn.drop()  # TCP cut mid-stream, no close frame
            return
        await conn.send(BINANCE_B, BINANCE_A, BINANCE_C)  # the replay repeats A and B
        await conn.until_closed()

    server = await ws_server(script)
    settings = BinanceSettings(futures_ws_url=f"{server.base}/market")
    stream = binance_stream(settings, registry, StreamHooks.for_store(astore), config=FAST, clock=clock)
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: store.count("liquidations") == 3 and len(server.connections) == 2)
    await stop_and_join(stream, task)

    assert [c.path for c in server.connections] == ["/market/ws/!forceOrder@arr"] * 2
    rows = liquidations(store)
    assert [(r["coin"], r["side"]) for r in rows] == [("BTC", "long"), ("ETH", "short"), ("PEPE", "long")]
    assert rows[0]["usd"] == pytest.approx(138.74)
    assert rows[2]["qty"] == pytest.approx(100_000_000.0)
    assert store._rows("SELECT COUNT(*) AS n FROM liq_minute")[0]["n"] >= 1

    found = sessions(store)
    assert len(found) == 2
    assert_sessions_closed_in_order(found, "binance", 2)
    assert found[1]["disconnected_ms"] is not None  # stop() closed the last one too
    assert stream.stats.connects == 2
    assert stream.stats.disconnects == 2
    assert stream.stats.duplicates == 2
    assert stream.stats.events == 3
    assert stream.stats.stored == 3


async def test_store_dedupes_a_replay_after_restart(
    ws_server: StartServer, registry: CoinRegistry, store: Store, astore: AsyncStore, clock: StepClock
) -> None:
    """A new stream (e.g. after a bot restart) has no memory; the store still keeps one copy."""

    async def script(conn: ServerConn) -> None:
        await conn.send(BINANCE_A, BINANCE_B)
        await conn.until_closed()

    server = await ws_server(script)
    settings = BinanceSettings(futures_ws_url=f"{server.base}/market")
    stored_per_run = []
    for _ in range(2):
        stream = binance_stream(settings, registry, StreamHooks.for_store(astore), config=FAST, clock=clock)
        task = asyncio.create_task(stream.run())
        await wait_until(lambda s=stream: s.stats.events == 2 and not s._buffer and not s._deliveries)  # type: ignore[misc]
        await stop_and_join(stream, task)
        stored_per_run.append(stream.stats.stored)
    assert stored_per_run == [2, 0]
    assert store.count("liquidations") == 2
    assert len(sessions(store)) == 2


# -- Bybit: resubscribe and ping -------------------------------------------------------------


def bybit_responder(text: str) -> str | None:
    message = json.loads(text)
    if message.get("op") == "ping":
        return json.dumps({"success": True, "ret_msg": "pong", "conn_id": "c1", "op": "ping"})
    if message.get("op") == "subscribe":
        return json.dumps(
            {
                "success": True,
                "ret_msg": "",
                "conn_id": "c1",
                "req_id": message.get("req_id"),
                "op": "subscribe",
            }
        )
    return None


async def test_bybit_resubscribes_after_reconnect_and_pings(
    ws_server: StartServer, registry: CoinRegistry, store: Store, astore: AsyncStore, clock: StepClock
) -> None:
    def pings(conn: ServerConn) -> int:
        return sum(1 for m in conn.received if json.loads(m).get("op") == "ping")

    async def script(conn: ServerConn) -> None:
        await conn.wait_received(lambda got: any('"subscribe"' in m for m in got))
        if conn.index == 0:
            await conn.send(BYBIT_A)
            await wait_until(lambda: pings(conn) >= 2)
            await conn.ws.close()  # a clean close by the server
            return
        await conn.send(BYBIT_A, BYBIT_B)
        await conn.until_closed()

    server = await ws_server(script, respond=bybit_responder)
    config = replace(FAST, ping_interval=0.05, idle_timeout=1.0)
    stream = bybit_stream(
        BybitSettings(ws_url=f"{server.base}/v5/public/linear"),
        registry,
        StreamHooks.for_store(astore),
        config=config,
        clock=clock,
    )
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: store.count("liquidations") == 2 and len(server.connections) == 2)
    await stop_and_join(stream, task)

    first, second = server.connections
    subscribes = [[json.loads(m) for m in c.received if '"subscribe"' in m] for c in (first, second)]
    assert subscribes[0] == subscribes[1]  # the same subscriptions were sent again
    topics = sorted(a for m in subscribes[1] for a in m["args"])
    assert topics == sorted(f"allLiquidation.{s}" for s in
                            ("BTCUSDT", "ETHUSDT", "ROSEUSDT", "IOSTUSDT", "1000PEPEUSDT", "SHIB1000USDT"))  # fmt: skip
    assert pings(first) >= 2
    assert stream.stats.pings_sent >= 2
    assert [(r["coin"], r["side"]) for r in liquidations(store)] == [("ROSE", "short"), ("ROSE", "long")]
    assert_sessions_closed_in_order(sessions(store), "bybit", 2)


# -- OKX: idle ping, missing pong ------------------------------------------------------------


async def test_okx_pings_when_idle_and_reconnects_when_no_pong(
    ws_server: StartServer, registry: CoinRegistry, store: Store, astore: AsyncStore, clock: StepClock
) -> None:
    answer_pings = asyncio.Event()

    def responder(text: str) -> str | None:
        return "pong" if text == "ping" and answer_pings.is_set() else None

    async def script(conn: ServerConn) -> None:
        await conn.wait_received(lambda got: len(got) >= 1)
        await conn.send({"event": "subscribe", "arg": {"channel": "liquidation-orders", "instType": "SWAP"},
                         "connId": "a"})  # fmt: skip
        if conn.index == 0:
            await conn.until_closed()  # silent and never answers "ping": the client must give up
            return
        answer_pings.set()
        await conn.wait_received(lambda got: "ping" in got)
        await conn.send(OKX_A)
        await conn.until_closed()

    server = await ws_server(script, respond=responder)
    config = replace(FAST, ping_interval=0.05, idle_timeout=0.4)
    stream = okx_stream(
        OkxSettings(ws_url=f"{server.base}/ws/v5/public"),
        registry,
        {"IOST-USDT-SWAP": 1000.0},
        StreamHooks.for_store(astore),
        config=config,
        clock=clock,
    )
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: store.count("liquidations") == 1 and len(server.connections) == 2)
    # the second connection answers pings, so it stays up well past idle_timeout
    await asyncio.sleep(0.5)
    assert len(server.connections) == 2
    await stop_and_join(stream, task)

    first, second = server.connections
    subscribe = {"op": "subscribe", "args": [{"channel": "liquidation-orders", "instType": "SWAP"}]}
    assert json.loads(first.received[0]) == subscribe
    assert json.loads(second.received[0]) == subscribe
    assert "ping" in first.received
    assert second.received.count("ping") >= 2
    assert stream.stats.last_error is not None
    assert "nothing received" in stream.stats.last_error
    [row] = liquidations(store)
    assert (row["coin"], row["side"], row["qty"]) == ("IOST", "short", 13000.0)
    assert row["usd"] == pytest.approx(101.803)
    assert_sessions_closed_in_order(sessions(store), "okx", 2)


# -- Binance keepalive and rotation ----------------------------------------------------------


async def test_binance_answers_server_pings(
    ws_server: StartServer, registry: CoinRegistry, astore: AsyncStore, clock: StepClock
) -> None:
    async def script(conn: ServerConn) -> None:
        for n in range(3):
            await conn.ws.ping(f"hb{n}".encode())
            await asyncio.sleep(0.05)
        await conn.until_closed()

    server = await ws_server(script)
    # idle_timeout shorter than the whole exchange: the server's pings alone keep it alive
    config = replace(FAST, idle_timeout=0.12)
    settings = BinanceSettings(futures_ws_url=f"{server.base}/market")
    stream = binance_stream(settings, registry, StreamHooks.for_store(astore), config=config, clock=clock)
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: len(server.connections) == 1 and len(server.connections[0].pongs) == 3)
    await stop_and_join(stream, task)
    assert server.connections[0].pongs == [b"hb0", b"hb1", b"hb2"]
    assert stream.stats.connects == 1


async def test_rotation_reconnects_at_once_without_backoff(
    ws_server: StartServer, registry: CoinRegistry, store: Store, astore: AsyncStore, clock: StepClock
) -> None:
    async def script(conn: ServerConn) -> None:
        await conn.until_closed()

    server = await ws_server(script)
    # a backoff of 10 s would time the test out: rotation must reconnect immediately
    config = replace(FAST, max_connection_age=0.1, backoff_initial=10.0, backoff_max=10.0)
    settings = BinanceSettings(futures_ws_url=f"{server.base}/market")
    stream = binance_stream(settings, registry, StreamHooks.for_store(astore), config=config, clock=clock)
    task = asyncio.create_task(stream.run())
    # count the client's connections: the server may accept one more that stop() abandons
    await wait_until(lambda: stream.stats.connects >= 3, within=4.0)
    await stop_and_join(stream, task)
    found = sessions(store)
    assert len(found) == stream.stats.connects >= 3
    assert_sessions_closed_in_order(found, "binance", len(found))
    assert stream.stats.last_error is None  # rotations are not errors


# -- stop, cancel, connect failures ----------------------------------------------------------


async def test_stop_during_backoff_returns_promptly(
    registry: CoinRegistry, store: Store, astore: AsyncStore, clock: StepClock
) -> None:
    with __import__("socket").socket() as sock:  # a port with nothing listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    config = replace(FAST, backoff_initial=30.0, backoff_max=30.0)
    settings = BinanceSettings(futures_ws_url=f"ws://127.0.0.1:{port}/market")
    stream = binance_stream(settings, registry, StreamHooks.for_store(astore), config=config, clock=clock)
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: stream.stats.connect_failures >= 1)
    # the backoff is 30 s: a stop that waited it out would hit this guard
    await asyncio.wait_for(stop_and_join(stream, task), timeout=10)
    assert stream.stats.connects == 0
    assert "connect failed" in (stream.stats.last_error or "")
    assert sessions(store) == []


async def test_handshake_rejection_is_retried(
    registry: CoinRegistry, astore: AsyncStore, clock: StepClock
) -> None:
    from aiohttp import web
    from aiohttp.test_utils import TestServer

    hits = []

    async def not_found(request: web.Request) -> web.Response:
        hits.append(request.path)
        return web.Response(status=404)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", not_found)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        settings = BinanceSettings(futures_ws_url=f"ws://127.0.0.1:{server.port}/market")
        stream = binance_stream(settings, registry, StreamHooks.for_store(astore), config=FAST, clock=clock)
        task = asyncio.create_task(stream.run())
        await wait_until(lambda: stream.stats.connect_failures >= 3)
        await stop_and_join(stream, task)
    finally:
        await server.close()
    assert len(hits) >= 3
    assert "404" in (stream.stats.last_error or "")


async def test_cancel_propagates_flushes_and_closes_the_session(
    ws_server: StartServer, registry: CoinRegistry, store: Store, astore: AsyncStore, clock: StepClock
) -> None:
    async def script(conn: ServerConn) -> None:
        await conn.send(BINANCE_A)
        await conn.until_closed()

    server = await ws_server(script)
    config = replace(FAST, flush_interval=60.0)  # the event stays buffered until shutdown
    settings = BinanceSettings(futures_ws_url=f"{server.base}/market")
    stream = binance_stream(settings, registry, StreamHooks.for_store(astore), config=config, clock=clock)
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: stream.stats.events == 1)
    assert store.count("liquidations") == 0
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert store.count("liquidations") == 1
    [session] = sessions(store)
    assert session["disconnected_ms"] is not None
    assert not stream.running
    await wait_until(lambda: server.connections[0].closed.is_set())


# -- sink and hooks --------------------------------------------------------------------------


async def test_failing_sink_is_retried_and_hook_errors_do_not_stop_the_stream(
    ws_server: StartServer, registry: CoinRegistry, clock: StepClock
) -> None:
    stored: list[Liquidation] = []
    seen: list[list[str]] = []
    calls = {"sink": 0, "connect": 0}

    async def sink(events: list[Liquidation]) -> int:
        calls["sink"] += 1
        if calls["sink"] == 1:
            raise OSError("disk full")
        stored.extend(events)
        return len(events)

    async def on_connect(venue: str, at: datetime) -> None:
        calls["connect"] += 1
        raise RuntimeError("store unavailable")

    async def on_disconnect(venue: str, at: datetime) -> None:
        return None

    async def on_events(events: list[Liquidation]) -> None:
        seen.append([e.coin for e in events])
        raise ValueError("alert bug")

    async def script(conn: ServerConn) -> None:
        await conn.send(BINANCE_A)
        await asyncio.sleep(0.1)
        await conn.send(BINANCE_B, BINANCE_A)
        await conn.until_closed()

    server = await ws_server(script)
    hooks = StreamHooks(sink=sink, on_connect=on_connect, on_disconnect=on_disconnect, on_events=on_events)
    adapter = BinanceLiquidations(f"{server.base}/market/ws/!forceOrder@arr", registry)
    stream = LiquidationStream(adapter, hooks, config=FAST, clock=clock)
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: len(stored) == 2)
    await stop_and_join(stream, task)
    assert [e.coin for e in stored] == ["BTC", "ETH"]
    assert stream.stats.sink_failures == 1
    assert stream.stats.connects == 1  # the failing on_connect hook did not drop the connection
    assert list(itertools.chain.from_iterable(seen)) == ["BTC", "ETH"]


async def test_malformed_frames_are_skipped_and_the_stream_continues(
    ws_server: StartServer, registry: CoinRegistry, store: Store, astore: AsyncStore, clock: StepClock
) -> None:
    async def script(conn: ServerConn) -> None:
        await conn.send("not json", "[1, 2", {"e": "forceOrder", "o": {"s": "BTCUSDT"}}, {"e": "other"})
        await conn.ws.send_bytes(b"\xff\xfe")
        await conn.ws.send_bytes(json.dumps(BINANCE_B).encode())
        await conn.send(BINANCE_A)
        await conn.until_closed()

    server = await ws_server(script)
    settings = BinanceSettings(futures_ws_url=f"{server.base}/market")
    stream = binance_stream(settings, registry, StreamHooks.for_store(astore), config=FAST, clock=clock)
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: store.count("liquidations") == 2)
    await stop_and_join(stream, task)
    assert stream.stats.connects == 1
    assert stream.stats.bad_frames == 3  # two non-JSON texts and undecodable bytes
    assert [r["coin"] for r in liquidations(store)] == ["BTC", "ETH"]


async def test_batches_flush_by_size(
    ws_server: StartServer, registry: CoinRegistry, clock: StepClock
) -> None:
    batches: list[int] = []

    async def sink(events: list[Liquidation]) -> int:
        batches.append(len(events))
        return len(events)

    async def noop(venue: str, at: datetime) -> None:
        return None

    frames = []
    for n in range(7):
        frame = copy.deepcopy(BINANCE_A)
        frame["o"]["T"] = 1568014460893 + n
        frames.append(frame)

    async def script(conn: ServerConn) -> None:
        await conn.send(*frames)
        await conn.until_closed()

    server = await ws_server(script)
    adapter = BinanceLiquidations(f"{server.base}/market/ws/!forceOrder@arr", registry)
    config = replace(FAST, flush_interval=60.0, flush_max_events=3)
    stream = LiquidationStream(adapter, StreamHooks(sink, noop, noop), config=config, clock=clock)
    task = asyncio.create_task(stream.run())
    await wait_until(lambda: sum(batches) >= 6)
    assert all(size >= 3 for size in batches)  # only full batches before the interval elapses
    await stop_and_join(stream, task)
    assert sum(batches) == 7  # the remainder is flushed on stop
