"""Bybit v5 rows and their parsers: the response envelope, the linear tickers (price, open
interest, funding) and the history (klines, open interest, funding, account ratio). Units as in
:mod:`bot.providers.bybit`."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.clock import from_ms
from bot.coins import Coin, CoinRegistry
from bot.models import Candle, Funding, LongShortRatio, OpenInterest, Ticker
from bot.providers.http import ProviderError
from bot.providers.parsing import by_position, validate_model, validate_rows

log = logging.getLogger("bot.providers.bybit")  # the provider's logger, as before the split

Bar = Literal["1h", "1d"]


BAR_LENGTH: dict[Bar, timedelta] = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}
DEFAULT_FUNDING_HOURS = 8.0

OptFloat = Annotated[float | None, BeforeValidator(lambda v: None if v == "" else v)]
"""Bybit sends ``""`` for a figure that does not apply (e.g. a symbol in pre-listing)."""


class _Result(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rows: list[Any] = Field(alias="list")


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")

    retCode: int
    retMsg: str = ""
    result: _Result
    time: int


def _unwrap(body: Any, source: str) -> _Envelope:
    """The envelope, or the venue's own refusal as a :class:`ProviderError` with its message."""
    if isinstance(body, dict) and body.get("retCode") not in (None, 0, "0"):
        raise ProviderError(source, f"retCode {body.get('retCode')}: {body.get('retMsg', '')}")
    return validate_model(source, body, _Envelope)


class LinearTickerRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    symbol: str
    lastPrice: float
    price24hPcnt: float
    highPrice24h: float
    lowPrice24h: float
    turnover24h: float
    openInterest: float
    openInterestValue: float
    singleOpenInterest: OptFloat = None
    singleOpenInterestValue: OptFloat = None
    fundingRate: OptFloat = None
    fundingIntervalHour: OptFloat = None


@dataclass(frozen=True)
class LinearSnapshot:
    """Everything one ``/v5/market/tickers?category=linear`` call gives for the tracked coins."""

    tickers: list[Ticker]
    open_interest: list[OpenInterest]
    funding: list[Funding]


def parse_linear_tickers(body: Any, registry: CoinRegistry, source: str = "bybit") -> list[Ticker]:
    """Perp tickers; the 24h change is converted from a fraction to percent."""
    env = _unwrap(body, source)

    def convert(row: LinearTickerRow) -> Ticker | None:
        coin = registry.by_venue("bybit", row.symbol)
        if coin is None:
            return None
        per_unit = coin.perp_multiplier
        return Ticker(
            coin=coin.symbol,
            venue="bybit",
            market="perp",
            price=row.lastPrice / per_unit,
            change_24h_pct=row.price24hPcnt * 100.0,
            high_24h=row.highPrice24h / per_unit,
            low_24h=row.lowPrice24h / per_unit,
            quote_volume_24h=row.turnover24h,
            ts=from_ms(env.time),
        )

    return validate_rows(source, env.result.rows, LinearTickerRow, convert)


def parse_linear_open_interest(
    body: Any, registry: CoinRegistry, source: str = "bybit"
) -> list[OpenInterest]:
    """One-sided open interest now, in USD and coin, from the linear tickers body."""
    env = _unwrap(body, source)

    def convert(row: LinearTickerRow) -> OpenInterest | None:
        coin = registry.by_venue("bybit", row.symbol)
        if coin is None:
            return None
        usd = _one_side(row.singleOpenInterestValue, row.openInterestValue)
        contracts = _one_side(row.singleOpenInterest, row.openInterest)
        return OpenInterest(
            coin=coin.symbol,
            venue="bybit",
            ts=from_ms(env.time),
            oi_usd=usd,
            oi_coin=contracts * coin.perp_multiplier,
        )

    return validate_rows(source, env.result.rows, LinearTickerRow, convert)


def parse_linear_funding(body: Any, registry: CoinRegistry, source: str = "bybit") -> list[Funding]:
    """Current (predicted) funding per coin with its own interval (``fundingIntervalHour``)."""
    env = _unwrap(body, source)

    def convert(row: LinearTickerRow) -> Funding | None:
        coin = registry.by_venue("bybit", row.symbol)
        if coin is None or row.fundingRate is None:
            return None
        return Funding(
            coin=coin.symbol,
            venue="bybit",
            ts=from_ms(env.time),
            rate=row.fundingRate,
            interval_hours=row.fundingIntervalHour or DEFAULT_FUNDING_HOURS,
        )

    return validate_rows(source, env.result.rows, LinearTickerRow, convert)


def parse_linear_snapshot(body: Any, registry: CoinRegistry, source: str = "bybit") -> LinearSnapshot:
    return LinearSnapshot(
        tickers=parse_linear_tickers(body, registry, source),
        open_interest=parse_linear_open_interest(body, registry, source),
        funding=parse_linear_funding(body, registry, source),
    )


def _one_side(single: float | None, both_sides: float) -> float:
    return single if single is not None else both_sides / 2.0


_KLINE_FIELDS = ("start", "open", "high", "low", "close", "volume", "turnover")


class KlineRow(BaseModel):
    """One array row ``[start, open, high, low, close, volume, turnover]``, named by position."""

    model_config = ConfigDict(extra="ignore")

    start: int
    open: float
    high: float
    low: float
    close: float
    volume: float
    turnover: float


def parse_kline(
    body: Any,
    coin: Coin,
    interval: Bar,
    *,
    now: datetime | None = None,
    source: str = "bybit",
) -> list[Candle]:
    """Linear-perp candles, ascending (Bybit sends newest first). With ``now``, the bar still in
    progress is dropped so every stored candle is final."""
    env = _unwrap(body, source)
    per_unit = coin.perp_multiplier
    length = BAR_LENGTH[interval]

    def convert(row: KlineRow) -> Candle | None:
        open_time = from_ms(row.start)
        if now is not None and open_time + length > now:
            return None
        return Candle(
            coin=coin.symbol,
            venue="bybit",
            market="perp",
            interval=interval,
            open_time=open_time,
            open=row.open / per_unit,
            high=row.high / per_unit,
            low=row.low / per_unit,
            close=row.close / per_unit,
            volume=row.volume * per_unit,
            quote_volume=row.turnover,
        )

    candles = validate_rows(source, by_position(env.result.rows, _KLINE_FIELDS), KlineRow, convert)
    return sorted(candles, key=lambda c: c.open_time)


def price_points(candles: Sequence[Candle], interval: Bar) -> dict[datetime, float]:
    """Price per coin at each bar boundary: a bar's open at its start, else the close of the bar
    that ended then (so the newest boundary, whose bar has not opened yet, is priced too)."""
    length = BAR_LENGTH[interval]
    points = {c.open_time + length: c.close for c in candles}
    points.update({c.open_time: c.open for c in candles})
    return points


class OpenInterestRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    openInterest: float
    singleOpenInterest: OptFloat = None
    timestamp: int


def parse_open_interest_history(
    body: Any, coin: Coin, prices: Mapping[datetime, float], source: str = "bybit"
) -> list[OpenInterest]:
    """One-sided OI history, ascending. Linear OI is in base coin (per contract unit, hence the
    multiplier); ``prices`` (per coin, by timestamp, see :func:`price_points`) turn it into USD.
    A point with no price is dropped rather than guessed."""
    env = _unwrap(body, source)
    unpriced: list[datetime] = []

    def convert(row: OpenInterestRow) -> OpenInterest | None:
        ts = from_ms(row.timestamp)
        price = prices.get(ts)
        if price is None:
            unpriced.append(ts)
            return None
        oi_coin = _one_side(row.singleOpenInterest, row.openInterest) * coin.perp_multiplier
        return OpenInterest(coin=coin.symbol, venue="bybit", ts=ts, oi_usd=oi_coin * price, oi_coin=oi_coin)

    points = validate_rows(source, env.result.rows, OpenInterestRow, convert)
    if unpriced:
        log.info("%s: %s: %d OI points without a candle price dropped", source, coin.symbol, len(unpriced))
    return sorted(points, key=lambda p: p.ts)


class FundingHistoryRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    fundingRate: float
    fundingRateTimestamp: int


def parse_funding_history(
    body: Any, coin: Coin, interval_hours: float = DEFAULT_FUNDING_HOURS, source: str = "bybit"
) -> list[Funding]:
    """Settled funding, ascending; the interval is the symbol's current one (not in the rows)."""
    env = _unwrap(body, source)

    def convert(row: FundingHistoryRow) -> Funding:
        return Funding(
            coin=coin.symbol,
            venue="bybit",
            ts=from_ms(row.fundingRateTimestamp),
            rate=row.fundingRate,
            interval_hours=interval_hours,
        )

    return sorted(validate_rows(source, env.result.rows, FundingHistoryRow, convert), key=lambda f: f.ts)


class AccountRatioRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    buyRatio: float
    timestamp: int


def parse_account_ratio(body: Any, coin: Coin, source: str = "bybit") -> list[LongShortRatio]:
    """Share of accounts long (``buyRatio``), ascending."""
    env = _unwrap(body, source)

    def convert(row: AccountRatioRow) -> LongShortRatio:
        return LongShortRatio(
            coin=coin.symbol, venue="bybit", ts=from_ms(row.timestamp), long_share=row.buyRatio
        )

    return sorted(validate_rows(source, env.result.rows, AccountRatioRow, convert), key=lambda r: r.ts)
