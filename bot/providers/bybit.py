"""Bybit v5: linear-perp tickers (price, OI and funding for every symbol in one call), klines,
open-interest, funding and account-ratio history.

Units (see ../shared/samples/README.md): every number is a string; ``price24hPcnt`` is a
**fraction** (0.0142 = 1.42 %); times are ms. Bodies are ``{"retCode": 0, "result": {...}}`` and
a non-zero ``retCode`` is the venue refusing the request. Lists (kline, open interest, funding
history, account ratio) come **newest first**; parsers return them ascending.

Open interest: Bybit's ``openInterest``/``openInterestValue`` count **both sides**, twice the
one-sided figure Binance and OKX report; ``singleOpenInterest``/``singleOpenInterestValue``
are one-sided. We store one-sided values: the ``single*`` field when present, otherwise half of
the both-sides one. OI history is in **base coin** for linear symbols, with no USD value: it is
priced at the candle of the same timestamp (that bar's open, else the close of the bar ending
then). Contracts quoted per 1000 units (1000PEPEUSDT) are scaled by ``Coin.perp_multiplier``.
"""

from __future__ import annotations

from typing import TypeVar

from bot.clock import Clock, system_clock
from bot.coins import Coin, CoinRegistry
from bot.models import Candle, Funding, LongShortRatio, OpenInterest, Ticker
from bot.providers.bybit_rows import (
    DEFAULT_FUNDING_HOURS,
    Bar,
    LinearSnapshot,
    parse_account_ratio,
    parse_funding_history,
    parse_kline,
    parse_linear_funding,
    parse_linear_open_interest,
    parse_linear_snapshot,
    parse_linear_tickers,
    parse_open_interest_history,
    price_points,
)
from bot.providers.http import HttpClient
from bot.providers.parsing import per_coin, registry_subset
from bot.settings import BybitSettings

__all__ = [
    "BybitProvider",
    "LinearSnapshot",
    "parse_account_ratio",
    "parse_funding_history",
    "parse_kline",
    "parse_linear_funding",
    "parse_linear_open_interest",
    "parse_linear_snapshot",
    "parse_linear_tickers",
    "parse_open_interest_history",
    "price_points",
]


R = TypeVar("R")


KLINE_INTERVAL: dict[Bar, str] = {"1h": "60", "1d": "D"}
OI_INTERVAL: dict[Bar, str] = {"1h": "1h", "1d": "1d"}
RATIO_PERIOD: dict[Bar, str] = {"1h": "1h", "1d": "1d"}


class BybitProvider:
    """One linear-tickers call per cycle gives tickers, OI and funding for all coins; the
    per-coin history endpoints serve the slower jobs. ``clock`` decides which kline is running."""

    def __init__(
        self,
        http: HttpClient,
        settings: BybitSettings,
        registry: CoinRegistry,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self.registry = registry
        self.rest = http.venue("bybit", settings.rest_url, settings.requests_per_minute)
        self._clock = clock

    async def linear_snapshot(self, coins: list[Coin]) -> LinearSnapshot:
        """Tickers, OI now and funding now for ``coins`` from a single request."""
        body = await self.rest.get_json("/v5/market/tickers", {"category": "linear"})
        return parse_linear_snapshot(body, registry_subset(self.registry, coins), self.rest.source)

    async def perp_tickers(self, coins: list[Coin]) -> list[Ticker]:
        return (await self.linear_snapshot(coins)).tickers

    async def open_interest(self, coins: list[Coin]) -> list[OpenInterest]:
        return (await self.linear_snapshot(coins)).open_interest

    async def funding(self, coins: list[Coin]) -> list[Funding]:
        return (await self.linear_snapshot(coins)).funding

    async def klines(self, coins: list[Coin], interval: Bar = "1d", limit: int = 30) -> list[Candle]:
        """Closed linear-perp candles per coin (one request each)."""

        async def one(coin: Coin) -> list[Candle]:
            candles = await self._klines(coin, interval, limit + 1, closed_only=True)
            return candles[max(0, len(candles) - limit) :]

        return await per_coin(self.rest.source, [c for c in coins if c.bybit], one)

    async def open_interest_history(
        self, coins: list[Coin], interval: Bar = "1d", limit: int = 30
    ) -> list[OpenInterest]:
        """One-sided OI history in USD: two requests per coin (OI in coin, klines to price it)."""

        async def one(coin: Coin) -> list[OpenInterest]:
            body = await self.rest.get_json(
                "/v5/market/open-interest",
                {
                    "category": "linear",
                    "symbol": coin.bybit,
                    "intervalTime": OI_INTERVAL[interval],
                    "limit": min(limit, 200),
                },
            )
            candles = await self._klines(coin, interval, limit + 1, closed_only=False)
            return parse_open_interest_history(body, coin, price_points(candles, interval), self.rest.source)

        return await per_coin(self.rest.source, [c for c in coins if c.bybit], one)

    async def funding_history(self, coins: list[Coin], limit: int = 100) -> list[Funding]:
        """Settled funding per coin; one extra tickers call gives each symbol's interval."""
        tracked = [c for c in coins if c.bybit]
        if not tracked:
            return []
        hours = {f.coin: f.interval_hours for f in await self.funding(tracked)}

        async def one(coin: Coin) -> list[Funding]:
            body = await self.rest.get_json(
                "/v5/market/funding/history",
                {"category": "linear", "symbol": coin.bybit, "limit": min(limit, 200)},
            )
            interval = hours.get(coin.symbol, DEFAULT_FUNDING_HOURS)
            return parse_funding_history(body, coin, interval, self.rest.source)

        return await per_coin(self.rest.source, tracked, one)

    async def long_short_ratio(
        self, coins: list[Coin], interval: Bar = "1h", limit: int = 30
    ) -> list[LongShortRatio]:
        """Share of accounts long per coin (one request each)."""

        async def one(coin: Coin) -> list[LongShortRatio]:
            body = await self.rest.get_json(
                "/v5/market/account-ratio",
                {
                    "category": "linear",
                    "symbol": coin.bybit,
                    "period": RATIO_PERIOD[interval],
                    "limit": min(limit, 500),
                },
            )
            return parse_account_ratio(body, coin, self.rest.source)

        return await per_coin(self.rest.source, [c for c in coins if c.bybit], one)

    async def _klines(self, coin: Coin, interval: Bar, limit: int, *, closed_only: bool) -> list[Candle]:
        body = await self.rest.get_json(
            "/v5/market/kline",
            {
                "category": "linear",
                "symbol": coin.bybit,
                "interval": KLINE_INTERVAL[interval],
                "limit": min(limit, 1000),
            },
        )
        now = self._clock() if closed_only else None
        return parse_kline(body, coin, interval, now=now, source=self.rest.source)
