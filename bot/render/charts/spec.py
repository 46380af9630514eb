"""What a chart shows, as data: candles, level bands, liquidation bars and labels, built by
the /levels and /liquidations renderers (``bot.render.levels``, ``bot.render.liquidations``)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal

from bot.models import Candle

BandKind = Literal["support", "resistance", "at_price"]
AxisSide = Literal["left", "right"]

# Zone strength as drawn: each tier's lower bound, its word (the legend's) and its fill opacity.
STRENGTH_TIERS: tuple[tuple[float, str, float], ...] = (
    (0.0, "weak", 0.10),
    (0.4, "moderate", 0.22),
    (0.7, "strong", 0.36),
)
UNRATED_ALPHA = 0.14  # a zone drawn without a strength
BAND_GAP = 0.012  # the least gap drawn between neighbouring zones, as a share of the price axis
BAND_MIN_HEIGHT = 0.004  # a zone is never drawn thinner than this share (unless it is thinner)


def _require_aware(value: datetime, what: str) -> None:
    if value.tzinfo is None:
        raise ValueError(f"{what} must be timezone-aware (UTC)")


def strength_tier(strength: float) -> tuple[str, float]:
    """The word and fill opacity for a zone's strength (0–1)."""
    word, alpha = STRENGTH_TIERS[0][1:]
    for bound, name, opacity in STRENGTH_TIERS:
        if strength >= bound:
            word, alpha = name, opacity
    return word, alpha


@dataclass(frozen=True)
class Band:
    """A support/resistance zone, shaded across the chart and labelled at its right edge."""

    low: float
    high: float
    kind: BandKind
    label: str  # e.g. "R1 $89,370–$91,180 · strong 0.99"
    strength: float | None = None  # 0–1: the fill's opacity (see STRENGTH_TIERS)

    def __post_init__(self) -> None:
        if not self.low <= self.high:
            raise ValueError(f"band low {self.low} is above high {self.high}")

    @property
    def tested(self) -> bool:
        """The zone the price is in: outlined and hatched."""
        return self.kind == "at_price"

    @property
    def alpha(self) -> float:
        return UNRATED_ALPHA if self.strength is None else strength_tier(self.strength)[1]


@dataclass(frozen=True)
class DrawnBand:
    """A band as drawn: its edges pulled apart from its neighbours' so each zone reads as one."""

    band: Band
    low: float
    high: float

    @property
    def middle(self) -> float:
        return (self.low + self.high) / 2


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
    price_label: str = "price (USD)"
    window_start: datetime | None = None  # the asked window, shaded from here to the end
    window_label: str | None = None  # e.g. "1h window"
    price_axis: AxisSide | None = None  # None: on the right unless zone labels fill that margin

    def __post_init__(self) -> None:
        if self.width_px < 200 or self.height_px < 150:
            raise ValueError("chart must be at least 200×150 px")
        if self.window_start is not None:
            _require_aware(self.window_start, "ChartSpec.window_start")

    @property
    def axis_side(self) -> AxisSide:
        """The price axis where traders read it (the right), unless the zones' labels are there."""
        if self.price_axis is not None:
            return self.price_axis
        return "left" if self.bands else "right"

    @property
    def strength_legend(self) -> bool:
        return any(b.strength is not None for b in self.bands)

    def price_limits(self) -> tuple[float, float]:
        """The price axis: every candle, zone and the current price, with 5% to spare."""
        lows = [c.low for c in self.candles] + [b.low for b in self.bands]
        highs = [c.high for c in self.candles] + [b.high for b in self.bands]
        if self.current_price is not None:
            lows.append(self.current_price)
            highs.append(self.current_price)
        lo, hi = min(lows), max(highs)
        pad = (hi - lo) * 0.05 or abs(hi) * 0.005 or 1.0
        return lo - pad, hi + pad

    def drawn_bands(self) -> list[DrawnBand]:
        """The bands as drawn, in the order given: neighbours that touch or nearly do are pulled
        apart to a gap of ``BAND_GAP`` of the axis, so two adjacent resistances never merge into
        one block; a zone keeps at least ``BAND_MIN_HEIGHT`` (or its own height)."""
        if not self.bands:
            return []
        lo, hi = self.price_limits()
        gap, least = BAND_GAP * (hi - lo), BAND_MIN_HEIGHT * (hi - lo)
        edges = [[b.low, b.high] for b in self.bands]
        order = sorted(range(len(edges)), key=lambda i: (edges[i][0], edges[i][1]))
        for i, j in pairwise(order):  # neighbours that touch part where they meet
            a, b = edges[i], edges[j]
            if b[0] - a[1] < gap:
                meet = (a[1] + b[0]) / 2  # (the middle of an overlap)
                a[1] = min(a[1], meet - gap / 2)
                b[0] = max(b[0], meet + gap / 2)
        for k, i in enumerate(order):  # a zone squeezed by both: its own middle, neighbours pushed
            band = self.bands[i]
            need = min(least, band.high - band.low)
            if edges[i][1] - edges[i][0] >= need:
                continue
            middle = (band.low + band.high) / 2
            edges[i] = [middle - need / 2, middle + need / 2]
            if k > 0:
                below = edges[order[k - 1]]
                below[1] = min(below[1], edges[i][0] - gap)
            if k + 1 < len(order):
                above = edges[order[k + 1]]
                above[0] = max(above[0], edges[i][1] + gap)
        return [DrawnBand(b, low, high) for b, (low, high) in zip(self.bands, edges, strict=True)]
