"""The collectors' jobs: fetch from providers, write to the store, record each source's health.

Each job is a plain async method (called directly by ``tapewatch collect --once`` and by tests)
and registered on APScheduler with its interval, jitter, ``max_instances=1`` and coalescing,
so a slow venue never stacks up overlapping runs.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.clock import Clock
from bot.coins import Coin, CoinRegistry
from bot.models import Ticker
from bot.providers.binance import BinanceProvider
from bot.providers.http import GeoBlocked, HttpClient, ProviderError
from bot.settings import Settings
from bot.store import AsyncStore

log = logging.getLogger(__name__)

# Records stamped further in the future than this are clock skew or garbage: rejected.
MAX_FUTURE_SKEW = timedelta(minutes=5)


@dataclass
class SourceReport:
    source: str
    stored: int = 0
    error: str | None = None
    detail: str = ""

    def line(self) -> str:
        if self.error:
            return f"{self.source:<18} FAILED  {self.error}"
        return f"{self.source:<18} ok      stored {self.stored} {self.detail}".rstrip()


@dataclass
class CycleReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return any(s.error is None for s in self.sources)


class Collector:
    def __init__(
        self,
        settings: Settings,
        store: AsyncStore,
        http: HttpClient,
        registry: CoinRegistry,
        clock: Clock,
    ) -> None:
        self.settings = settings
        self.store = store
        self.registry = registry
        self.clock = clock
        self.binance = BinanceProvider(http, settings.providers.binance, registry)
        self.disabled: dict[str, str] = {}

    @property
    def coins(self) -> list[Coin]:
        return [self.registry.get(s) for s in self.settings.coins if s in self.registry]

    def _fresh(self, tickers: list[Ticker]) -> list[Ticker]:
        limit = self.clock() + MAX_FUTURE_SKEW
        kept = [t for t in tickers if t.ts <= limit]
        if len(kept) < len(tickers):
            log.warning("dropped %d tickers stamped in the future", len(tickers) - len(kept))
        return kept

    async def _run_source(self, source: str, fetch: Callable[[], Awaitable[list[Ticker]]]) -> SourceReport:
        """Fetch one source and store it; any provider fault is logged and recorded, the
        last good rows stay untouched."""
        report = SourceReport(source)
        if source in self.disabled:
            report.error = f"disabled: {self.disabled[source]}"
            return report
        sync = self.store.sync
        try:
            tickers = self._fresh(await fetch())
        except GeoBlocked as exc:
            self.disabled[source] = exc.reason
            log.warning(
                "%s is refused from this location (%s); disabled, fallbacks will be used", source, exc.reason
            )
            await self.store.run(sync.record_failure, source, self.clock(), exc.reason, exc.reason)
            report.error = str(exc)
            return report
        except ProviderError as exc:
            log.warning("collect %s failed: %s", source, exc)
            await self.store.run(sync.record_failure, source, self.clock(), exc.reason)
            report.error = exc.reason
            return report
        now = self.clock()
        report.stored = await self.store.run(sync.upsert_tickers, tickers, now)
        report.detail = "tickers"
        await self.store.run(sync.record_success, source, now, f"{report.stored} tickers")
        return report

    async def refresh_tickers(self) -> CycleReport:
        coins = self.coins
        if not self.settings.providers.binance.enabled:
            return CycleReport(
                [SourceReport("binance", error="disabled in config (providers.binance.enabled)")]
            )
        return CycleReport(
            [
                await self._run_source("binance-spot", lambda: self.binance.spot_tickers(coins)),
                await self._run_source("binance-futures", lambda: self.binance.perp_tickers(coins)),
            ]
        )

    async def run_once(self) -> CycleReport:
        """Every collection job once, for ``tapewatch collect --once``."""
        report = CycleReport()
        report.sources += (await self.refresh_tickers()).sources
        return report


TICKERS_JOB = "refresh-tickers"


def register_jobs(scheduler: AsyncIOScheduler, collector: Collector, settings: Settings) -> None:
    jobs = settings.jobs
    scheduler.add_job(
        collector.refresh_tickers,
        "interval",
        seconds=jobs.tickers_seconds,
        jitter=jobs.jitter_seconds,
        id=TICKERS_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=collector.clock(),  # first run at start, then every interval
        replace_existing=True,
    )
