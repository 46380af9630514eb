"""Prices, status and coin resolution: the questions every other service builds on."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Literal

from bot.analysis.sentiment import SentimentFinding, sentiment
from bot.clock import Clock
from bot.coins import Coin, CoinRegistry, UnknownCoin
from bot.errors import CoinRefused, HistoryLoading, NoDataYet
from bot.models import StreamConnection, Ticker
from bot.services.answers import AnswerCache, Workload
from bot.services.guild_prefs import GuildPrefsService
from bot.settings import Settings
from bot.store import AsyncStore
from bot.universe import TrackedCoins
from bot.views.market import PriceView, SourceStatus

# Which ticker is "the price": spot on the deepest venue first, perps as fallback.
_PREFERENCE = [
    ("binance", "spot"),
    ("coingecko", "spot"),
    ("binance", "perp"),
    ("bybit", "perp"),
    ("okx", "perp"),
]

MAX_COINS = 5  # coins one /price answers at once
NextRefresh = Callable[[], datetime | None]


def _rank(t: Ticker) -> int:
    key = (t.venue, t.market)
    return _PREFERENCE.index(key) if key in _PREFERENCE else len(_PREFERENCE)


def best_ticker(tickers: list[Ticker]) -> dict[str, Ticker]:
    """The ticker that stands for each coin's price (spot on the deepest venue first)."""
    out: dict[str, Ticker] = {}
    for t in sorted(tickers, key=_rank):
        out.setdefault(t.coin, t)
    return out


class MarketService:
    def __init__(
        self,
        store: AsyncStore,
        registry: CoinRegistry,
        settings: Settings,
        clock: Clock,
        next_refresh: NextRefresh | None = None,
        answers: AnswerCache | None = None,
        guilds: GuildPrefsService | None = None,
        *,
        tracked: TrackedCoins | None = None,
    ) -> None:
        self.store = store
        # the tracked set (it follows the market, see bot.tracking); a coin still loading its
        # history is collected but not answered for
        self.tracked_set = tracked if tracked is not None else TrackedCoins(settings.coins)
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self.next_refresh = next_refresh or (lambda: None)
        cfg = settings.answers
        self.answers = answers or AnswerCache(
            store.sync.data_version,
            clock,
            size=cfg.cache_size,
            max_age=timedelta(seconds=cfg.max_age_seconds),
            liquidation_grace=cfg.liquidation_grace_seconds,
            workload=Workload(cfg.workers, cfg.max_wait_seconds),
        )
        self.guilds = guilds or GuildPrefsService(store, clock)  # each server's own settings

    @property
    def tracked(self) -> list[str]:
        """The coins answered for: tracked, with their history in."""
        return self.tracked_set.ready

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.settings.jobs.stale_after_seconds)

    def resolve(self, text: str) -> Coin:
        """A tracked coin from user input, or a friendly error naming the closest matches."""
        try:
            coin = self.registry.resolve(text, among=self.tracked)  # suggest only what can answer
        except UnknownCoin as exc:
            raise CoinRefused(
                "unknown", tracked=self.tracked, given=(exc.text,), suggestions=exc.suggestions
            ) from None
        loading = self.tracked_set.loading(coin.symbol)
        if loading is not None:
            raise HistoryLoading(loading.symbol, loading.venues, loading.done)
        if coin.symbol not in self.tracked:
            raise CoinRefused("untracked", tracked=self.tracked, given=(coin.symbol,), name=coin.name)
        return coin

    def resolve_many(self, text: str, limit: int = MAX_COINS) -> list[Coin]:
        """Up to ``limit`` tracked coins from "btc eth sol" (or "btc, eth"); a name with a space
        ("Shiba Inu") is one coin. Any coin unknown or untracked, or too many: one error naming them."""
        if self.registry.find(text) is not None or not re.search(r"[\s,;]", text.strip()):
            return [self.resolve(text)]
        words = [w for w in re.split(r"[\s,;]+", text.strip()) if w]
        if len(words) > limit:
            raise CoinRefused("too_many", tracked=self.tracked, count=len(words), limit=limit)
        found: list[Coin] = []
        bad: list[str] = []
        for word in words:
            coin = self.registry.find(word)
            loading = None if coin is None else self.tracked_set.loading(coin.symbol)
            if loading is not None:
                raise HistoryLoading(loading.symbol, loading.venues, loading.done)
            if coin is None or coin.symbol not in self.tracked:
                bad.append(word[:20])
            elif coin not in found:
                found.append(coin)
        if bad:
            raise CoinRefused("not_tracked", tracked=self.tracked, given=bad)
        return found

    def autocomplete(self, current: str, limit: int = 25, *, guild_id: int | None = None) -> list[Coin]:
        """Tracked coins matching ``current``; the server's shortlist first (as last read)."""
        order = self.guilds.cached(guild_id).coin_order(self.tracked)
        return [c for c in self.registry.autocomplete(current, order, limit) if c.symbol in self.tracked]

    def no_data_yet(
        self, what: Literal["price", "prices", "derivatives"], coin: str | None = None
    ) -> NoDataYet:
        """Nothing stored yet for ``what``, with when the next refresh is due (None: no
        collector runs)."""
        due = self.next_refresh()
        return NoDataYet(what, coin, None if due is None else max(timedelta(0), due - self.clock()))

    async def price(self, coin: Coin) -> PriceView:
        return await self.answers.get(("price", coin.symbol), lambda: self._price(coin), subject=coin.symbol)

    async def _price(self, coin: Coin) -> PriceView:
        tickers = await self.store.run(self.store.sync.tickers, coin.symbol)
        ranked = sorted(tickers, key=_rank)
        if not ranked:
            raise self.no_data_yet("price", coin.symbol)
        return PriceView(
            coin=coin.symbol,
            name=coin.name,
            primary=ranked[0],
            others=ranked[1:],
            now=self.clock(),
            stale_after=self.stale_after,
        )

    async def status(self) -> list[SourceStatus]:
        rows = await self.store.run(self.store.sync.source_health)
        now = self.clock()
        return [SourceStatus(health=h, now=now, stale_after=self.stale_after) for h in rows]

    async def sentiment(self) -> SentimentFinding | None:
        """The newest Fear & Greed reading (None when none was collected or the read failed:
        /status still answers)."""
        now = self.clock()
        try:
            point = await self.store.run(self.store.sync.fear_greed_latest, now)
        except sqlite3.Error:
            logging.getLogger(__name__).warning("no Fear & Greed reading for /status", exc_info=True)
            return None
        return sentiment(point, now)

    async def streams(self) -> list[StreamConnection]:
        """The latest session of each liquidation stream: connected since when, or down since when."""
        sessions = await self.store.run(self.store.sync.stream_sessions, self.clock() - timedelta(days=35))
        latest: dict[str, StreamConnection] = {}
        for s in sessions:
            latest[s.venue] = s
        return [latest[v] for v in sorted(latest)]
