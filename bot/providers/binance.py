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
import math
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict

from bot.clock import Clock, from_ms, system_clock
from bot.coins import Coin, CoinRegistry
from bot.models import (
    Candle,
    Finite,
    Funding,
    LongShortRatio,
    Market,
    NonNegative,
    OpenInterest,
    Positive,
    Record,
    Ticker,
    TopTraderRatio,
    UtcDatetime,
    Venue,
)
from bot.providers.http import HttpClient, ProviderError
from bot.providers.parsing import by_position, per_coin, registry_subset, validate_rows
from bot.settings import BinanceSettings

log = logging.getLogger(__name__)

R = TypeVar("R")

Bar = Literal["1h", "1d"]
"""History granularities the slower jobs use; Binance spells them like ``models.Interval``."""

DEFAULT_FUNDING_HOURS = 8.0
FUNDING_INFO_TTL = timedelta(hours=1)
"""``/fapi/v1/fundingInfo`` lists only symbols whose interval was changed; it moves rarely."""

OptFloat = Annotated[float | None, BeforeValidator(lambda v: None if v == "" else v)]
"""Binance sends ``""`` for a rate that does not apply (delivery contracts in premiumIndex)."""


class Ticker24h(BaseModel):
    model_config = ConfigDict(extra="ignore")

    symbol: str
    lastPrice: float
    priceChangePercent: float
    highPrice: float
    lowPrice: float
    quoteVolume: float
    closeTime: int


def parse_ticker_24h(
    body: Any, registry: CoinRegistry, market: Literal["spot", "perp"], source: str = "binance"
) -> list[Ticker]:
    """Tickers for the coins in ``registry`` found in a ``/ticker/24hr`` body (object or list)."""
    rows = body if isinstance(body, list) else [body]
    index = "binance_spot" if market == "spot" else "binance_perp"

    def convert(row: Ticker24h) -> Ticker | None:
        coin = registry.by_venue(index, row.symbol)
        if coin is None:
            return None
        per_unit = 1.0 if market == "spot" else coin.perp_multiplier
        return Ticker(
            coin=coin.symbol,
            venue="binance",
            market=market,
            price=row.lastPrice / per_unit,
            change_24h_pct=row.priceChangePercent,
            high_24h=row.highPrice / per_unit,
            low_24h=row.lowPrice / per_unit,
            quote_volume_24h=row.quoteVolume,
            ts=from_ms(row.closeTime),
        )

    return validate_rows(source, rows, Ticker24h, convert)


class WindowChange(Record):
    """A rolling-window price change (``/api/v3/ticker?windowSize=7d``).

    Kept apart from :class:`Ticker` on purpose: the store upserts tickers on (coin, venue,
    market), so a ticker carrying only the 7d figure would blank the 24h fields. Merge with
    :func:`with_change_7d` instead."""

    coin: str
    venue: Venue
    market: Market
    window: str
    price: Positive
    change_pct: Finite
    open_price: Positive
    high: Positive
    low: Positive
    quote_volume: NonNegative
    ts: UtcDatetime


class WindowTicker(BaseModel):
    model_config = ConfigDict(extra="ignore")

    symbol: str
    lastPrice: float
    openPrice: float
    priceChangePercent: float
    highPrice: float
    lowPrice: float
    quoteVolume: float
    closeTime: int


def parse_ticker_window(
    body: Any, registry: CoinRegistry, window: str = "7d", source: str = "binance"
) -> list[WindowChange]:
    """Spot rolling-window changes for the coins in ``registry`` (one object or a list)."""
    rows = body if isinstance(body, list) else [body]

    def convert(row: WindowTicker) -> WindowChange | None:
        coin = registry.by_venue("binance_spot", row.symbol)
        if coin is None:
            return None
        return WindowChange(
            coin=coin.symbol,
            venue="binance",
            market="spot",
            window=window,
            price=row.lastPrice,
            change_pct=row.priceChangePercent,
            open_price=row.openPrice,
            high=row.highPrice,
            low=row.lowPrice,
            quote_volume=row.quoteVolume,
            ts=from_ms(row.closeTime),
        )

    return validate_rows(source, rows, WindowTicker, convert)


def with_change_7d(tickers: Sequence[Ticker], changes: Sequence[WindowChange]) -> list[Ticker]:
    """Copy each coin's 7d change onto its 24h ticker of the same venue and market."""
    by_key = {(c.coin, c.venue, c.market): c.change_pct for c in changes if c.window == "7d"}
    return [
        t.model_copy(update={"change_7d_pct": by_key[(t.coin, t.venue, t.market)]})
        if (t.coin, t.venue, t.market) in by_key
        else t
        for t in tickers
    ]


_KLINE_FIELDS = (
    "open_time",
    "open",
    "high",
    "low",
    "close",
    "volume",
    "close_time",
    "quote_volume",
    "trades",
    "taker_buy_base",
    "taker_buy_quote",
)


class KlineRow(BaseModel):
    """One array row of ``/api/v3/klines`` or ``/fapi/v1/klines``, named by position."""

    model_config = ConfigDict(extra="ignore")

    open_time: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    close_time: int
    quote_volume: float
    taker_buy_quote: float


def parse_klines(
    body: Any,
    coin: Coin,
    market: Literal["spot", "perp"],
    interval: Bar,
    *,
    now: datetime | None = None,
    source: str = "binance",
) -> list[Candle]:
    """Candles in ascending time. With ``now``, the bar still in progress (``closeTime`` not yet
    passed) is dropped so every stored candle is final."""
    per_unit = 1.0 if market == "spot" else coin.perp_multiplier
    cutoff = None if now is None else now.timestamp() * 1000

    def convert(row: KlineRow) -> Candle | None:
        if cutoff is not None and row.close_time >= cutoff:
            return None
        return Candle(
            coin=coin.symbol,
            venue="binance",
            market=market,
            interval=interval,
            open_time=from_ms(row.open_time),
            open=row.open / per_unit,
            high=row.high / per_unit,
            low=row.low / per_unit,
            close=row.close / per_unit,
            volume=row.volume * per_unit,
            quote_volume=row.quote_volume,
            taker_buy_quote=row.taker_buy_quote,
        )

    candles = validate_rows(source, by_position(body, _KLINE_FIELDS), KlineRow, convert)
    return sorted(candles, key=lambda c: c.open_time)


class OpenInterestHistRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    sumOpenInterest: float
    sumOpenInterestValue: float
    timestamp: int  # the docs show a string, live responses a number: both validate


def parse_open_interest_hist(body: Any, coin: Coin, source: str = "binance") -> list[OpenInterest]:
    """USDⓈ-M open interest history; ``sumOpenInterestValue`` is already USD notional."""

    def convert(row: OpenInterestHistRow) -> OpenInterest:
        return OpenInterest(
            coin=coin.symbol,
            venue="binance",
            ts=from_ms(row.timestamp),
            oi_usd=row.sumOpenInterestValue,
            oi_coin=row.sumOpenInterest * coin.perp_multiplier,
        )

    return sorted(validate_rows(source, body, OpenInterestHistRow, convert), key=lambda p: p.ts)


class PremiumIndexRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    symbol: str
    lastFundingRate: OptFloat
    time: int


def parse_premium_index(
    body: Any,
    registry: CoinRegistry,
    intervals: Mapping[str, float] | None = None,
    source: str = "binance",
) -> list[Funding]:
    """Current funding per coin from ``/fapi/v1/premiumIndex`` (one object or all symbols).

    ``lastFundingRate`` is, despite its name, the running estimate for the next settlement.
    ``intervals`` maps a symbol to its funding interval in hours (``/fapi/v1/fundingInfo``);
    symbols absent there settle every 8 hours."""
    rows = body if isinstance(body, list) else [body]
    hours = intervals or {}

    def convert(row: PremiumIndexRow) -> Funding | None:
        coin = registry.by_venue("binance_perp", row.symbol)
        if coin is None or row.lastFundingRate is None:
            return None
        return Funding(
            coin=coin.symbol,
            venue="binance",
            ts=from_ms(row.time),
            rate=row.lastFundingRate,
            interval_hours=hours.get(row.symbol, DEFAULT_FUNDING_HOURS),
        )

    return validate_rows(source, rows, PremiumIndexRow, convert)


class FundingInfoRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    symbol: str
    fundingIntervalHours: float


def parse_funding_info(body: Any, source: str = "binance") -> dict[str, float]:
    """``{symbol: hours}`` for the symbols whose funding interval differs from the default."""

    def convert(row: FundingInfoRow) -> tuple[str, float] | None:
        hours = row.fundingIntervalHours
        return (row.symbol, hours) if math.isfinite(hours) and 0 < hours <= 24 else None

    return dict(validate_rows(source, body, FundingInfoRow, convert))


class FundingRateRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    fundingRate: float
    fundingTime: int


def parse_funding_history(
    body: Any, coin: Coin, interval_hours: float = DEFAULT_FUNDING_HOURS, source: str = "binance"
) -> list[Funding]:
    """Settled funding rates, ascending. The interval is the symbol's current one: Binance does
    not report past interval changes."""

    def convert(row: FundingRateRow) -> Funding:
        return Funding(
            coin=coin.symbol,
            venue="binance",
            ts=from_ms(row.fundingTime),
            rate=row.fundingRate,
            interval_hours=interval_hours,
        )

    return sorted(validate_rows(source, body, FundingRateRow, convert), key=lambda f: f.ts)


class LongShortRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    longAccount: float
    timestamp: int


def parse_long_short_ratio(body: Any, coin: Coin, source: str = "binance") -> list[LongShortRatio]:
    """Global account long/short ratio; ``longAccount`` is already the long share (0..1)."""

    def convert(row: LongShortRow) -> LongShortRatio:
        return LongShortRatio(
            coin=coin.symbol, venue="binance", ts=from_ms(row.timestamp), long_share=row.longAccount
        )

    return sorted(validate_rows(source, body, LongShortRow, convert), key=lambda r: r.ts)


TopBasis = Literal["position", "account"]
TOP_TRADER_PATHS: dict[TopBasis, str] = {
    "position": "/futures/data/topLongShortPositionRatio",
    "account": "/futures/data/topLongShortAccountRatio",
}


def parse_top_trader_ratio(
    body: Any, coin: Coin, basis: TopBasis, source: str = "binance"
) -> list[TopTraderRatio]:
    """Top traders' long share. Both endpoints answer in the global ratio's shape; for the
    position endpoint ``longAccount`` is the long share of the top traders' position size."""

    def convert(row: LongShortRow) -> TopTraderRatio:
        return TopTraderRatio(
            coin=coin.symbol,
            venue="binance",
            basis=basis,
            ts=from_ms(row.timestamp),
            long_share=row.longAccount,
        )

    return sorted(validate_rows(source, body, LongShortRow, convert), key=lambda r: r.ts)


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
        try:
            body = await self.spot.get_json(
                "/api/v3/ticker/24hr", {"symbols": json.dumps(symbols[:100], separators=(",", ":"))}
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
