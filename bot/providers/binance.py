"""Binance: spot and USDⓈ-M tickers, klines, 7d rolling change, funding, open interest and
long/short history.

Units (see ../shared/samples/README.md): ``priceChangePercent`` is already in percent, prices
are strings, times are in ms (``openInterestHist`` sends its ``timestamp`` as a string or a
number). ``lastFundingRate`` is a fraction per funding interval. USDⓈ-M quotes some coins per
1000 units (1000PEPEUSDT): prices are divided and base quantities multiplied by
``Coin.perp_multiplier`` so every record is per one coin.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Literal, TypeVar

from bot.clock import Clock, system_clock
from bot.coins import Coin, CoinRegistry
from bot.models import (
    Candle,
    Funding,
    LongShortRatio,
    OpenInterest,
    Ticker,
    TopTraderRatio,
)
from bot.providers.binance_futures import (
    DEFAULT_FUNDING_HOURS,
    TOP_TRADER_PATHS,
    parse_funding_history,
    parse_funding_info,
    parse_long_short_ratio,
    parse_open_interest_hist,
    parse_premium_index,
    parse_top_trader_ratio,
)
from bot.providers.binance_spot import (
    Bar,
    WindowChange,
    parse_klines,
    parse_ticker_24h,
    parse_ticker_window,
)
from bot.providers.binance_spot import with_change_7d as with_change_7d  # the collector's import path
from bot.providers.http import HttpClient, ProviderError
from bot.providers.parsing import per_coin, registry_subset
from bot.settings import BinanceSettings

log = logging.getLogger(__name__)

R = TypeVar("R")


FUNDING_INFO_TTL = timedelta(hours=1)
"""``/fapi/v1/fundingInfo`` lists only symbols whose interval was changed; it moves rarely."""


class BinanceProvider:
    """Batch endpoints (all symbols in one call) for the per-minute jobs; per-coin history
    endpoints for the slower ones. ``clock`` decides which kline is still running."""

    def __init__(
        self,
        http: HttpClient,
        settings: BinanceSettings,
        registry: CoinRegistry,
        *,
        clock: Clock = system_clock,
    ) -> None:
        self.registry = registry
        self.spot = http.venue("binance-spot", settings.spot_url, settings.requests_per_minute)
        self.futures = http.venue("binance-futures", settings.futures_url, settings.requests_per_minute)
        self._clock = clock
        self._intervals: dict[str, float] = {}
        self._intervals_at: datetime | None = None

    async def spot_tickers(self, coins: list[Coin]) -> list[Ticker]:
        symbols = [c.binance_spot for c in coins if c.binance_spot]
        if not symbols:
            return []
        # One request for up to 100 symbols (weight 40 for 21-100); the JSON array is the API's format.
        # Binance refuses the whole list if one symbol is unknown to it (HTTP 400): then ask for
        # every symbol (weight 80) and filter here, rather than lose all coins for one.
        # Past 100 symbols (the filter's limit) one unfiltered request (weight 80) covers them all.
        if len(symbols) > 100:
            body = await self.spot.get_json("/api/v3/ticker/24hr")
            return parse_ticker_24h(body, registry_subset(self.registry, coins), "spot", self.spot.source)
        try:
            body = await self.spot.get_json(
                "/api/v3/ticker/24hr", {"symbols": json.dumps(symbols, separators=(",", ":"))}
            )
        except ProviderError as exc:
            if type(exc) is not ProviderError or "HTTP 400" not in exc.reason:
                raise
            log.warning("binance-spot refused the symbol list (%s); fetching all symbols", exc.reason)
            body = await self.spot.get_json("/api/v3/ticker/24hr")
        return parse_ticker_24h(body, registry_subset(self.registry, coins), "spot", self.spot.source)

    async def perp_tickers(self, coins: list[Coin]) -> list[Ticker]:
        # USDⓈ-M has no multi-symbol filter: all symbols in one request (weight 40), filtered here.
        body = await self.futures.get_json("/fapi/v1/ticker/24hr")
        return parse_ticker_24h(body, registry_subset(self.registry, coins), "perp", self.futures.source)

    async def spot_change_7d(self, coins: list[Coin]) -> list[WindowChange]:
        """7d rolling change for spot coins: one request per 100 symbols (weight 200 capped)."""
        symbols = [c.binance_spot for c in coins if c.binance_spot]
        subset = registry_subset(self.registry, coins)
        out: list[WindowChange] = []
        for start in range(0, len(symbols), 100):
            chunk = json.dumps(symbols[start : start + 100], separators=(",", ":"))
            body = await self.spot.get_json("/api/v3/ticker", {"symbols": chunk, "windowSize": "7d"})
            out.extend(parse_ticker_window(body, subset, "7d", self.spot.source))
        return out

    async def klines(
        self, coins: list[Coin], market: Literal["spot", "perp"], interval: Bar = "1d", limit: int = 30
    ) -> list[Candle]:
        """Closed candles per coin (one request each: for the slower history jobs)."""
        client, path = (
            (self.spot, "/api/v3/klines") if market == "spot" else (self.futures, "/fapi/v1/klines")
        )
        cap = 1000 if market == "spot" else 1500
        # One extra bar so ``limit`` closed bars remain after the running one is dropped.
        params = {"interval": interval, "limit": min(limit + 1, cap)}

        async def one(coin: Coin) -> list[Candle]:
            symbol = coin.binance_spot if market == "spot" else coin.binance_perp
            body = await client.get_json(path, {"symbol": symbol, **params})
            candles = parse_klines(body, coin, market, interval, now=self._clock(), source=client.source)
            return candles[max(0, len(candles) - limit) :]

        listed = [c for c in coins if (c.binance_spot if market == "spot" else c.binance_perp)]
        return await per_coin(client.source, listed, one)

    async def open_interest_history(
        self, coins: list[Coin], interval: Bar = "1d", limit: int = 30
    ) -> list[OpenInterest]:
        """USD open interest history per coin; Binance keeps only the last 30 days."""

        async def one(coin: Coin) -> list[OpenInterest]:
            body = await self.futures.get_json(
                "/futures/data/openInterestHist",
                {"symbol": coin.binance_perp, "period": interval, "limit": min(limit, 500)},
            )
            return parse_open_interest_hist(body, coin, self.futures.source)

        return await per_coin(self.futures.source, [c for c in coins if c.binance_perp], one)

    async def funding(self, coins: list[Coin]) -> list[Funding]:
        """Current funding for every coin from one ``premiumIndex`` call (weight 10), with the
        per-symbol interval from ``fundingInfo`` refreshed at most hourly."""
        body = await self.futures.get_json("/fapi/v1/premiumIndex")
        intervals = await self.funding_intervals()
        return parse_premium_index(
            body, registry_subset(self.registry, coins), intervals, self.futures.source
        )

    async def funding_intervals(self) -> dict[str, float]:
        """Symbols with a non-default funding interval, cached for an hour. A failed refresh keeps
        the last map (empty: every symbol 8h) rather than failing the funding job."""
        now = self._clock()
        if self._intervals_at is not None and now - self._intervals_at < FUNDING_INFO_TTL:
            return self._intervals
        try:
            body = await self.futures.get_json("/fapi/v1/fundingInfo")
            self._intervals = parse_funding_info(body, self.futures.source)
        except ProviderError as exc:
            log.warning(
                "binance fundingInfo unavailable, keeping %d known intervals: %s", len(self._intervals), exc
            )
        self._intervals_at = now
        return self._intervals

    async def funding_history(self, coins: list[Coin], limit: int = 100) -> list[Funding]:
        """Settled funding per coin, ascending (one request each)."""
        intervals = await self.funding_intervals()

        async def one(coin: Coin) -> list[Funding]:
            body = await self.futures.get_json(
                "/fapi/v1/fundingRate", {"symbol": coin.binance_perp, "limit": min(limit, 1000)}
            )
            hours = intervals.get(coin.binance_perp, DEFAULT_FUNDING_HOURS)
            return parse_funding_history(body, coin, hours, self.futures.source)

        return await per_coin(self.futures.source, [c for c in coins if c.binance_perp], one)

    async def top_trader_ratios(
        self, coins: list[Coin], interval: Bar = "1h", limit: int = 30
    ) -> list[TopTraderRatio]:
        """Top traders' long share by position and by accounts per coin (two requests each;
        Binance keeps the last 30 days)."""

        async def one(coin: Coin) -> list[TopTraderRatio]:
            out: list[TopTraderRatio] = []
            for basis, path in TOP_TRADER_PATHS.items():
                body = await self.futures.get_json(
                    path, {"symbol": coin.binance_perp, "period": interval, "limit": min(limit, 500)}
                )
                out += parse_top_trader_ratio(body, coin, basis, self.futures.source)
            return out

        return await per_coin(self.futures.source, [c for c in coins if c.binance_perp], one)

    async def long_short_ratio(
        self, coins: list[Coin], interval: Bar = "1h", limit: int = 30
    ) -> list[LongShortRatio]:
        """Global account long share per coin (one request each; last 30 days only)."""

        async def one(coin: Coin) -> list[LongShortRatio]:
            body = await self.futures.get_json(
                "/futures/data/globalLongShortAccountRatio",
                {"symbol": coin.binance_perp, "period": interval, "limit": min(limit, 500)},
            )
            return parse_long_short_ratio(body, coin, self.futures.source)

        return await per_coin(self.futures.source, [c for c in coins if c.binance_perp], one)
