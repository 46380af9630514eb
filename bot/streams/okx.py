"""OKX v5 liquidation-orders stream (all perpetual swaps in one subscription).

Rules (OKX v5 docs): public websocket ``wss://ws.okx.com:8443/ws/v5/public``; 3 connection
attempts per second per IP; 480 subscribe requests per hour per connection; the server drops a
connection silent for 30 s, so after N < 30 s without any message send the text ``ping``,
expect ``pong`` within N seconds, else reconnect. "This data doesn't represent the total number
of liquidations on OKX", and it is not necessarily in chronological order.

Frame: ``{"arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "data": [{"instId",
"instType", "details": [{"side", "posSide", "bkPx", "sz", "bkLoss", "ts"}]}]}``. ``sz`` is in
*contracts*: USD = ``sz`` × ``ctVal`` × ``bkPx``, with the contract value (in coin, for linear
swaps) from ``/api/v5/public/instruments?instType=SWAP`` — see :func:`contract_values`.
``posSide`` ``long``/``short`` (hedge mode) is the liquidated position; in net mode (``net``)
a ``sell`` closes a long and a ``buy`` a short.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.clock import Clock, from_ms, system_clock
from bot.coins import CoinRegistry
from bot.models import Liquidation, Side, Venue
from bot.settings import OkxSettings
from bot.streams.adapter import StreamConfig, StreamHooks, VenueAdapter
from bot.streams.frames import log_malformed, ms_field, to_float
from bot.streams.runner import LiquidationStream

log = logging.getLogger(__name__)

VENUE: Venue = "okx"
CHANNEL = "liquidation-orders"
SUBSCRIBE = json.dumps(
    {"op": "subscribe", "args": [{"channel": CHANNEL, "instType": "SWAP"}]}, separators=(",", ":")
)
PING = "ping"
PONG = "pong"
ORDER_SIDE_TO_LIQUIDATED: dict[str, Side] = {"sell": "long", "buy": "short"}
POSITION_SIDES: dict[str, Side] = {"long": "long", "short": "short"}

# Ping after 20 s of silence; no pong (or anything) within another 20 s → reconnect.
DEFAULT_CONFIG = StreamConfig(ping_interval=20.0, idle_timeout=40.0)

_warned_no_ct_val: set[str] = set()


def parse_frame(frame: Any, registry: CoinRegistry, ct_val: Mapping[str, float]) -> list[Liquidation]:
    """Liquidations in one decoded frame for coins in ``registry``; other frames give ``[]``.
    ``ct_val`` maps an instId to its contract value in coin; instruments without one are
    skipped (a warning once per instId for coins we track)."""
    if not isinstance(frame, dict):
        log.debug("okx: ignored frame %.200r", frame)
        return []
    event = frame.get("event")
    if event is not None:
        if event in ("error", "notice"):
            log.warning("okx: %s %s: %s", event, frame.get("code"), frame.get("msg"))
        else:
            log.debug("okx: %s %.200r", event, frame)
        return []
    arg = frame.get("arg")
    if not isinstance(arg, dict) or arg.get("channel") != CHANNEL:
        log.debug("okx: ignored frame %.200r", frame)
        return []
    rows = frame.get("data")
    if not isinstance(rows, list):
        log_malformed(log, VENUE, "liquidation-orders frame (no data list)", frame)
        return []
    events: list[Liquidation] = []
    for row in rows:
        events.extend(_parse_row(row, registry, ct_val))
    return events


def _parse_row(row: Any, registry: CoinRegistry, ct_val: Mapping[str, float]) -> list[Liquidation]:
    if not isinstance(row, dict) or not isinstance(row.get("instId"), str):
        log_malformed(log, VENUE, "liquidation-orders row", row)
        return []
    inst_id: str = row["instId"]
    coin = registry.by_venue("okx", inst_id)
    if coin is None:
        log.debug("okx: liquidation for untracked instrument %s", inst_id)
        return []
    contract = ct_val.get(inst_id)
    if contract is None or not contract > 0:
        if inst_id not in _warned_no_ct_val:
            _warned_no_ct_val.add(inst_id)
            log.warning("okx: no contract value for %s; its liquidations are skipped", inst_id)
        return []
    details = row.get("details")
    if not isinstance(details, list):
        log_malformed(log, VENUE, "liquidation-orders row (no details list)", row)
        return []
    events: list[Liquidation] = []
    for detail in details:
        try:
            if not isinstance(detail, dict):
                raise TypeError("detail is not an object")
            order_side = detail["side"]
            pos_side = detail.get("posSide", "net")
            side = POSITION_SIDES.get(pos_side) if isinstance(pos_side, str) else None
            if side is None and pos_side in ("net", "", None):
                side = ORDER_SIDE_TO_LIQUIDATED.get(order_side) if isinstance(order_side, str) else None
            if side is None:
                raise ValueError(f"unknown side {order_side!r}/{pos_side!r}")
            contracts = to_float(detail["sz"])
            price = to_float(detail["bkPx"])
            ts_ms = ms_field(detail["ts"])
            qty = contracts * contract
            events.append(
                Liquidation(
                    venue=VENUE,
                    coin=coin.symbol,
                    side=side,
                    price=price,
                    qty=qty,
                    usd=qty * price,
                    ts=from_ms(ts_ms),
                    event_id=f"{inst_id}:{ts_ms}:{order_side}:{pos_side}:{detail['sz']}:{detail['bkPx']}",
                )
            )
        except (KeyError, TypeError, ValueError, ArithmeticError) as exc:  # ValidationError is a ValueError
            log_malformed(log, VENUE, f"liquidation detail ({type(exc).__name__}: {exc})", detail)
    return events


class OkxLiquidations(VenueAdapter):
    venue: Venue = VENUE
    default_config = DEFAULT_CONFIG
    ping_payload = PING
    ping_when_idle = True

    def __init__(self, url: str, registry: CoinRegistry, ct_val: Mapping[str, float]) -> None:
        self.url = url
        self.registry = registry
        self.ct_val = ct_val  # read on every frame: a dict refreshed in place is picked up

    @classmethod
    def from_settings(
        cls, settings: OkxSettings, registry: CoinRegistry, ct_val: Mapping[str, float]
    ) -> OkxLiquidations:
        return cls(settings.ws_url, registry, ct_val)

    def subscribe_messages(self) -> list[str]:
        return [SUBSCRIBE]

    def is_pong(self, text: str) -> bool:
        return text == PONG

    def parse(self, frame: Any) -> list[Liquidation]:
        return parse_frame(frame, self.registry, self.ct_val)


def okx_stream(
    settings: OkxSettings,
    registry: CoinRegistry,
    ct_val: Mapping[str, float],
    hooks: StreamHooks,
    *,
    config: StreamConfig | None = None,
    clock: Clock = system_clock,
    session: aiohttp.ClientSession | None = None,
) -> LiquidationStream:
    """The OKX liquidation stream (all swaps) for the coins in ``registry``."""
    return LiquidationStream(
        OkxLiquidations.from_settings(settings, registry, ct_val),
        hooks,
        config=config,
        clock=clock,
        session=session,
    )
