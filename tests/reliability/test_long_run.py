"""Long run: the bot's real objects, wired as ``tapewatch run`` wires them (``build_app``, the
collector's and the alerts' scheduler jobs, the ``StreamManager`` feeding the alerts' liquidation
hook, and ``TapewatchBot``; one channel subscribed to alerts), against the loopback
fake Discord (:class:`OfflineSession`), the loopback fake of every REST venue
(``tests/fake_venues.py``) and a loopback websocket server streaming liquidation frames to
Binance, Bybit and OKX clients continuously — with duplicates re-sent and one server-side
disconnect per venue — while slash commands run throughout. For a bounded time
(``RELIABILITY_LONG_RUN_SECONDS``, default 15, plus a 3 s warm-up):

* memory is flat: traced Python memory (tracemalloc, started after a warm-up) of the last third
  of the run is within a tolerance of the first third;
* no task leaks: once everything is closed, ``asyncio.all_tasks()`` is back to its baseline;
* every event the server sent is stored exactly once (and nothing else), the per-minute and
  per-hour roll-ups equal sums over the raw events, every stream session was closed;
* every command answered, without an unhandled error, and no message (replies and any alert
  posted to the subscribed channel) pinged anyone;
* every alert delivered once: with two days of quiet history seeded (so the spike rule has its
  baseline), the streamed liquidations fire spike alerts, and each fired state is in exactly
  one posted embed, none repeated within its cooldown.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import sqlite3
import statistics
import time
import tracemalloc
from collections import deque
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp import WSMsgType, web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.alerts.jobs import register_alert_jobs
from bot.app import App, build_app, collector_for, scheduler_next_refresh, streams_for
from bot.client import TapewatchBot
from bot.coins import CoinRegistry
from bot.fake_discord import CHANNEL_ID
from bot.fake_gateway import serve_loopback
from bot.jobs import register_jobs
from bot.models import Liquidation
from bot.offline import OfflineSession
from bot.settings import load_settings
from bot.streams import BinanceLiquidations, BybitLiquidations, OkxLiquidations
from bot.streams import binance as binance_ws
from bot.streams import bybit as bybit_ws
from bot.streams import okx as okx_ws
from tests.fake_venues import OKX_CT_VAL, venue_routes
from tests.helpers import FakeExchange, every_venue_at
from tests.reliability.conftest import assert_no_pings

pytestmark = pytest.mark.reliability

DURATION = float(os.environ.get("RELIABILITY_LONG_RUN_SECONDS", "15"))
WARM_UP = 3.0  # first job runs, first chart renders, imports: before memory is traced
MEMORY_TOLERANCE = 1024 * 1024  # bytes of traced growth allowed, first third → last third
COINS = ["BTC", "ETH", "SOL"]
FRAME_EVERY = 0.02  # seconds between frames, per venue connection
RECENT_IDS = 100  # ids remembered per stream (the replays re-send ~10 events)
REPLAY = 5  # frames re-sent at the start of a reconnection (a venue replaying recent events)
COMMANDS = [
    "/price coin:btc",
    "/why",
    "/why coin:eth window:1h",
    "/liquidations",
    "/liquidations coin:btc window:1h",
    "/levels coin:sol",
    "/status",
]


# -- a loopback liquidation feed ------------------------------------------------------------------


class LiquidationFeed:
    """A websocket server speaking each venue's liquidation stream. Every frame it sends is
    recorded; the events in them (decoded by the bot's own parsers) are what must be stored."""

    def __init__(self, registry: CoinRegistry, log: Path, seed: int = 7) -> None:
        self.registry = registry
        self.log = log.open("w", encoding="utf-8")  # every frame sent, one per line (not in memory)
        self.ct_val = {registry.get(s).okx: float(OKX_CT_VAL.get(s, "1")) for s in COINS}
        self.rng = random.Random(seed)
        self.recent: dict[str, deque[str]] = {v: deque(maxlen=REPLAY) for v in ("binance", "bybit", "okx")}
        self.connections: dict[str, int] = {"binance": 0, "bybit": 0, "okx": 0}
        self.producing = True
        self.producers = 0  # connections currently sending new frames
        self.drop_at: float | None = None  # loop time at which each venue's first connection is closed
        self._n = 0
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> str:
        self._runner, port = await serve_loopback(self._handle)
        self.base = f"ws://127.0.0.1:{port}"
        return self.base

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        self.log.close()

    def expected(self) -> set[tuple[str, str]]:
        """(venue, event id) of every event sent, as the bot's parsers read the frames."""
        self.log.flush()
        out: set[tuple[str, str]] = set()
        with open(self.log.name, encoding="utf-8") as sent:
            for line in sent:
                venue, text = line.rstrip("\n").split("\t", 1)
                out.update((venue, e.event_id) for e in self.parse(venue, json.loads(text)))
        return out

    def parse(self, venue: str, frame: Any) -> list[Liquidation]:
        if venue == "binance":
            return binance_ws.parse_frame(frame, self.registry)
        if venue == "bybit":
            return bybit_ws.parse_frame(frame, self.registry)
        return okx_ws.parse_frame(frame, self.registry, self.ct_val)

    def frame(self, venue: str) -> dict[str, Any]:
        self._n += 1
        n, rng = self._n, self.rng
        coin = self.registry.get(rng.choice(COINS))
        now = int(time.time() * 1000)
        price = f"{rng.uniform(10, 90_000):.2f}"
        if venue == "binance":
            qty = f"{n / 1000:.3f}"  # unique per frame: Binance sends no event id
            side = rng.choice(["BUY", "SELL"])
            order = {"s": coin.binance_perp, "S": side, "o": "LIMIT", "f": "IOC", "q": qty, "p": price,
                     "ap": price, "X": "FILLED", "l": qty, "z": qty, "T": now}  # fmt: skip
            return {"e": "forceOrder", "E": now, "o": order}
        if venue == "bybit":
            rows = [
                {"T": now, "s": coin.bybit, "S": rng.choice(["Buy", "Sell"]), "v": f"{n}.{i}", "p": price}
                for i in range(rng.randint(1, 3))
            ]
            return {"topic": f"allLiquidation.{coin.bybit}", "type": "snapshot", "ts": now, "data": rows}
        details = [
            {"bkLoss": "0", "bkPx": price, "ccy": "", "posSide": rng.choice(["long", "short"]),
             "side": rng.choice(["buy", "sell"]), "sz": f"{n}{i}", "ts": str(now)}
            for i in range(rng.randint(1, 2))
        ]  # fmt: skip
        data = [{"instId": coin.okx, "instType": "SWAP", "instFamily": coin.okx[:-5], "details": details}]
        return {"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": data}

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        venue = "binance" if "forceOrder" in path else "bybit" if path.endswith("/bybit") else "okx"
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        self.connections[venue] += 1
        first = self.connections[venue] == 1
        reader = asyncio.create_task(self._answer(ws))
        try:
            if not first:  # a venue replays recent events after a reconnect: duplicates
                for text in list(self.recent[venue]):
                    await ws.send_str(text)
            await self._produce(ws, venue, first)
            await reader  # until the client closes
        finally:
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return ws

    async def _produce(self, ws: web.WebSocketResponse, venue: str, first: bool) -> None:
        loop = asyncio.get_running_loop()
        self.producers += 1
        try:
            while self.producing and not ws.closed:
                if first and self.drop_at is not None and loop.time() >= self.drop_at:
                    await ws.close()  # a clean server-side disconnect: every sent frame arrives
                    return
                text = json.dumps(self.frame(venue))
                await ws.send_str(text)
                self.log.write(f"{venue}\t{text}\n")  # sent: the bot must store its events
                self.recent[venue].append(text)
                if self.rng.random() < 0.02:  # an occasional immediate duplicate
                    await ws.send_str(text)
                await asyncio.sleep(FRAME_EVERY)
        finally:
            self.producers -= 1

    async def _answer(self, ws: web.WebSocketResponse) -> None:
        async for msg in ws:
            if msg.type is WSMsgType.TEXT:
                if msg.data == "ping":
                    await ws.send_str("pong")  # OKX
                elif '"op":"ping"' in msg.data:
                    await ws.send_str('{"success":true,"ret_msg":"pong","op":"ping"}')  # Bybit


# -- the run --------------------------------------------------------------------------------------


async def wait_until(predicate: Callable[[], bool], within: float) -> bool:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def traced() -> int:
    return tracemalloc.get_traced_memory()[0]


def rss() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


@pytest.fixture
def steady_state_dedupe(monkeypatch: pytest.MonkeyPatch) -> None:
    """The in-memory de-duplication remembers the last 20,000 ids per stream: bounded, but a
    run of seconds never reaches the bound, so its growth would read as a leak. A bound of 100
    is reached during the warm-up; nothing else changes."""
    for adapter in (BinanceLiquidations, BybitLiquidations, OkxLiquidations):
        monkeypatch.setattr(adapter, "default_config", replace(adapter.default_config, recent_ids=RECENT_IDS))


def seed_liquidation_history(app: App) -> int:
    """Two days of quiet, covered liquidation history, so the spike rule has its baseline."""
    now = datetime.now(UTC)
    store = app.store.sync
    events = [
        Liquidation(
            venue=venue, coin=coin, side="long", price=100.0, qty=0.1, usd=10.0,  # type: ignore[arg-type]
            ts=now - timedelta(hours=h), event_id=f"seed-{venue}-{coin}-{h}",
        )
        for venue in ("binance", "bybit", "okx")
        for coin in COINS
        for h in range(2, 48)
    ]  # fmt: skip
    store.insert_liquidations(events)
    for venue in ("binance", "bybit", "okx"):
        store.open_stream_session(venue, now - timedelta(days=2))
        store.close_stream_session(venue, now - timedelta(minutes=1))
    return int(now.timestamp() * 1000)


@pytest.mark.usefixtures("steady_state_dedupe")
async def test_long_run_is_flat_leak_free_and_stores_every_event_once(
    tmp_path: Path, command_errors: list[BaseException], check_rollups: Callable[..., list[str]]
) -> None:
    baseline_tasks = set(asyncio.all_tasks())
    registry = CoinRegistry.load()
    exchange = FakeExchange(venue_routes(COINS))
    feed = LiquidationFeed(registry, tmp_path / "sent.jsonl")
    rest_url, ws_base = await exchange.start(), await feed.start()
    providers: dict[str, Any] = every_venue_at(rest_url)
    providers["binance"]["futures_ws_url"] = f"{ws_base}/market"
    providers["bybit"]["ws_url"] = f"{ws_base}/bybit"
    providers["okx"]["ws_url"] = f"{ws_base}/okx"
    settings = load_settings(
        db=tmp_path / "run.db",
        coins=COINS,
        providers=providers,
        jobs={"tickers_seconds": 5, "markets_seconds": 30, "candles_seconds": 30,
              "derivatives_seconds": 30, "macro_seconds": 60, "jitter_seconds": 0},
    )  # fmt: skip

    scheduler = AsyncIOScheduler(timezone="UTC")
    app = build_app(settings, next_refresh=scheduler_next_refresh(scheduler))
    seeded_ms = seed_liquidation_history(app)
    memory: list[int] = []
    answered = posted = 0
    alert_posts: list[dict[str, Any]] = []
    try:
        async with collector_for(app) as collector:
            register_jobs(scheduler, collector, settings)
            register_alert_jobs(scheduler, app.services.alerts, settings)
            manager = streams_for(app, collector, on_events=app.services.alerts.on_liquidations)
            bot = TapewatchBot(services=app.services, scheduler=scheduler, streams=manager)
            async with OfflineSession(bot) as session:  # login → setup_hook: cogs, scheduler, streams
                # thresholds a streaming feed crosses against the quiet seeded history
                await session.invoke(
                    f'/alerts subscribe channel:{CHANNEL_ID} "thresholds:liq_floor=1K liq_multiple=2"'
                )
                assert command_errors == []
                assert app.store.sync.count("alert_subscriptions") == 1
                loop = asyncio.get_running_loop()
                start = loop.time()
                feed.drop_at = start + WARM_UP + DURATION * 0.4
                i = 0
                while loop.time() - start < WARM_UP + DURATION:
                    requests = await session.invoke(COMMANDS[i % len(COMMANDS)])
                    i += 1
                    assert command_errors == [], f"{COMMANDS[(i - 1) % len(COMMANDS)]}: {command_errors!r}"
                    assert_no_pings(session.fake.requests)  # with any alert posted since the last look
                    answered += any(r in session.fake.messages() for r in requests)
                    posted += sum(r.path.startswith("/channels/") for r in session.fake.requests)
                    alert_posts += [
                        r.json
                        for r in session.fake.requests
                        if r.path == f"/channels/{CHANNEL_ID}/messages" and isinstance(r.json, dict)
                    ]
                    session.fake.requests.clear()  # the fake's own record must not look like a leak
                    if loop.time() - start >= WARM_UP:
                        if not tracemalloc.is_tracing():
                            tracemalloc.start()
                        memory.append(traced())
                    await asyncio.sleep(0.25)
                tracemalloc.stop()
                assert scheduler.get_jobs(), "the scheduler lost its jobs"

                feed.producing = False
                assert await wait_until(lambda: feed.producers == 0, 5), "the feed did not stop"
                expected = feed.expected()
                streams = list(manager.streams)
                assert {s.venue for s in streams} == {"binance", "bybit", "okx"}
                stored = await wait_until(lambda: app.store.sync.count("liquidations") >= len(expected), 10)
                assert stored, f"{app.store.sync.count('liquidations')} of {len(expected)} events stored"
    finally:
        if tracemalloc.is_tracing():
            tracemalloc.stop()
        app.close()
        await feed.close()
        await exchange.close()

    # every event stored once, and nothing else
    with closing(sqlite3.connect(settings.db)) as db:
        got = db.execute(
            "SELECT venue, event_id FROM liquidations WHERE event_id NOT LIKE 'seed-%'"
        ).fetchall()
        assert len(got) == len(set(got)) == len(expected)
        assert set(got) == expected
        assert check_rollups(db) == []
        open_sessions = db.execute(
            "SELECT venue FROM stream_sessions WHERE disconnected_ms IS NULL"
        ).fetchall()
        assert open_sessions == []
        sessions = dict(
            db.execute(  # the run's own sessions, not the seeded history
                "SELECT venue, COUNT(*) FROM stream_sessions WHERE connected_ms > ? GROUP BY venue",
                (seeded_ms,),
            ).fetchall()
        )
    assert all(sessions.get(v, 0) >= 2 for v in ("binance", "bybit", "okx")), sessions  # reconnected
    assert sum(s.stats.stored for s in streams) == len(expected)
    assert sum(s.stats.duplicates for s in streams) >= REPLAY  # the replays were dropped, not stored
    assert sum(s.stats.bad_frames for s in streams) == 0
    assert answered == i, f"{i - answered} commands left no message"

    # every alert delivered once: each fired liquidation-spike state is in exactly one posted
    # embed, and no coin got a second one within its cooldown (the run is far shorter)
    titles = [e.get("title", "") for p in alert_posts for e in p.get("embeds", [])]
    spikes = [t for t in titles if "liquidation spike" in t]
    with closing(sqlite3.connect(settings.db)) as db:
        fired = db.execute(
            "SELECT coin FROM alert_state WHERE rule = 'liquidations' AND fired_ms IS NOT NULL"
        ).fetchall()
    assert spikes, f"no liquidation alert was posted ({titles})"
    assert len(spikes) == len(fired), (spikes, fired)
    for (coin,) in fired:
        assert sum(f" {coin} " in f" {t} " for t in spikes) == 1, (coin, spikes)

    # no task leaks
    settled = await wait_until(lambda: set(asyncio.all_tasks()) <= baseline_tasks, 5)
    leaked = sorted(t.get_name() for t in set(asyncio.all_tasks()) - baseline_tasks)
    assert settled, f"tasks left running after close: {leaked}"

    # memory flat
    third = max(1, len(memory) // 3)
    first, last = statistics.median(memory[:third]), statistics.median(memory[-third:])
    print(
        f"\nlong run: {DURATION:.0f}s, {len(expected)} events, {i} commands, {posted} alert posts, traced "
        f"{first / 1e6:.2f} → {last / 1e6:.2f} MB, RSS {rss() / 1e6:.0f} MB"
    )
    assert len(memory) >= 12, "too few memory samples"
    assert last - first < MEMORY_TOLERANCE, f"traced memory grew {(last - first) / 1e6:.2f} MB"
