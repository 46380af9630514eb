"""Wiring: build the store, services, collector and bot from settings. The only place that
knows how the pieces fit, so the CLI and the tests assemble the same thing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock, system_clock
from bot.coins import CoinRegistry
from bot.collector import Collector
from bot.jobs import TICKERS_JOB
from bot.providers.http import HttpClient
from bot.render.charts import ChartRenderer
from bot.services import MarketService, NextRefresh
from bot.services.levels import LevelsService
from bot.services.liquidations import LiquidationsService
from bot.services.why import WhyService
from bot.settings import ConfigError, Settings
from bot.store import AsyncStore, Store
from bot.streams.base import EventsHook
from bot.streams.manager import StreamManager


@dataclass
class Services:
    """What the cogs are built from (passed in, never looked up)."""

    market: MarketService
    why: WhyService
    liquidations: LiquidationsService
    levels: LevelsService
    charts: ChartRenderer


@dataclass
class App:
    settings: Settings
    store: AsyncStore
    registry: CoinRegistry
    clock: Clock
    services: Services

    @property
    def market(self) -> MarketService:
        return self.services.market

    def close(self) -> None:
        self.services.charts.close()
        self.store.close()


def load_registry(settings: Settings) -> CoinRegistry:
    registry = CoinRegistry.load()
    unknown = [s for s in settings.coins if s not in registry]
    if unknown:
        raise ConfigError(
            f"config error: coins: unknown symbol(s) {', '.join(unknown)} (known: see config/coins.toml)"
        )
    return registry


def build_app(
    settings: Settings,
    *,
    clock: Clock = system_clock,
    next_refresh: NextRefresh | None = None,
    sample_data: bool = False,
) -> App:
    registry = load_registry(settings)
    store = AsyncStore(Store(settings.db))
    market = MarketService(store, registry, settings, clock, next_refresh)
    services = Services(
        market=market,
        why=WhyService(market, sample_data=sample_data),
        liquidations=LiquidationsService(market),
        levels=LevelsService(market),
        charts=ChartRenderer(),
    )
    return App(settings, store, registry, clock, services)


def scheduler_next_refresh(scheduler: AsyncIOScheduler) -> NextRefresh:
    def next_run() -> datetime | None:
        job = scheduler.get_job(TICKERS_JOB)
        return None if job is None else job.next_run_time

    return next_run


@asynccontextmanager
async def collector_for(app: App) -> AsyncIterator[Collector]:
    http = HttpClient(app.settings.http)
    try:
        yield Collector(app.settings, app.store, http, app.registry, app.clock)
    finally:
        await http.aclose()


def streams_for(app: App, collector: Collector, on_events: EventsHook | None = None) -> StreamManager:
    return StreamManager(app.settings, app.store, app.registry, collector.http, app.clock, on_events)
