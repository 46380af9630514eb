"""Wiring: build the store, services, collector and bot from settings. The only place that
knows how the pieces fit, so the CLI and the tests assemble the same thing."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.alerts.service import AlertsService
from bot.clock import Clock, FrozenClock, system_clock
from bot.coins import CoinRegistry
from bot.collector import Collector
from bot.job_ids import TICKERS_JOB
from bot.providers.http import HttpClient
from bot.render.charts import ChartRenderer
from bot.scenarios import apply_scenario, is_sample_store, load_scenario
from bot.services import MarketService, NextRefresh
from bot.services.derivatives import DerivativesService
from bot.services.levels import LevelsService
from bot.services.liquidations import LiquidationsService
from bot.services.movers import MoversService
from bot.services.watches import WatchService
from bot.services.why import WhyService
from bot.settings import ConfigError, Settings
from bot.store import AsyncStore, Store
from bot.streams.adapter import EventsHook
from bot.streams.manager import StreamManager
from bot.tracking import load_tracked
from bot.universe import TrackedCoins


@dataclass
class Services:
    """What the cogs are built from (passed in, never looked up)."""

    market: MarketService
    why: WhyService
    liquidations: LiquidationsService
    levels: LevelsService
    charts: ChartRenderer
    alerts: AlertsService
    movers: MoversService
    derivatives: DerivativesService
    watches: WatchService
    # Set when the store holds a scenario rather than the live market: every answer says so.
    data_label: str | None = None


@dataclass
class App:
    settings: Settings
    store: AsyncStore
    registry: CoinRegistry
    clock: Clock
    services: Services
    tracked: TrackedCoins

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
    data_label: str | None = None,
) -> App:
    registry = load_registry(settings)
    store = AsyncStore(Store(settings.db))
    tracked = load_tracked(store.sync, registry, settings)
    if data_label is None and is_sample_store(store.sync):
        data_label = "sample data from an imported scenario, not the live market"
    market = MarketService(store, registry, settings, clock, next_refresh, tracked=tracked)
    why = WhyService(market)
    liquidations = LiquidationsService(market)
    services = Services(
        market=market,
        why=why,
        liquidations=liquidations,
        levels=LevelsService(market),
        charts=ChartRenderer(processes=settings.answers.chart_processes),
        alerts=AlertsService(market, why, liquidations),
        movers=MoversService(market),
        derivatives=DerivativesService(market),
        watches=WatchService(market, why),
        data_label=data_label,
    )
    return App(settings, store, registry, clock, services, tracked)


def scenario_app(settings: Settings, path: Path, workdir: Path) -> App:
    """An app answering from a scenario file: a store of its own in ``workdir``, the scenario's
    coins, and the clock stopped at the scenario's "now" (so ages read as they did then)."""
    scenario = load_scenario(path)
    settings = settings.model_copy(
        update={
            "db": workdir / "scenario.db",
            "coins": list(scenario.coins),
            "tracking": settings.tracking.model_copy(update={"mode": "fixed"}),  # the scenario's coins
        }
    )
    label = f"{scenario.label}, not the live market" if scenario.sample_data else f"scenario {scenario.name}"
    app = build_app(settings, clock=FrozenClock(scenario.now), data_label=label)
    apply_scenario(scenario, app.store.sync)
    return app


@contextmanager
def app_for(settings: Settings, scenario: Path | None) -> Iterator[App]:
    """The configured store, or a throw-away one holding ``scenario``."""
    with tempfile.TemporaryDirectory(prefix="tapewatch-") as workdir:
        app = scenario_app(settings, scenario, Path(workdir)) if scenario else build_app(settings)
        try:
            yield app
        finally:
            app.close()


def scheduler_next_refresh(scheduler: AsyncIOScheduler) -> NextRefresh:
    def next_run() -> datetime | None:
        job = scheduler.get_job(TICKERS_JOB)
        return None if job is None else job.next_run_time

    return next_run


@asynccontextmanager
async def collector_for(app: App) -> AsyncIterator[Collector]:
    http = HttpClient(app.settings.http)
    try:
        yield Collector(app.settings, app.store, http, app.registry, app.clock, tracked=app.tracked)
    finally:
        await http.aclose()


def streams_for(app: App, collector: Collector, on_events: EventsHook | None = None) -> StreamManager:
    return StreamManager(
        app.settings, app.store, app.registry, collector.http, app.clock, on_events, tracked=app.tracked
    )
