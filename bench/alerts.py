"""Row 8: alerts, from a liquidation stream event to the channel message, and fan-out.

The app is ``build_app`` on a copy of the smallest generated store with 2 days or more, its clock stopped at the
store's "now"; the bot is ``TapewatchBot`` logged in against the loopback ``FakeDiscordServer``
(``OfflineSession``), so the alerts cog attaches its dispatcher as in ``tapewatch run``.
Subscriptions are saved with ``bot.alerts.store.save_subscription``: liquidation spikes of the
first tracked coin, with ``THRESHOLDS`` overrides.

* Latency: five $30M liquidations of that coin at "now" are stored as the stream sink does
  (``insert_liquidations``) and handed to ``AlertsService.on_liquidations``; the time runs from
  the insert to the moment the fake Discord receives ``POST /channels/{id}/messages``.
* Fan-out: N channels subscribed the same way; one liquidation evaluation
  (``run_cycle(rules=("liquidations",), coins={coin})``) is timed until all N posts arrived.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import NOWHERE, Sizes, Stores, progress
from bench.report import INFO, Row, median, ms, status
from bench.store_gen import GenResult
from bot.alerts import store as db
from bot.alerts.config import parse_thresholds
from bot.alerts.models import MAX_PER_GUILD, Subscription
from bot.alerts.service import LIQUIDATION_RULES
from bot.app import App, build_app
from bot.client import TapewatchBot
from bot.clock import FrozenClock
from bot.fake_discord import GUILD_ID, FakeDiscord
from bot.fake_gateway import FakeDiscordServer
from bot.models import Liquidation
from bot.offline import OfflineSession
from bot.settings import load_settings
from tests.helpers import every_venue_at

LATENCY_GOAL = 5.0
DISCORD_GLOBAL_PER_S = 50  # Discord's global limit per bot, requests per second
FANOUT_FULL = 1000
FANOUT_QUICK = 50
FIRST_CHANNEL = 1_300_000_000_000_010_000
THRESHOLDS = "liq_floor=100K liq_multiple=2"
POST = re.compile(r"/channels/(\d+)/messages")


class PostTimes(FakeDiscord):
    """The fake Discord, noting when the first post to each channel arrives."""

    def __init__(self) -> None:
        super().__init__()
        self.posted: dict[int, float] = {}
        self.expected = 0
        self.done = asyncio.Event()

    def expect(self, count: int) -> None:
        self.posted.clear()
        self.requests.clear()
        self.expected = count
        self.done.clear()

    def respond(
        self, method: str, path: str, query: dict[str, str], body: Any, files: dict[str, bytes] | None = None
    ) -> tuple[int, Any]:
        match = POST.search(path)
        if match and method == "POST":
            self.posted.setdefault(int(match.group(1)), time.perf_counter())
            if self.expected and len(self.posted) >= self.expected:
                self.done.set()
        return super().respond(method, path, query, body, files)


def copy_app(stores: Stores, store: GenResult, here: Path) -> App:
    """``build_app`` on a copy of a generated store (the alerts write subscriptions, states and
    liquidations, which the benchmarks after this one must not see)."""
    here.mkdir(parents=True, exist_ok=True)
    path = here / "alerts.db"
    src, dst = sqlite3.connect(store.path), sqlite3.connect(path)
    try:
        src.backup(dst)
    finally:
        src.close()
        dst.close()
    settings = load_settings(
        stores.settings_path, db=path, coins=list(store.symbols), providers=every_venue_at(NOWHERE)
    )
    return build_app(settings, clock=FrozenClock(store.now))


def reset(app: App, channels: int) -> None:
    """Exactly ``channels`` subscriptions (the first coin's liquidation spikes), no alert state."""
    store = app.store.sync
    with store.lock, store.conn:
        for table in ("alert_subscriptions", "alert_state", "alert_briefs"):
            store.conn.execute(f"DELETE FROM {table}")
    now = app.clock()
    thresholds = parse_thresholds(THRESHOLDS)
    for i in range(channels):
        db.save_subscription(
            store,
            Subscription(
                guild_id=GUILD_ID + i // MAX_PER_GUILD,
                channel_id=FIRST_CHANNEL + i,
                coins=(coin(app),),
                rules=LIQUIDATION_RULES,
                thresholds=thresholds,
                created_at=now,
                updated_at=now,
            ),
        )


def coin(app: App) -> str:
    return app.services.market.tracked[0]


def clear_states(app: App) -> None:
    store = app.store.sync
    with store.lock, store.conn:
        store.conn.execute("DELETE FROM alert_state")


def spike(app: App, n: int) -> list[Liquidation]:
    now = app.clock()
    return [
        Liquidation(
            venue="binance",
            coin=coin(app),
            side="long",
            price=60_000.0,
            qty=500.0,
            usd=30_000_000.0,
            ts=now - timedelta(seconds=2 + i),
            event_id=f"bench-alerts-{n}-{i}",
        )
        for i in range(5)
    ]


async def stream_to_post(app: App, fake: PostTimes, n: int, limit_s: float) -> float:
    fake.expect(1)
    events = spike(app, n)
    start = time.perf_counter()
    await app.store.run(app.store.sync.insert_liquidations, events)  # the stream sink's write
    await app.services.alerts.on_liquidations(events)
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(fake.done.wait(), limit_s)
    await app.services.alerts.idle()
    return min(fake.posted.values(), default=float("nan")) - start


async def fan_out(app: App, fake: PostTimes, channels: int, limit_s: float) -> tuple[float, int]:
    clear_states(app)
    fake.expect(channels)
    start = time.perf_counter()
    report = await app.services.alerts.run_cycle(rules=LIQUIDATION_RULES, coins={coin(app)})
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(fake.done.wait(), limit_s)
    wall = time.perf_counter() - start
    sent = sum(1 for d in report.deliveries if d.status == "sent")
    return wall, min(sent, len(fake.posted))


async def run_alerts(stores: Stores, sizes: Sizes, workdir: Path) -> list[Row]:
    channels = FANOUT_QUICK if sizes.quick else FANOUT_FULL
    progress(f"alerts: liquidation event → channel post, and fan-out to {channels} channels")
    # the spike rule needs a day of stream coverage before the window for its baseline
    days = min((d for d in sizes.days if d >= 2), default=max(sizes.days))
    store = stores.get(min(sizes.coins), days)
    app = copy_app(stores, store, workdir / "alerts")
    fake = PostTimes()
    latencies: list[float] = []
    fan: list[tuple[float, int]] = []
    try:
        async with OfflineSession(TapewatchBot(services=app.services), server=FakeDiscordServer(fake)):
            reset(app, 1)
            await stream_to_post(app, fake, 0, 10.0)  # warm-up: first-call imports and caches
            for n in range(1, sizes.repeat + 1):
                clear_states(app)
                latencies.append(await stream_to_post(app, fake, n, 10.0))
            reset(app, channels)
            for _ in range(sizes.repeat):
                fan.append(await fan_out(app, fake, channels, 120.0 if channels > FANOUT_QUICK else 20.0))
    finally:
        app.close()

    first = coin(app)
    latency = median(latencies)
    wall = median([w for w, _ in fan])
    delivered = min(s for _, s in fan)
    floor = channels / DISCORD_GLOBAL_PER_S
    concurrency = app.services.alerts.concurrency
    return [
        Row(
            "8",
            "liquidation stream event → alert POST on the fake Discord",
            ms(latency),
            "—",
            f"≤ {LATENCY_GOAL:.0f} s",
            status(None if math.isnan(latency) else latency <= LATENCY_GOAL),
            note=f"{store.coins}-coin × {store.days}-day store (a copy), one channel subscribed to {first} "
            f"liquidation spikes ({THRESHOLDS}); five $30M {first} liquidations at the store's now are stored "
            "as the stream "
            "sink does, then handed to AlertsService.on_liquidations. Timed from the store write to the "
            f"fake Discord's POST /channels/…/messages (the /why explanation included); {len(latencies)} "
            "run(s), median shown.",
            values={"latency_s": latency, "runs": len(latencies)},
        ),
        Row(
            "8",
            f"alert fan-out to {channels:,} subscribed channels (one evaluation)",
            f"{ms(wall)}, {delivered:,}/{channels:,} posted ({delivered / wall:,.0f}/s)"
            if wall > 0
            else "n/a",
            f"Discord's global 50 req/s ⇒ ≥ {ms(floor)}",
            "report",
            INFO,
            note="The loopback fake Discord has no rate limits: the figure is the bot's own cost "
            f"(evaluation, embeds, discord.py HTTP with at most {concurrency} posts in flight). Against "
            f"real Discord the global limit of {DISCORD_GLOBAL_PER_S} requests/s means at least "
            f"{floor:,.0f} s for {channels:,} posts (≥ 20 s for 1,000).",
            values={
                "channels": channels,
                "wall_s": wall,
                "posted": delivered,
                "discord_floor_s": floor,
                "runs": len(fan),
            },
        ),
    ]
