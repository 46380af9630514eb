"""What the collectors fetch and where it goes: one method per dataset, each fetching from a
provider, dropping records stamped in the future, storing the rest and recording the source's
health. A provider fault is logged and recorded; the last good rows are never touched.

Venues refusing this location (HTTP 451/403) are disabled once, with one log line; the
datasets that have a fallback (prices, candles, daily macro closes) are then served by the next
venue.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Literal, TypeVar

from bot.clock import Clock
from bot.coins import Coin, CoinRegistry
from bot.collector_report import CycleReport, SourceReport
from bot.models import Candle, MacroPoint, Ticker
from bot.providers.alternative import AlternativeProvider
from bot.providers.binance import BinanceProvider, with_change_7d
from bot.providers.bybit import BybitProvider
from bot.providers.coingecko import CoinGeckoProvider
from bot.providers.fred import SERIES as FRED_SERIES
from bot.providers.fred import FredProvider
from bot.providers.http import GeoBlocked, HttpClient, ProviderError, TransientError
from bot.providers.okx import OkxProvider
from bot.providers.yahoo import YahooProvider
from bot.settings import Settings
from bot.store import AsyncStore, Store
from bot.store.open import describe_sqlite_error
from bot.universe import TrackedCoins

log = logging.getLogger(__name__)

T = TypeVar("T")

# Records stamped further in the future than this are clock skew or garbage: rejected.
MAX_FUTURE_SKEW = timedelta(minutes=5)

# History depth the answers need: ≥ 365 daily bars for levels, ≥ 30 days of hourly for betas.
BACKFILL = {"1d": 400, "1h": 35 * 24}
INCREMENTAL = 3
Bar = Literal["1h", "1d"]


def _stamp(record: Any) -> datetime | None:
    return getattr(record, "ts", None) or getattr(record, "open_time", None)


class Collector:
    def __init__(
        self,
        settings: Settings,
        store: AsyncStore,
        http: HttpClient,
        registry: CoinRegistry,
        clock: Clock,
        tracked: TrackedCoins | None = None,
    ) -> None:
        self.settings = settings
        # the coins collected: the tracked set that follows the market (bot.tracking), or the
        # config's coins
        self.tracked = tracked if tracked is not None else TrackedCoins(settings.coins)
        self.store = store
        self.registry = registry
        self.clock = clock
        self.http = http
        p = settings.providers
        self.binance = BinanceProvider(http, p.binance, registry, clock=clock)
        self.bybit = BybitProvider(http, p.bybit, registry, clock=clock)
        self.okx = OkxProvider(http, p.okx, registry)
        self.coingecko = CoinGeckoProvider(http, p.coingecko, registry)
        self.yahoo = YahooProvider(http, p.yahoo, registry)
        self.fred = FredProvider(http, p.fred, clock=clock)
        self.alternative = AlternativeProvider(http, p.alternative)
        # venue -> why it could not be reached in the current cycle: its other datasets are
        # skipped until the next cycle instead of each waiting out its own retries
        self.unreachable: dict[str, str] = {}
        self._batch = False
        # hears each source's report as it completes (the first run's progress)
        self.on_source: Callable[[SourceReport], object] | None = None
        # venue -> why it is off (config or a geo block); checked before every fetch
        self.disabled: dict[str, str] = {
            venue: "disabled in config"
            for venue in ("binance", "bybit", "okx", "coingecko", "yahoo", "fred", "alternative")
            if not getattr(p, venue).enabled
        }

    @property
    def coins(self) -> list[Coin]:
        return [self.registry.get(s) for s in self.tracked.symbols if s in self.registry]

    @property
    def sync(self) -> Store:
        return self.store.sync

    # -- the one error-handling path ----------------------------------------------------

    def _not_future(self, records: Sequence[T]) -> list[T]:
        limit = self.clock() + MAX_FUTURE_SKEW
        kept = [r for r in records if (_stamp(r) or limit) <= limit]
        if len(kept) < len(records):
            log.warning("dropped %d records stamped in the future", len(records) - len(kept))
        return kept

    async def collect(
        self,
        source: str,
        fetch: Callable[[], Awaitable[T]],
        save: Callable[[T], int],
        detail: str,
    ) -> SourceReport:
        """Fetch, store and record health for one dataset; ``source`` is "venue/dataset"."""
        report = await self._collect(source, fetch, save, detail)
        if self.on_source is not None:
            self.on_source(report)
        return report

    async def _collect(
        self,
        source: str,
        fetch: Callable[[], Awaitable[T]],
        save: Callable[[T], int],
        detail: str,
    ) -> SourceReport:
        venue = source.split("/", 1)[0]
        report = SourceReport(source, detail=detail)
        if venue in self.disabled:
            report.error = f"disabled: {self.disabled[venue]}"
            return report
        if venue in self.unreachable:
            report.error = f"skipped: {venue} unreachable this cycle"
            return report
        try:
            data = await fetch()
        except GeoBlocked as exc:
            self.disabled[venue] = exc.reason
            log.warning("%s refuses this location (%s): disabled; fallbacks will be used", venue, exc.reason)
            await self.store.run(self.sync.record_failure, source, self.clock(), exc.reason, exc.reason)
            report.error = exc.reason
            return report
        except ProviderError as exc:
            if isinstance(exc, TransientError) and exc.unreachable:
                self.unreachable[venue] = exc.reason
            log.warning("collect %s failed: %s", source, exc.reason)
            await self.store.run(self.sync.record_failure, source, self.clock(), exc.reason)
            report.error = exc.reason
            return report
        try:
            report.stored = await self.store.run(save, data)
            await self.store.run(self.sync.record_success, source, self.clock(), f"{report.stored} {detail}")
        except sqlite3.Error as exc:  # a full disk or a lock held too long: one line, next cycle retries
            report.error = describe_sqlite_error(exc, self.sync.path)
            log.error("collect %s: %s", source, report.error)
        return report

    def _tickers_saver(self) -> Callable[[list[Ticker]], int]:
        def save(tickers: list[Ticker]) -> int:
            return self.sync.upsert_tickers(self._not_future(tickers), self.clock())

        return save

    def saver(self, method: Callable[[list[Any]], int]) -> Callable[[list[Any]], int]:
        """A save that drops records stamped in the future (for the tracking backfill)."""
        return self._saver(method)

    def _saver(self, method: Callable[[list[Any]], int]) -> Callable[[list[Any]], int]:
        def save(records: list[Any]) -> int:
            return method(self._not_future(records))

        return save

    # -- datasets -------------------------------------------------------------------------

    async def refresh_tickers(self) -> CycleReport:
        """Prices, 24h changes, current funding and OI: batch endpoints only (≤ 5 requests
        per venue whatever the number of coins)."""
        self._new_cycle()
        coins = self.coins
        s = self.sync

        async def binance_spot() -> list[Ticker]:
            tickers = await self.binance.spot_tickers(coins)
            try:
                return with_change_7d(tickers, await self.binance.spot_change_7d(coins))
            except ProviderError as exc:  # the 7d figure is a bonus; the 24h tickers still count
                log.warning("binance 7d change failed: %s", exc.reason)
                return tickers

        async def bybit_snapshot() -> Any:
            return await self.bybit.linear_snapshot(coins)

        def save_bybit(snap: Any) -> int:
            return (
                s.upsert_tickers(self._not_future(snap.tickers), self.clock())
                + s.upsert_open_interest(self._not_future(snap.open_interest))
                + s.upsert_funding(self._not_future(snap.funding))
            )

        report = CycleReport()
        report.sources += [
            await self.collect("binance/spot-tickers", binance_spot, self._tickers_saver(), "tickers"),
            await self.collect(
                "binance/perp-tickers",
                lambda: self.binance.perp_tickers(coins),
                self._tickers_saver(),
                "tickers",
            ),
            await self.collect(
                "binance/funding",
                lambda: self.binance.funding(coins),
                self._saver(s.upsert_funding),
                "funding rates",
            ),
            await self.collect("bybit/linear", bybit_snapshot, save_bybit, "tickers, OI and funding rows"),
            await self.collect(
                "okx/tickers", lambda: self.okx.perp_tickers(coins), self._tickers_saver(), "tickers"
            ),
            await self.collect(
                "okx/open-interest",
                lambda: self.okx.open_interest(coins),
                self._saver(s.upsert_open_interest),
                "OI rows",
            ),
            await self.collect(
                "okx/funding", lambda: self.okx.funding(coins), self._saver(s.upsert_funding), "funding rates"
            ),
        ]
        return report

    async def refresh_markets(self) -> CycleReport:
        """CoinGecko: prices and 24h/7d change for the tracked coins, breadth over the top 100,
        global market cap and dominance (two requests)."""
        self._new_cycle()
        coins = self.coins
        s = self.sync

        def save_markets(markets: Any) -> int:
            now = self.clock()
            return s.upsert_tickers(self._not_future(markets.tickers), now) + s.replace_breadth(
                markets.breadth, now
            )

        return CycleReport(
            [
                await self.collect(
                    "coingecko/markets",
                    lambda: self.coingecko.markets(coins),
                    save_markets,
                    "tickers + breadth rows",
                ),
                await self.collect(
                    "coingecko/global",
                    self.coingecko.global_stats,
                    lambda g: s.upsert_global(self._not_future([g])),
                    "global stats",
                ),
            ]
        )

    async def refresh_derivatives(self) -> CycleReport:
        """Open-interest history (hourly for 24h, daily for 30d), long/short account ratios per
        venue and Binance's top-trader ratios: per-coin endpoints, paced by each venue's budget."""
        self._new_cycle()
        coins = self.coins
        s = self.sync
        oi = self._saver(s.upsert_open_interest)
        ratio = self._saver(s.upsert_long_short)
        report = CycleReport()
        for venue, provider in (("binance", self.binance), ("bybit", self.bybit), ("okx", self.okx)):

            async def history(p: Any = provider) -> list[Any]:
                return [
                    *await p.open_interest_history(coins, interval="1h", limit=48),
                    *await p.open_interest_history(coins, interval="1d", limit=31),
                ]

            async def ratios(p: Any = provider) -> list[Any]:
                return list(await p.long_short_ratio(coins, interval="1h", limit=30))

            report.sources.append(await self.collect(f"{venue}/oi-history", history, oi, "OI points"))
            report.sources.append(await self.collect(f"{venue}/long-short", ratios, ratio, "ratio points"))
        # top traders' positioning: Binance only (OKX's top-trader ratios are not in its
        # documented v5 API; Bybit publishes none)
        report.sources.append(
            await self.collect(
                "binance/top-traders",
                lambda: self.binance.top_trader_ratios(coins, interval="1h", limit=30),
                self._saver(s.upsert_top_traders),
                "top-trader points",
            )
        )
        return report

    async def refresh_candles(self) -> CycleReport:
        """1h and 1d candles: Binance spot, falling back to Bybit then OKX perps. The first run
        backfills the history levels and betas need; later runs fetch the last few bars."""
        self._new_cycle()
        report = CycleReport()
        for interval in ("1h", "1d"):
            report.sources += (await self._candles(interval)).sources
        return report

    async def _candles(self, interval: Bar) -> CycleReport:
        coins = self.coins
        have = await self.store.run(self.sync.latest_candle_times, interval)
        fresh_after = self.clock() - (
            timedelta(hours=INCREMENTAL) if interval == "1h" else timedelta(days=INCREMENTAL)
        )
        backfill = [c for c in coins if have.get(c.symbol) is None or have[c.symbol] < fresh_after]
        incremental = [c for c in coins if c not in backfill]
        fetchers: list[tuple[str, Callable[[list[Coin], int], Awaitable[list[Candle]]]]] = [
            ("binance", lambda cs, n: self.binance.klines(cs, "spot", interval, n)),
            ("bybit", lambda cs, n: self.bybit.klines(cs, interval, n)),
            ("okx", lambda cs, n: self.okx.klines(cs, interval, min(n, 300))),
        ]
        report = CycleReport()
        for group, limit in ((backfill, BACKFILL[interval]), (incremental, INCREMENTAL)):
            if not group:
                continue
            for venue, fetch in fetchers:
                result = await self.collect(
                    f"{venue}/candles-{interval}",
                    lambda f=fetch, g=group, n=limit: f(g, n),  # type: ignore[misc]
                    self._saver(self.sync.upsert_candles),
                    f"{interval} candles",
                )
                report.sources.append(result)
                if result.error is None:
                    break  # the first venue that answers is enough; the rest are fallbacks
        return report

    async def refresh_macro(self) -> CycleReport:
        """Equity indices, the dollar index, US 10-year yield and VIX: daily and hourly closes.
        Each series FRED has that Yahoo's daily fetch did not bring (Yahoo failed, is disabled or
        blocked, or refused that symbol) is fetched daily from FRED instead."""
        self._new_cycle()
        save = self._saver(self.sync.upsert_macro)
        from_yahoo: set[str] = set()

        async def yahoo_daily() -> list[MacroPoint]:
            points = await self.yahoo.daily()
            from_yahoo.update(p.series for p in points)
            return points

        report = CycleReport([await self.collect("yahoo/daily", yahoo_daily, save, "daily closes")])
        missing = [s for s in FRED_SERIES if s not in from_yahoo]
        if missing:
            report.sources.append(
                await self.collect("fred/daily", lambda: self.fred.daily(missing), save, "daily closes")
            )
        report.sources.append(
            await self.collect("yahoo/intraday", self.yahoo.intraday, save, "hourly closes")
        )
        return report

    async def refresh_sentiment(self) -> CycleReport:
        """The daily Fear & Greed index (the last month, so a gap fills itself)."""
        self._new_cycle()
        save = self._saver(self.sync.upsert_fear_greed)
        return CycleReport(
            [
                await self.collect(
                    "alternative/fear-greed", self.alternative.fear_greed, save, "daily readings"
                )
            ]
        )

    async def prune(self) -> int:
        days = self.settings.jobs.retention_days
        removed = await self.store.run(self.sync.prune, self.clock(), timedelta(days=days))
        log.info("pruned %d raw liquidation events older than %d days", removed, days)
        return removed

    def jobs(self) -> tuple[Callable[[], Awaitable[CycleReport]], ...]:
        """The collection jobs, in the order one pass runs them."""
        return (
            self.refresh_tickers,
            self.refresh_markets,
            self.refresh_candles,
            self.refresh_derivatives,
            self.refresh_macro,
            self.refresh_sentiment,
        )

    def planned_sources(self) -> int:
        """How many sources one pass of every job reports when the first venue of each candle
        fallback answers and Yahoo brings every macro series (a fallback tried adds one): the
        total of the first run's progress."""
        tickers, markets, derivatives, macro, sentiment = 7, 2, 7, 2, 1
        candles = 2  # 1h and 1d, from the first venue that answers
        return tickers + markets + candles + derivatives + macro + sentiment

    async def run_once(self, progress: Callable[[SourceReport], object] | None = None) -> CycleReport:
        """Every collection job once, for ``tapewatch collect --once`` and the console: one
        cycle, so a venue found unreachable is not retried by every later dataset. ``progress``
        hears each source as it completes (the first run's backfill takes a while)."""
        report = CycleReport()
        self.unreachable.clear()
        self._batch = True
        heard, self.on_source = self.on_source, progress
        try:
            for job in self.jobs():
                report += await job()
        finally:
            self._batch = False
            self.on_source = heard
        return report

    def _new_cycle(self) -> None:
        if not self._batch:
            self.unreachable.clear()
