"""Typed records shared by every layer: providers produce them, the store keeps them,
analysis reads them. Validation here is the last gate before the store, so absurd values
(a zero price, negative open interest, a naive timestamp) are rejected at the boundary.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("timestamp must be timezone-aware (UTC)")
    return value


UtcDatetime = Annotated[datetime, AfterValidator(_aware)]
# Far above any real price, volume or USD amount, far below where sums overflow to infinity.
MAX_MAGNITUDE = 1e18
Positive = Annotated[float, Field(gt=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
NonNegative = Annotated[float, Field(ge=0, le=MAX_MAGNITUDE, allow_inf_nan=False)]
Finite = Annotated[float, Field(ge=-MAX_MAGNITUDE, le=MAX_MAGNITUDE, allow_inf_nan=False)]

Venue = Literal["binance", "bybit", "okx", "coingecko", "yahoo", "fred"]
Market = Literal["spot", "perp", "index"]
Interval = Literal["1m", "5m", "15m", "1h", "4h", "1d"]
Side = Literal["long", "short"]  # which side's position was liquidated


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Ticker(Record):
    """A 24h rolling ticker for one coin on one venue and market."""

    coin: str
    venue: Venue
    market: Market
    price: Positive
    change_24h_pct: Finite | None = None
    change_7d_pct: Finite | None = None
    high_24h: Positive | None = None
    low_24h: Positive | None = None
    quote_volume_24h: NonNegative | None = None
    market_cap: NonNegative | None = None
    ts: UtcDatetime  # when the venue computed the figure


class Candle(Record):
    coin: str
    venue: Venue
    market: Market
    interval: Interval
    open_time: UtcDatetime
    open: Positive
    high: Positive
    low: Positive
    close: Positive
    volume: NonNegative  # base units
    quote_volume: NonNegative | None = None
    taker_buy_quote: NonNegative | None = None  # Binance only: aggressive buy volume in quote


class OpenInterest(Record):
    coin: str
    venue: Venue
    ts: UtcDatetime
    oi_usd: NonNegative
    oi_coin: NonNegative | None = None


class Funding(Record):
    """A funding rate as a fraction per interval, plus the same normalised to 8 hours."""

    coin: str
    venue: Venue
    ts: UtcDatetime
    rate: Finite
    interval_hours: Annotated[float, Field(gt=0, le=24)] = 8.0

    @property
    def rate_8h(self) -> float:
        return self.rate * 8.0 / self.interval_hours


class LongShortRatio(Record):
    """Share of accounts net long (0..1) on a venue."""

    coin: str
    venue: Venue
    ts: UtcDatetime
    long_share: Annotated[float, Field(ge=0, le=1)]


class TopTraderRatio(Record):
    """Share of a venue's top traders (its largest accounts by margin) that is long, by
    position size (``basis="position"``) or by number of accounts (``"account"``), 0..1."""

    coin: str
    venue: Venue
    basis: Literal["position", "account"]
    ts: UtcDatetime
    long_share: Annotated[float, Field(ge=0, le=1)]


class Liquidation(Record):
    """One forced liquidation; ``event_id`` is stable across reconnects for dedupe."""

    venue: Venue
    coin: str
    side: Side
    price: Positive
    qty: Positive  # base units
    usd: Positive
    ts: UtcDatetime
    event_id: str


class MacroPoint(Record):
    """A close of a macro series (equity index, dollar index, yield) on a bar."""

    series: str  # our key, e.g. "spx", "dxy", "us10y"
    symbol: str  # the source's symbol, e.g. "^GSPC"
    source: Venue
    interval: Interval
    ts: UtcDatetime
    close: Positive


class FearGreed(Record):
    """One day's Fear & Greed index (0 extreme fear … 100 extreme greed) with the source's own
    label for it ("Extreme Fear"); ``ts`` is the day the value is for (the source's timestamp)."""

    source: str  # "alternative.me"
    ts: UtcDatetime
    value: Annotated[int, Field(ge=0, le=100)]
    label: Annotated[str, Field(min_length=1, max_length=40)]


class GlobalStats(Record):
    ts: UtcDatetime
    source: Venue
    total_market_cap_usd: Positive
    market_cap_change_24h_pct: Finite | None = None
    btc_dominance_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    eth_dominance_pct: Annotated[float, Field(ge=0, le=100)] | None = None


class MarketEntry(Record):
    """One coin of the top 100 by market cap, tracked or not: enough for market breadth."""

    id: str  # CoinGecko id, e.g. "bitcoin"
    symbol: str  # upper-cased, e.g. "BTC"
    change_24h_pct: Finite | None = None
    market_cap: NonNegative | None = None


class StreamConnection(Record):
    """A period during which a liquidation stream was connected (for coverage statements)."""

    venue: Venue
    connected_at: UtcDatetime
    disconnected_at: UtcDatetime | None = None


class SourceHealth(Record):
    source: str
    last_success: UtcDatetime | None = None
    last_error: str | None = None
    last_error_at: UtcDatetime | None = None
    consecutive_failures: int = 0
    disabled_reason: str | None = None


# -- personal price watches (/watch), as stored ------------------------------------------------


class Watch(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    user_id: int
    coin: str
    direction: Literal["above", "below"]
    price: float
    note: str = ""
    armed: bool  # a crossing will be sent; False after one was, until the price moves back
    created_at: datetime
    fired_at: datetime | None = None
    fired_count: int = 0


class WatchPause(BaseModel):
    model_config = ConfigDict(frozen=True)

    user_id: int
    since: datetime
    reason: str
