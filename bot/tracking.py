"""Keeping the tracked set in step with the market (issue 17): once a day the top N coins by
market cap that trade on the venues are chosen again (:mod:`bot.universe`), persisted, and each
coin that enters has its history backfilled venue by venue — candles, open-interest history,
funding and long/short, as the first start does — before the commands answer for it.

Two jobs: :meth:`Tracker.refresh` (hourly; fetches only when the last discovery is older than
``tracking.refresh_hours``) and :meth:`Tracker.backfill` (every ``tracking.backfill_seconds``:
a few loading coins at a time, so the per-coin requests stay inside each venue's budget). Both
go through :meth:`bot.collector.Collector.collect`, so every fetch has its health recorded and a
disabled or geo-blocked venue is skipped the same way.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, TypeVar

from bot.coins import Coin, CoinRegistry
from bot.collector import BACKFILL, Collector
from bot.collector_report import CycleReport, SourceReport
from bot.providers.instruments import InstrumentsProvider, Listing, RankedCoin
from bot.settings import Settings
from bot.store import Store
from bot.universe import HistoryLoading, Overrides, TrackedCoins, select_top

log = logging.getLogger(__name__)

T = TypeVar("T")

REFRESH_MARK = "tracking-refresh"  # in the store's marks: when the set was last chosen
RANKING_SIZE = 250  # CoinGecko ranks this many per page: the top 100 that trade are among them
HISTORY_VENUES = ("binance", "bybit", "okx")
GIVE_UP = timedelta(hours=6)  # a venue failing a coin's backfill this long stops holding it back


def history_venues(coin: Coin) -> tuple[str, ...]:
    """The venues a coin's history is fetched from (those that list it)."""
    listed = {
        "binance": bool(coin.binance_spot or coin.binance_perp),
        "bybit": bool(coin.bybit),
        "okx": bool(coin.okx),
    }
    return tuple(v for v in HISTORY_VENUES if listed[v])


def load_tracked(store: Store, registry: CoinRegistry, settings: Settings) -> TrackedCoins:
    """The tracked set at start, from the store alone (no network): the coins last discovered,
    the config's coins, and the backfill progress of those still loading. ``fixed`` mode: the
    config's coins, as before."""
    config = [s for s in settings.coins if s in registry]
    if settings.tracking.mode == "fixed":
        return TrackedCoins(config)
    registry.update(store.tracked_coins(known=True))
    persisted = store.tracked_coins()
    tracked = TrackedCoins([], follows_market=True)
    tracked.replace([*(c.symbol for c in persisted), *config], _loading(store))
    return tracked


def _loading(store: Store) -> list[HistoryLoading]:
    return [
        HistoryLoading(symbol, tuple(venues), tuple(v for v, at in venues.items() if at is not None))
        for symbol, venues in store.backfill_progress().items()
    ]


class Tracker:
    """The two tracking jobs over a collector's providers, store and registry."""

    def __init__(
        self, collector: Collector, tracked: TrackedCoins, overrides: Overrides | None = None
    ) -> None:
        self.collector = collector
        self.tracked = tracked
        self.overrides = overrides if overrides is not None else Overrides.load()
        c = collector
        self.lists = InstrumentsProvider(
            spot=c.binance.spot,
            futures=c.binance.futures,
            bybit=c.bybit.rest,
            okx=c.okx.rest,
            coingecko=c.coingecko.rest,
        )
        # (coin, venue) → when its backfill first failed (in memory: a restart gives it time again)
        self._failing_since: dict[tuple[str, str], datetime] = {}

    @property
    def settings(self) -> Settings:
        return self.collector.settings

    @property
    def store(self) -> Store:
        return self.collector.sync

    async def _fetch(self, source: str, fetch: Callable[[], Awaitable[T]], report: CycleReport) -> T | None:
        kept: list[T] = []

        async def keep() -> T:
            kept.append(await fetch())
            return kept[-1]

        def count(data: Any) -> int:
            return len(data) if isinstance(data, Sequence) else 1

        result = await self.collector.collect(source, keep, count, "rows")
        report.sources.append(result)
        return kept[0] if result.error is None and kept else None

    # -- the daily choice -----------------------------------------------------------------

    async def refresh(self, *, force: bool = False) -> CycleReport:
        """Choose the set again when the last choice is older than ``tracking.refresh_hours``.
        Nothing changes unless CoinGecko's ranking and every enabled venue's list arrived: a
        venue missing for a day must not drop its coins."""
        report = CycleReport()
        now = self.collector.clock()
        last = await self.collector.store.run(self.store.mark, REFRESH_MARK)
        fresh = last is not None and now - last[0] < timedelta(hours=self.settings.tracking.refresh_hours)
        if not force and fresh and last is not None and last[1] == self._choice():
            return report
        ranking = await self._fetch("coingecko/ranking", lambda: self.lists.ranking(RANKING_SIZE), report)
        listings: list[Listing] = []
        for source, fetch in (
            ("binance/instruments", self.lists.binance),
            ("bybit/instruments", self.lists.bybit_linear),
            ("okx/instruments", self.lists.okx_swaps),
        ):
            got = await self._fetch(source, fetch, report)
            venue = source.split("/", 1)[0]
            if got is None and venue not in self.collector.disabled:
                ranking = None  # an enabled venue failed: keep today's set
            listings += got or []
        if ranking is None:
            log.warning(
                "tracked set not refreshed (a list failed); keeping %d coins", len(self.tracked.symbols)
            )
            return report
        await self.apply(ranking, listings)
        return report

    async def apply(self, ranking: Sequence[RankedCoin], listings: Sequence[Listing]) -> list[str]:
        """Choose, persist and switch to the new set; returns the symbols that entered."""
        registry = self.collector.registry
        cfg = self.settings
        always = [registry.get(s) for s in [*cfg.coins, *self.tracked.extra()] if s in registry]
        selection = select_top(ranking, listings, self.overrides, cfg.tracking.size, always)
        # every ranked coin that trades, so one asked for by name (or by a server) is known
        catalogue = select_top(ranking, listings, self.overrides, len(ranking))
        before = set(self.tracked.symbols)
        config = set(cfg.coins)
        entered = [c for c in selection.coins if c.symbol not in before and c.symbol not in config]
        backfill = {c.symbol: self._venues(c) for c in entered}
        now = self.collector.clock()

        def persist() -> None:
            self.store.save_tracked(selection.coins, now, backfill, known=catalogue.coins)
            self.store.beat(REFRESH_MARK, now, self._choice())

        await self.collector.store.run(persist)
        registry.update([*catalogue.coins, *selection.coins])
        loading = await self.collector.store.run(_loading, self.store)
        self.tracked.replace([c.symbol for c in selection.coins], loading)
        log.info(
            "tracked set: %d coins (%d new: %s)",
            len(selection.coins),
            len(entered),
            ", ".join(c.symbol for c in entered[:20]),
        )
        return [c.symbol for c in entered]

    def _choice(self) -> str:
        """What the stored choice was made for: a changed size chooses again at once."""
        return f"top {self.settings.tracking.size}"

    def _venues(self, coin: Coin) -> tuple[str, ...]:
        return tuple(v for v in history_venues(coin) if v not in self.collector.disabled)

    # -- backfill of coins that entered ----------------------------------------------------

    async def backfill(self) -> CycleReport:
        """Coins others asked for join the set; then a few loading coins get their history,
        venue by venue, each venue's completion recorded (what "2 of 3 venues done" counts)."""
        report = CycleReport()
        await self._add_extra()
        for loading in self.tracked.all_loading[: self.settings.tracking.backfill_coins_per_run]:
            coin = self.collector.registry.coins.get(loading.symbol)
            if coin is None:
                continue
            done = list(loading.done)
            for venue in loading.venues:
                if venue not in done and await self._backfill_one(coin, venue, report):
                    done.append(venue)
            self.tracked.progress(HistoryLoading(coin.symbol, loading.venues, tuple(done)))
        return report

    async def _backfill_one(self, coin: Coin, venue: str, report: CycleReport) -> bool:
        """One venue's history for one coin, its outcome recorded; True when the venue is done.
        A venue switched off (config, geo block) since the coin entered is done with nothing to
        fetch; one that keeps failing for :data:`GIVE_UP` is done with its error on record, so a
        coin is never held back for ever by one venue (its answers then say that venue's data
        is missing, as for any coin)."""
        now = self.collector.clock()
        if venue in self.collector.disabled:
            error = f"skipped: {self.collector.disabled[venue]}"
        else:
            results = await self._backfill_venue(coin, venue)
            report.sources += results
            error = "; ".join(r.error for r in results if r.error)
            if error:
                since = self._failing_since.setdefault((coin.symbol, venue), now)
                if now - since < GIVE_UP:
                    await self.collector.store.run(self.store.mark_backfill, coin.symbol, venue, None, error)
                    return False
                error = f"gave up after {GIVE_UP}: {error}"
                log.warning("%s history from %s: %s", coin.symbol, venue, error)
        self._failing_since.pop((coin.symbol, venue), None)
        await self.collector.store.run(self.store.mark_backfill, coin.symbol, venue, now, error)
        return True

    async def _add_extra(self) -> None:
        registry = self.collector.registry
        wanted = [s for s in self.tracked.extra() if s in registry and s not in self.tracked.symbols]
        if not wanted:
            return
        coins = [registry.get(s) for s in wanted]
        current = [registry.get(s) for s in self.tracked.symbols if s in registry]
        backfill = {c.symbol: self._venues(c) for c in coins}
        now = self.collector.clock()
        known = await self.collector.store.run(lambda: self.store.tracked_coins(known=True))
        await self.collector.store.run(self.store.save_tracked, [*current, *coins], now, backfill, known)
        loading = await self.collector.store.run(_loading, self.store)
        self.tracked.replace([*self.tracked.symbols, *wanted], loading)

    async def _backfill_venue(self, coin: Coin, venue: str) -> list[SourceReport]:
        """One venue's history for one coin: what the first start fetches for every coin.
        Candles come from the first venue listing the coin (Binance spot, else its perp, else
        Bybit, else OKX), like the candles job's fallback order."""
        c = self.collector
        s = self.store
        one = [coin]
        jobs: list[tuple[str, Callable[[], Awaitable[list[Any]]], Callable[[list[Any]], int]]] = []
        candles = c.saver(s.upsert_candles)
        oi = c.saver(s.upsert_open_interest)
        ratio = c.saver(s.upsert_long_short)
        funding = c.saver(s.upsert_funding)
        first = history_venues(coin)[0] if history_venues(coin) else ""
        if venue == "binance":
            p = c.binance
            market: Any = "spot" if coin.binance_spot else "perp"
            jobs.append(
                ("candles", lambda: self._both_bars(lambda i, n: p.klines(one, market, i, n)), candles)
            )
            if coin.binance_perp:
                jobs += [
                    ("oi-history", lambda: self._oi(p, one), oi),
                    ("long-short", lambda: p.long_short_ratio(one, interval="1h", limit=30), ratio),
                    (
                        "top-traders",
                        lambda: p.top_trader_ratios(one, interval="1h", limit=30),
                        c.saver(s.upsert_top_traders),
                    ),
                    ("funding-history", lambda: p.funding_history(one, limit=100), funding),
                ]
        elif venue in ("bybit", "okx"):
            q: Any = c.bybit if venue == "bybit" else c.okx
            if first == venue:
                cap = 300 if venue == "okx" else 1000
                jobs.append(
                    ("candles", lambda: self._both_bars(lambda i, n: q.klines(one, i, min(n, cap))), candles)
                )
            jobs += [
                ("oi-history", lambda: self._oi(q, one), oi),
                ("long-short", lambda: q.long_short_ratio(one, interval="1h", limit=30), ratio),
            ]
            if venue == "bybit":
                jobs.append(("funding-history", lambda: c.bybit.funding_history(one, limit=100), funding))
        return [
            await c.collect(f"{venue}/backfill-{name}", fetch, save, f"{coin.symbol} rows")
            for name, fetch, save in jobs
        ]

    @staticmethod
    async def _both_bars(fetch: Callable[[Any, int], Awaitable[list[Any]]]) -> list[Any]:
        return [*await fetch("1h", BACKFILL["1h"]), *await fetch("1d", BACKFILL["1d"])]

    @staticmethod
    async def _oi(provider: Any, coins: list[Coin]) -> list[Any]:
        return [
            *await provider.open_interest_history(coins, interval="1h", limit=48),
            *await provider.open_interest_history(coins, interval="1d", limit=31),
        ]
