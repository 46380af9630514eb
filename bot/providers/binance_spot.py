"""Binance spot and USDⓈ-M market rows: 24h and rolling-window tickers, klines. Units as in
:mod:`bot.providers.binance`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from bot.clock import from_ms
from bot.coins import Coin, CoinRegistry
from bot.models import (
    Candle,
    Finite,
    Market,
    NonNegative,
    Positive,
    Record,
    Ticker,
    UtcDatetime,
    Venue,
)
from bot.providers.parsing import by_position, validate_rows

Bar = Literal["1h", "1d"]
"""History granularities the slower jobs use; Binance spells them like ``models.Interval``."""


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
