"""CoinGecko: the top 100 by market cap (prices, 24h/7d change, caps) in one call, and the global
market (total cap, dominance).

Units (see ../shared/samples/README.md): numbers are JSON numbers and may be ``null`` for thin
coins; percentages are already in percent; ``/global`` ``updated_at`` is Unix **seconds**, while
``/coins/markets`` ``last_updated`` is an ISO-8601 string. The keyless tier allows only a few
calls a minute, so every method is a single request.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from bot.clock import from_ms
from bot.coins import Coin, CoinRegistry
from bot.models import GlobalStats, MarketEntry, Ticker
from bot.providers.http import BadPayload, HttpClient
from bot.providers.parsing import validate_model, validate_rows
from bot.settings import CoinGeckoSettings

TOP_N = 100


@dataclass(frozen=True)
class Markets:
    """What one ``/coins/markets`` call gives: tickers for our coins and breadth for all."""

    tickers: list[Ticker]
    breadth: list[MarketEntry]


class MarketRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    symbol: str
    current_price: float | None = None
    market_cap: float | None = None
    total_volume: float | None = None
    high_24h: float | None = None
    low_24h: float | None = None
    price_change_percentage_24h: float | None = None
    price_change_percentage_24h_in_currency: float | None = None
    price_change_percentage_7d_in_currency: float | None = None
    last_updated: datetime | None = None  # null for coins that stopped trading


def _change_24h(row: MarketRow) -> float | None:
    if row.price_change_percentage_24h is not None:
        return row.price_change_percentage_24h
    return row.price_change_percentage_24h_in_currency


def parse_market_tickers(body: Any, registry: CoinRegistry, source: str = "coingecko") -> list[Ticker]:
    """Spot tickers (venue ``coingecko``) for the coins of ``registry`` found in the body. A coin
    without a price or update time (``null``) is skipped; a zero price is rejected by the model."""

    def convert(row: MarketRow) -> Ticker | None:
        coin = registry.by_venue("coingecko", row.id)
        if coin is None or row.current_price is None or row.last_updated is None:
            return None
        return Ticker(
            coin=coin.symbol,
            venue="coingecko",
            market="spot",
            price=row.current_price,
            change_24h_pct=_change_24h(row),
            change_7d_pct=row.price_change_percentage_7d_in_currency,
            high_24h=row.high_24h,
            low_24h=row.low_24h,
            quote_volume_24h=row.total_volume,
            market_cap=row.market_cap,
            ts=row.last_updated,
        )

    return validate_rows(source, body, MarketRow, convert)


def parse_market_breadth(body: Any, source: str = "coingecko") -> list[MarketEntry]:
    """Every coin of the body, in CoinGecko's market-cap order."""

    def convert(row: MarketRow) -> MarketEntry:
        return MarketEntry(
            id=row.id, symbol=row.symbol.upper(), change_24h_pct=_change_24h(row), market_cap=row.market_cap
        )

    return validate_rows(source, body, MarketRow, convert)


def parse_markets(body: Any, registry: CoinRegistry, source: str = "coingecko") -> Markets:
    return Markets(
        tickers=parse_market_tickers(body, registry, source),
        breadth=parse_market_breadth(body, source),
    )


class _GlobalData(BaseModel):
    model_config = ConfigDict(extra="ignore")

    total_market_cap: dict[str, float]
    market_cap_percentage: dict[str, float]
    market_cap_change_percentage_24h_usd: float | None = None
    updated_at: int  # seconds


class _GlobalBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    data: _GlobalData


def parse_global(body: Any, source: str = "coingecko") -> GlobalStats:
    """Total crypto market cap in USD, its 24h change and BTC/ETH dominance."""
    data = validate_model(source, body, _GlobalBody).data
    try:
        ts = from_ms(data.updated_at * 1000)
    except ValueError as exc:
        raise BadPayload(source, f"updated_at: {exc}") from None
    # Built through validation so a missing USD cap or a dominance out of 0..100 is a BadPayload.
    return validate_model(
        source,
        {
            "ts": ts,
            "source": "coingecko",
            "total_market_cap_usd": data.total_market_cap.get("usd"),
            "market_cap_change_24h_pct": data.market_cap_change_percentage_24h_usd,
            "btc_dominance_pct": data.market_cap_percentage.get("btc"),
            "eth_dominance_pct": data.market_cap_percentage.get("eth"),
        },
        GlobalStats,
    )


class CoinGeckoProvider:
    """Spot prices, 24h/7d change and caps for the top 100 in one request, plus ``/global``."""

    def __init__(self, http: HttpClient, settings: CoinGeckoSettings, registry: CoinRegistry) -> None:
        self.registry = registry
        self.rest = http.venue("coingecko", settings.rest_url, settings.requests_per_minute)

    async def markets(self, coins: list[Coin]) -> Markets:
        """Tickers for ``coins`` that are in the top 100, and breadth over the whole top 100."""
        body = await self.rest.get_json(
            "/coins/markets",
            {
                "vs_currency": "usd",
                "order": "market_cap_desc",
                "per_page": TOP_N,
                "page": 1,
                "price_change_percentage": "24h,7d",
            },
        )
        return parse_markets(body, _subset(self.registry, coins), self.rest.source)

    async def tickers(self, coins: list[Coin]) -> list[Ticker]:
        return (await self.markets(coins)).tickers

    async def global_stats(self) -> GlobalStats:
        body = await self.rest.get_json("/global")
        return parse_global(body, self.rest.source)


def _subset(registry: CoinRegistry, coins: list[Coin]) -> CoinRegistry:
    wanted = {c.symbol for c in coins}
    return CoinRegistry(c for c in registry.coins.values() if c.symbol in wanted)
