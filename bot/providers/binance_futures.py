"""Binance USDⓈ-M derivatives rows: open interest history, premium index and funding, funding
intervals and history, long/short and top-trader ratios. Units as in :mod:`bot.providers.binance`."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict

from bot.clock import from_ms
from bot.coins import Coin, CoinRegistry
from bot.models import (
    Funding,
    LongShortRatio,
    OpenInterest,
    TopTraderRatio,
)
from bot.providers.parsing import validate_rows

DEFAULT_FUNDING_HOURS = 8.0


OptFloat = Annotated[float | None, BeforeValidator(lambda v: None if v == "" else v)]
"""Binance sends ``""`` for a rate that does not apply (delivery contracts in premiumIndex)."""


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
