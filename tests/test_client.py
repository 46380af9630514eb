"""`tapewatch run`'s bot: the scheduler starts inside the running loop and the slash commands
sync (globally, or to one guild) — against the loopback fake Discord."""

from __future__ import annotations

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.client import TapewatchBot
from bot.collector import Collector
from bot.fake_discord import APP_ID
from bot.job_ids import TICKERS_JOB
from bot.jobs import register_jobs
from bot.offline import OfflineSession
from bot.providers.http import HttpClient


async def test_setup_hook_starts_scheduler_and_syncs_to_guild(app: App) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    http = HttpClient(app.settings.http)
    register_jobs(scheduler, Collector(app.settings, app.store, http, app.registry, app.clock), app.settings)
    bot = TapewatchBot(services=app.services, scheduler=scheduler, sync_guild=42, sync_commands=True)
    async with OfflineSession(bot) as session:
        assert scheduler.running
        assert scheduler.get_job(TICKERS_JOB) is not None
        [sync] = [r for r in session.fake.requests if r.method == "PUT"]
        assert sync.path == f"/applications/{APP_ID}/guilds/42/commands"
        assert sorted(c["name"] for c in sync.json) == [
            "alerts",
            "derivatives",
            "help",
            "levels",
            "liquidations",
            "movers",
            "price",
            "settings",
            "status",
            "watch",
            "why",
        ]
    assert not scheduler.running
    await http.aclose()


async def test_global_sync(app: App) -> None:
    async with OfflineSession(TapewatchBot(services=app.services, sync_commands=True)) as session:
        [sync] = [r for r in session.fake.requests if r.method == "PUT"]
        assert sync.path == f"/applications/{APP_ID}/commands"
