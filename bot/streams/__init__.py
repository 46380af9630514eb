"""Liquidation websocket streams (Binance, Bybit, OKX): pure per-venue parsers and one
reconnecting runner that hands events to an injected sink (see :mod:`bot.streams.runner`)."""

from bot.streams.adapter import StreamConfig, StreamHooks, StreamStats, VenueAdapter
from bot.streams.binance import BinanceLiquidations, binance_stream
from bot.streams.bybit import BybitLiquidations, bybit_stream
from bot.streams.okx import OkxLiquidations, okx_stream
from bot.streams.runner import LiquidationStream

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
