"""What a chart shows, as data: candles, level bands, liquidation bars and labels, built by
the /levels and /liquidations renderers (``bot.render.levels``, ``bot.render.liquidations``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.models import Candle

BandKind = Literal["support", "resistance", "at_price"]


# A dark card reads well on both Discord themes: it is an image, so it keeps its own contrast
# on a white page, and it sits quietly on the dark one (the palette is Discord's own greys).
def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (UTC)")


@dataclass(frozen=True)
class Band:
    """A support/resistance zone, shaded across the chart and labelled at its right edge."""

    low: float
    high: float
    kind: BandKind
    label: str  # e.g. "S1 $84.2K (0.82)"

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"band low {self.low} is above high {self.high}")


@dataclass(frozen=True)
class LiqBar:
    """Liquidated USD in one time bucket starting at ``start``, split by the side wiped out."""

    start: datetime
    long_usd: float
    short_usd: float

    def __post_init__(self) -> None:
        _require_aware(self.start, "LiqBar.start")
        if self.long_usd < 0 or self.short_usd < 0:
            raise ValueError("liquidation amounts cannot be negative")


@dataclass(frozen=True)
class ChartSpec:
    """Everything a chart shows; pure data so renders are reproducible and cacheable."""

    title: str  # e.g. "BTC · 1h · 2026-11-20 → 2026-11-26 UTC"
    candles: Sequence[Candle]
    bands: Sequence[Band] = ()
    current_price: float | None = None
    current_label: str | None = None  # default: "now $87,123"
    liq_bars: Sequence[LiqBar] = ()
    liq_bucket: timedelta | None = None  # default: smallest gap between bars, else candle interval
    subtitle: str | None = None
    footer: str | None = None  # sources and coverage, e.g. "≥ $50K from Binance+Bybit, covered since …"
    width_px: int = 1200
    height_px: int = 800
    show_liquidations: bool = True  # False: a price-only chart (no lower panel)
    live_from: datetime | None = None  # open time of the last bar when it is the hour in progress

    def __post_init__(self) -> None:
        if self.width_px < 200 or self.height_px < 150:
            raise ValueError("chart must be at least 200×150 px")
