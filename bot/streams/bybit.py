"""Bybit v5 linear liquidation stream (``allLiquidation.{SYMBOL}``, one topic per symbol).

Rules (Bybit v5 docs): public linear websocket ``wss://stream.bybit.com/v5/public/linear``;
send ``{"op": "ping"}`` every 20 s; at most 500 connections per 5 minutes per IP; the
``args`` of one connection must stay under 21,000 characters. "Spot can input up to 10 args
for each subscription request" and linear has no per-request limit documented, so chunking by
10 is the conservative choice that works for both.

Frame: ``{"topic": "allLiquidation.X", "type": "snapshot", "ts": ms, "data": [{"T", "s", "S",
"v", "p"}]}``, pushed every 500 ms with all liquidations. ``S`` is the *position* side:
``Buy`` means a long position was liquidated (the opposite of Binance's order side). ``v`` is
the size (in the contract's unit, e.g. 1000 PEPE for 1000PEPEUSDT), ``p`` the bankruptcy price.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

import aiohttp

from bot.clock import Clock, from_ms, system_clock
from bot.coins import CoinRegistry
from bot.models import Liquidation, Side, Venue
from bot.settings import BybitSettings
from bot.streams.adapter import StreamConfig, StreamHooks, VenueAdapter
from bot.streams.frames import log_malformed, ms_field, to_float
from bot.streams.runner import LiquidationStream

log = logging.getLogger(__name__)

VENUE: Venue = "bybit"
TOPIC_PREFIX = "allLiquidation."
MAX_ARGS_PER_SUBSCRIBE = 10
PING = json.dumps({"op": "ping"}, separators=(",", ":"))
POSITION_SIDE_TO_LIQUIDATED: dict[str, Side] = {"Buy": "long", "Sell": "short"}

# Pings every 20 s are answered with a pong frame, so a minute of silence means a dead link.
DEFAULT_CONFIG = StreamConfig(ping_interval=20.0, idle_timeout=60.0)


def topics(registry: CoinRegistry) -> list[str]:
    """One ``allLiquidation`` topic per coin listed on Bybit."""
    return sorted({f"{TOPIC_PREFIX}{coin.bybit}" for coin in registry.coins.values() if coin.bybit})


def subscribe_messages(topic_list: Iterable[str], chunk: int = MAX_ARGS_PER_SUBSCRIBE) -> list[str]:
    items = list(topic_list)
    return [
        json.dumps(
            {"req_id": f"liq-{n}", "op": "subscribe", "args": items[start : start + chunk]},
            separators=(",", ":"),
        )
        for n, start in enumerate(range(0, len(items), chunk))
    ]


def parse_frame(frame: Any, registry: CoinRegistry) -> list[Liquidation]:
    """Liquidations in one decoded frame for coins in ``registry``; other frames give ``[]``."""
    if not isinstance(frame, dict):
        log.debug("bybit: ignored frame %.200r", frame)
        return []
    topic = frame.get("topic")
    if not isinstance(topic, str) or not topic.startswith(TOPIC_PREFIX):
        if "op" in frame and frame.get("success") is False:
            log.warning("bybit: %s rejected: %s", frame.get("op"), frame.get("ret_msg"))
        else:
            log.debug("bybit: ignored frame %.200r", frame)
        return []
    rows = frame.get("data")
    if isinstance(rows, dict):
        rows = [rows]
    if not isinstance(rows, list):
        log_malformed(log, VENUE, "allLiquidation frame (no data list)", frame)
        return []
    events: list[Liquidation] = []
    for row in rows:
        event = _parse_row(row, registry)
        if event is not None:
            events.append(event)
    return events


def _parse_row(row: Any, registry: CoinRegistry) -> Liquidation | None:
    try:
        if not isinstance(row, dict):
            raise TypeError("row is not an object")
        symbol = row["s"]
        if not isinstance(symbol, str):
            raise TypeError("'s' is not a string")
        coin = registry.by_venue("bybit", symbol)
        if coin is None:
            log.debug("bybit: liquidation for untracked symbol %s", symbol)
            return None
        position_side = row["S"]
        side = POSITION_SIDE_TO_LIQUIDATED.get(position_side) if isinstance(position_side, str) else None
        if side is None:
            raise ValueError(f"unknown side {position_side!r}")
        size = to_float(row["v"])
        price = to_float(row["p"])
        trade_ms = ms_field(row["T"])
        mult = coin.perp_multiplier  # 1000PEPEUSDT: size in 1000-PEPE units, price per 1000
        return Liquidation(
            venue=VENUE,
            coin=coin.symbol,
            side=side,
            price=price / mult,
            qty=size * mult,
            usd=size * price,
            ts=from_ms(trade_ms),
            event_id=f"{symbol}:{trade_ms}:{position_side}:{row['v']}:{row['p']}",
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:  # ValidationError is a ValueError
        log_malformed(log, VENUE, f"allLiquidation row ({type(exc).__name__}: {exc})", row)
        return None


class BybitLiquidations(VenueAdapter):
    venue: Venue = VENUE
    default_config = DEFAULT_CONFIG
    ping_payload = PING

    def __init__(self, url: str, registry: CoinRegistry) -> None:
        self.url = url
        self.registry = registry

    @property
    def topics(self) -> list[str]:
        """Read at each (re)connection: the tracked set can change while the stream runs."""
        return topics(self.registry)

    @classmethod
    def from_settings(cls, settings: BybitSettings, registry: CoinRegistry) -> BybitLiquidations:
        return cls(settings.ws_url, registry)

    def subscribe_messages(self) -> list[str]:
        return subscribe_messages(self.topics)

    def parse(self, frame: Any) -> list[Liquidation]:
        return parse_frame(frame, self.registry)


def bybit_stream(
    settings: BybitSettings,
    registry: CoinRegistry,
    hooks: StreamHooks,
    *,
    config: StreamConfig | None = None,
    clock: Clock = system_clock,
    session: aiohttp.ClientSession | None = None,
) -> LiquidationStream:
    """The Bybit liquidation stream, subscribed to every coin in ``registry`` listed on Bybit."""
    return LiquidationStream(
        BybitLiquidations.from_settings(settings, registry),
        hooks,
        config=config,
        clock=clock,
        session=session,
    )
