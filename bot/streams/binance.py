"""Binance USDⓈ-M all-market liquidation stream (``!forceOrder@arr``).

Rules (shared/samples/README.md, Binance docs): the routed ``/market`` base is required
(``wss://fstream.binance.com/market/ws/!forceOrder@arr``); the server pings every 3 minutes and
drops a connection that has not answered within 10; a connection lives at most 24 hours. The
stream is a *snapshot*: per symbol only the largest liquidation in each 1000 ms is pushed, so
totals built from it are a lower bound.

Frame: ``{"e": "forceOrder", "E": ms, "o": {"s", "S", "q", "p", "ap", "X", "l", "z", "T"}}``.
``o.S`` is the liquidation *order* side: ``SELL`` closes a long (a long was liquidated), ``BUY``
a short. USD = ``z`` (filled qty) × ``ap`` (average price). Binance sends no event id, so ours
is built from symbol, trade time, side, filled qty and average price.
"""

from __future__ import annotations

import logging
from typing import Any

import aiohttp

from bot.clock import Clock, from_ms, system_clock
from bot.coins import CoinRegistry
from bot.models import Liquidation, Side, Venue
from bot.settings import BinanceSettings
from bot.streams.adapter import StreamConfig, StreamHooks, VenueAdapter
from bot.streams.frames import log_malformed, ms_field, to_float
from bot.streams.runner import LiquidationStream

log = logging.getLogger(__name__)

VENUE: Venue = "binance"
STREAM_PATH = "/ws/!forceOrder@arr"
ORDER_SIDE_TO_LIQUIDATED: dict[str, Side] = {"SELL": "long", "BUY": "short"}

# Server pings every 3 min: 10 min of total silence means the connection is dead.
# Rotate 30 min before the 24 h limit so the drop happens at a time we choose.
DEFAULT_CONFIG = StreamConfig(ping_interval=None, idle_timeout=600.0, max_connection_age=23.5 * 3600)


def stream_url(settings: BinanceSettings) -> str:
    return f"{settings.futures_ws_url}{STREAM_PATH}"


def parse_frame(frame: Any, registry: CoinRegistry) -> list[Liquidation]:
    """Liquidations in one decoded frame for coins in ``registry``; other frames give ``[]``.
    Accepts a raw event, a list of events and a combined-stream wrapper."""
    if isinstance(frame, list):
        return [event for item in frame for event in parse_frame(item, registry)]
    if not isinstance(frame, dict):
        log.debug("binance: ignored frame %.200r", frame)
        return []
    if "stream" in frame and isinstance(frame.get("data"), dict | list):
        return parse_frame(frame["data"], registry)
    if frame.get("e") != "forceOrder":
        log.debug("binance: ignored frame %.200r", frame)
        return []
    try:
        order = frame["o"]
        if not isinstance(order, dict):
            raise TypeError("'o' is not an object")
        symbol = order["s"]
        if not isinstance(symbol, str):
            raise TypeError("'s' is not a string")
        coin = registry.by_venue("binance_perp", symbol)
        if coin is None:
            log.debug("binance: liquidation for untracked symbol %s", symbol)
            return []
        order_side = order["S"]
        side = ORDER_SIDE_TO_LIQUIDATED.get(order_side) if isinstance(order_side, str) else None
        if side is None:
            raise ValueError(f"unknown side {order_side!r}")
        filled = to_float(order["z"])
        avg_price = to_float(order["ap"])
        trade_ms = ms_field(order["T"])
        if filled <= 0:
            log.debug("binance: unfilled liquidation order %.200r", frame)
            return []
        # 1000PEPEUSDT: quantity in 1000-PEPE units, price per 1000 PEPE.
        mult = coin.perp_multiplier
        event = Liquidation(
            venue=VENUE,
            coin=coin.symbol,
            side=side,
            price=avg_price / mult,
            qty=filled * mult,
            usd=filled * avg_price,
            ts=from_ms(trade_ms),
            event_id=f"{symbol}:{trade_ms}:{order_side}:{order['z']}:{order['ap']}",
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:  # ValidationError is a ValueError
        log_malformed(log, VENUE, f"forceOrder ({type(exc).__name__}: {exc})", frame)
        return []
    return [event]


class BinanceLiquidations(VenueAdapter):
    venue: Venue = VENUE
    default_config = DEFAULT_CONFIG

    def __init__(self, url: str, registry: CoinRegistry) -> None:
        self.url = url
        self.registry = registry

    @classmethod
    def from_settings(cls, settings: BinanceSettings, registry: CoinRegistry) -> BinanceLiquidations:
        return cls(stream_url(settings), registry)

    def parse(self, frame: Any) -> list[Liquidation]:
        return parse_frame(frame, self.registry)


def binance_stream(
    settings: BinanceSettings,
    registry: CoinRegistry,
    hooks: StreamHooks,
    *,
    config: StreamConfig | None = None,
    clock: Clock = system_clock,
    session: aiohttp.ClientSession | None = None,
) -> LiquidationStream:
    """The Binance liquidation stream for the coins in ``registry``."""
    return LiquidationStream(
        BinanceLiquidations.from_settings(settings, registry),
        hooks,
        config=config,
        clock=clock,
        session=session,
    )
