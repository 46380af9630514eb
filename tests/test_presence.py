"""The price in the bot's presence: the real discord.py ``change_presence`` through the fake
gateway (op 3 recorded, shapes Discord refuses refused), one update per tickers refresh at
most once a minute and only when the text changed; the coin chosen; the wording."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.client import TapewatchBot
from bot.clock import FrozenClock
from bot.fake_gateway import FakeDiscordServer, pointed_at, presence_problems
from bot.job_ids import TICKERS_JOB
from bot.models import Ticker
from bot.presence import PRESENCE_JOB, PresenceUpdater, register_presence
from bot.render.presence import presence_text
from bot.services.presence import presence_coin
from bot.views.presence import PresenceQuote
from tests.conftest import NOW


def ticker(app: App, coin: str, price: float, change: float | None, at: timedelta = timedelta(0)) -> None:
    t = Ticker(coin=coin, venue="binance", market="spot", price=price, change_24h_pct=change, ts=NOW + at)
    app.store.sync.upsert_tickers([t], NOW + at)


@pytest.fixture
async def online(app: App) -> AsyncIterator[tuple[TapewatchBot, FakeDiscordServer]]:
    """A bot logged in and connected to the fake gateway (READY received)."""
    server = FakeDiscordServer()
    base = await server.start()
    with pointed_at(base, server.gateway):
        bot = TapewatchBot(services=app.services, guild_ready_timeout=0.01, chunk_guilds_at_startup=False)
        await bot.login("presence-test-token")
        task = asyncio.create_task(bot.connect(reconnect=False))
        await bot.wait_until_ready()
        try:
            yield bot, server
        finally:
            await bot.close()
            await asyncio.gather(task, return_exceptions=True)
            await server.close()


async def test_a_tickers_refresh_updates_the_presence_once_a_minute_at_most(
    app: App, clock: FrozenClock, online: tuple[TapewatchBot, FakeDiscordServer]
) -> None:
    bot, server = online
    presence = PresenceUpdater(bot, app.services.market)
    ticker(app, "BTC", 67_712.0, -1.93)
    assert await presence.refresh()
    [first] = await server.wait_for_presences(1)
    assert first["activities"] == [{"type": 4, "name": "Custom Status", "state": "BTC $67.7K −1.9%"}]
    assert first["status"] == "online"
    # 30 s later a new price: within the minute, nothing is sent
    clock.now = NOW + timedelta(seconds=30)
    ticker(app, "BTC", 66_100.0, -4.2, timedelta(seconds=30))
    assert not await presence.refresh()
    # a minute after the first: sent; the same text again is not
    clock.now = NOW + timedelta(seconds=61)
    assert await presence.refresh()
    clock.now = NOW + timedelta(seconds=125)
    assert not await presence.refresh()
    updates = await server.wait_for_presences(2)
    # the frames arrive in order on one socket: the second is the third refresh's
    assert [u["activities"][0]["state"] for u in updates] == ["BTC $67.7K −1.9%", "BTC $66.1K −4.2%"]
    assert server.presence_refusals == []


async def test_no_price_no_presence(app: App, online: tuple[TapewatchBot, FakeDiscordServer]) -> None:
    bot, server = online
    presence = PresenceUpdater(bot, app.services.market)
    assert not await presence.refresh()  # nothing in the store: nothing made up
    ticker(app, "BTC", 67_712.0, None)
    assert await presence.refresh()
    [update] = await server.wait_for_presences(1)
    assert update["activities"][0]["state"] == "BTC $67.7K"  # no change given: none shown


def test_the_fake_refuses_what_discord_refuses() -> None:
    good = {
        "since": 0,
        "activities": [{"type": 4, "name": "Custom Status", "state": "BTC"}],
        "status": "online",
        "afk": False,
    }
    assert presence_problems(good) == []
    assert presence_problems({**good, "status": "busy"}) == ["d.status: 'busy' is not a status"]
    long_state = {**good, "activities": [{"type": 4, "name": "Custom Status", "state": "x" * 129}]}
    assert presence_problems(long_state) == ["d.activities.0.state: longer than 128"]
    assert presence_problems({"activities": []}) == [
        "d.since: missing",
        "d.status: missing",
        "d.afk: missing",
        "d.status: None is not a status",
        "d.afk: not a boolean",
    ]


async def test_the_job_follows_each_tickers_refresh(
    app: App, online: tuple[TapewatchBot, FakeDiscordServer]
) -> None:
    bot, _ = online
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_presence(scheduler, PresenceUpdater(bot, app.services.market), 60)
    job = scheduler.get_job(PRESENCE_JOB)
    assert job.trigger.interval == timedelta(seconds=60)
    before = job.next_run_time
    scheduler._dispatch_event(JobExecutionEvent(EVENT_JOB_EXECUTED, "refresh-macro", "default", NOW))
    assert scheduler.get_job(PRESENCE_JOB).next_run_time == before
    scheduler._dispatch_event(JobExecutionEvent(EVENT_JOB_EXECUTED, TICKERS_JOB, "default", NOW))
    assert scheduler.get_job(PRESENCE_JOB).next_run_time == NOW


def test_the_coin_is_btc_unless_a_lone_server_shortlisted_another() -> None:
    tracked = ["BTC", "ETH", "SOL"]
    assert presence_coin(tracked) == "BTC"
    assert presence_coin(tracked, [["SOL", "ETH"]]) == "SOL"
    assert presence_coin(tracked, [["SOL"], ["ETH"]]) == "BTC"  # several servers: one presence
    assert presence_coin(tracked, [["INJ"]]) == "BTC"  # not tracked: no price to show
    assert presence_coin(["ETH", "SOL"]) == "ETH"


@pytest.mark.parametrize(
    ("price", "change", "stale", "text"),
    [
        (67_712.0, -1.93, False, "BTC $67.7K −1.9%"),
        (67_712.0, 2.04, False, "BTC $67.7K +2.0%"),
        (0.1234, 0.0, False, "BTC $0.1234 0.0%"),
        (67_712.0, None, True, "BTC $67.7K (stale)"),
    ],
)
def test_the_wording(price: float, change: float | None, stale: bool, text: str) -> None:
    assert presence_text(PresenceQuote("BTC", price, change, NOW, "binance", stale)) == text


async def test_a_lone_servers_shortlist_chooses_the_coin(
    app: App, online: tuple[TapewatchBot, FakeDiscordServer]
) -> None:
    """In one server whose /settings shortlist starts with ETH, the presence shows ETH; in two
    servers it is BTC again (a presence is global, so no one server's choice)."""
    bot, server = online
    market = app.services.market
    await market.guilds.set_shortlist(7, ["ETH", "SOL"], by=1)
    ticker(app, "BTC", 67_712.0, -1.9)
    ticker(app, "ETH", 1_968.4, -3.2)
    lone = PresenceUpdater(bot, market, guild_ids=lambda: [7])
    assert await lone.refresh()
    [update] = await server.wait_for_presences(1)
    assert update["activities"][0]["state"].startswith("ETH $")
    several = PresenceUpdater(bot, market, guild_ids=lambda: [7, 8])
    assert await several.refresh()
    updates = await server.wait_for_presences(2)
    assert updates[-1]["activities"][0]["state"].startswith("BTC $67.7K")
