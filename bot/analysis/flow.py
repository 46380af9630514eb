"""Taker flow: net aggressive buying or selling per venue, and which market led."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.analysis.findings import (
    Caveat,
    FlowFinding,
    FlowLead,
    window_label,
)
from bot.models import Candle

# ---------------------------------------------------------------------------------------------
# Taker flow: spot against perpetuals


@dataclass(frozen=True)
class FlowConfig:
    lead_ratio: float = 1.5  # one market leads when its net flow is this many times the other's


def _net(
    bars: Sequence[Candle], coin: str, start: datetime, now: datetime
) -> tuple[float, float, int] | None:
    net = volume = 0.0
    n = 0
    for c in bars:
        if c.coin != coin or not (start <= c.open_time <= now):
            continue
        if c.taker_buy_quote is None or c.quote_volume is None:
            continue
        net += 2.0 * c.taker_buy_quote - c.quote_volume  # taker buys minus taker sells
        volume += c.quote_volume
        n += 1
    return (net, volume, n) if n else None


def taker_flow(
    coin: str,
    spot: Sequence[Candle],
    perp: Sequence[Candle],
    *,
    now: datetime,
    window: timedelta,
    config: FlowConfig = FlowConfig(),
) -> FlowFinding:
    """Net taker flow (aggressive buys minus sells, in quote) on spot and on perpetuals over
    the bars opened in ``[now - window, now]``, and which market led."""
    label = window_label(window)
    start = now - window
    s = _net(spot, coin, start, now)
    p = _net(perp, coin, start, now)
    used = [
        c
        for c in (*spot, *perp)
        if c.coin == coin and start <= c.open_time <= now and c.taker_buy_quote is not None
    ]
    sources = tuple(sorted({f"{c.venue} {c.market}" for c in used}))
    as_of = max((c.open_time for c in used), default=None)
    if s is None and p is None:
        return FlowFinding(
            coin=coin, window=label, sources=sources, insufficient=Caveat(code="no_taker_volume")
        )
    notes = [Caveat(code="no_taker_market", market=m) for m, v in (("spot", s), ("perp", p)) if v is None]
    led: FlowLead | None = None
    if s is not None and p is not None:
        a, b = abs(s[0]), abs(p[0])
        led = "spot" if a >= config.lead_ratio * b else "perp" if b >= config.lead_ratio * a else "balanced"
    return FlowFinding(
        coin=coin,
        window=label,
        as_of=as_of,
        sources=sources,
        notes=tuple(notes),
        spot_net_usd=s[0] if s else None,
        perp_net_usd=p[0] if p else None,
        spot_volume_usd=s[1] if s else None,
        perp_volume_usd=p[1] if p else None,
        led_by=led,
    )
