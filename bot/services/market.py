"""Prices, status and coin resolution: the questions every other service builds on."""

from __future__ import annotations

import logging
import re
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.analysis.sentiment import SentimentFinding, sentiment
from bot.clock import Clock
from bot.coins import Coin, CoinRegistry, UnknownCoin
from bot.errors import UserFacingError
from bot.fmt import age
from bot.models import SourceHealth, StreamConnection, Ticker
from bot.services.answers import AnswerCache, Workload
from bot.settings import Settings
from bot.store import AsyncStore

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


class PriceView(BaseModel):
    model_config = ConfigDict(frozen=True)

    coin: str
    name: str
    primary: Ticker
    others: list[Ticker]
    now: datetime
    stale_after: timedelta

    @property
    def age(self) -> timedelta:
        return self.now - self.primary.ts

    @property
    def stale(self) -> bool:
        return self.age > self.stale_after


class SourceStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    health: SourceHealth
    now: datetime
    stale_after: timedelta

    @property
    def state(self) -> str:
        h = self.health
        if h.disabled_reason:
            return "disabled"
        if h.last_success is None:
            return "failing" if h.consecutive_failures else "never run"
        if h.consecutive_failures:
            return "degraded"
        return "stale" if self.now - h.last_success > self.stale_after else "ok"


class MarketService:
    def __init__(
        self,
        store: AsyncStore,
        registry: CoinRegistry,
        settings: Settings,
        clock: Clock,
        next_refresh: NextRefresh | None = None,
        answers: AnswerCache | None = None,
    ) -> None:
        self.store = store
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

    @property
    def tracked(self) -> list[str]:
        return list(self.settings.coins)

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.settings.jobs.stale_after_seconds)

    def resolve(self, text: str) -> Coin:
        """A tracked coin from user input, or a friendly error naming the closest matches."""
        try:
            coin = self.registry.resolve(text, among=self.tracked)  # suggest only what can answer
        except UnknownCoin as exc:
            if exc.suggestions:
                raise UserFacingError(str(exc)) from None
            raise UserFacingError(f"{exc}. Tracked coins: {', '.join(self.tracked)}.") from None
        if coin.symbol not in self.tracked:
            raise UserFacingError(
                f"{coin.symbol} ({coin.name}) is not tracked on this bot. "
                f"Tracked coins: {', '.join(self.tracked)}."
            )
        return coin

    def resolve_many(self, text: str, limit: int = MAX_COINS) -> list[Coin]:
        """Up to ``limit`` tracked coins from "btc eth sol" (or "btc, eth"); a name with a space
        ("Shiba Inu") is one coin. Any coin unknown or untracked, or too many: one error naming them."""
        if self.registry.find(text) is not None or not re.search(r"[\s,;]", text.strip()):
            return [self.resolve(text)]
        words = [w for w in re.split(r"[\s,;]+", text.strip()) if w]
        if len(words) > limit:
            raise UserFacingError(f"Up to {limit} coins at once, please; you gave {len(words)}.")
        found: list[Coin] = []
        bad: list[str] = []
        for word in words:
            coin = self.registry.find(word)
            if coin is None or coin.symbol not in self.tracked:
                bad.append(word[:20])
            elif coin not in found:
                found.append(coin)
        if bad:
            raise UserFacingError(
                f"Not a tracked coin: {', '.join(bad)}. Tracked coins: {', '.join(self.tracked)}."
            )
        return found

    def autocomplete(self, current: str, limit: int = 25) -> list[Coin]:
        return [
            c for c in self.registry.autocomplete(current, self.tracked, limit) if c.symbol in self.tracked
        ]

    def no_data_yet(self, what: str) -> UserFacingError:
        due = self.next_refresh()
        if due is None:
            when = "run `tapewatch collect --once` (or start the bot) to collect it"
        else:
            when = f"the next refresh is due in {age(max(timedelta(0), due - self.clock()))}"
        return UserFacingError(f"No {what} stored yet; {when}.")

    async def price(self, coin: Coin) -> PriceView:
        return await self.answers.get(("price", coin.symbol), lambda: self._price(coin), subject=coin.symbol)

    async def _price(self, coin: Coin) -> PriceView:
        tickers = await self.store.run(self.store.sync.tickers, coin.symbol)
        ranked = sorted(tickers, key=_rank)
        if not ranked:
            raise self.no_data_yet(f"price for {coin.symbol}")
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
