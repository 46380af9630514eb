"""Liquidation websocket streams (Binance, Bybit, OKX): pure per-venue parsers and one
reconnecting runner that hands events to an injected sink (see :mod:`bot.streams.base`)."""

from bot.streams.base import (
    LiquidationStream,
    StreamConfig,
    StreamHooks,
    StreamStats,
    VenueAdapter,
)
from bot.streams.binance import BinanceLiquidations, binance_stream
from bot.streams.bybit import BybitLiquidations, bybit_stream
from bot.streams.okx import OkxLiquidations, okx_stream

__all__ = [
    "BinanceLiquidations",
    "BybitLiquidations",
    "LiquidationStream",
    "OkxLiquidations",
    "StreamConfig",
    "StreamHooks",
    "StreamStats",
    "VenueAdapter",
    "binance_stream",
    "bybit_stream",
    "okx_stream",
]
