"""Axis text: price ticks from the one price formatter (or, for a coin under a tenth of a
cent, bare numbers in a unit of their own), dollar amounts, and label positions that never
overlap."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from itertools import pairwise

from matplotlib.ticker import Formatter

from bot.fmt import price_at


def escape(text: str) -> str:
    """Keep "$84K–$85K" literal: two dollar signs would otherwise switch matplotlib to mathtext."""
    return text.replace("$", r"\$")


class UsdFormatter(Formatter):
    """Compact tick labels via ``fmt``; falls back to ``fallback`` when compaction would give
    two ticks the same text (e.g. $86.25K and $86.2K both as "$86.2K")."""

    def __init__(
        self, primary: Callable[[float], str], fallback: Callable[[float], str] | None = None
    ) -> None:
        super().__init__()
        self._primary = primary
        self._fallback = fallback

    def __call__(self, x: float, pos: int | None = None) -> str:
        return escape(self._primary(x))

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        labels = [self._primary(v) for v in values]
        if self._fallback is not None and len(set(labels)) < len(labels):
            labels = [self._fallback(v) for v in values]
        return [escape(label) for label in labels]


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")
MICRO_BELOW = 0.001  # prices under a tenth of a cent are read in a unit of their own


def price_unit(top: float) -> tuple[float, str]:
    """The unit a price axis is read in: dollars, or for a coin under a tenth of a cent a power
    of a thousand of them (PEPE's $0.00001082 reads "10.82" on an axis of "USD ×10⁻⁶"), so no
    tick carries eight decimals."""
    if not 0 < top < MICRO_BELOW:
        return 1.0, ""
    power = 3 * math.floor(math.log10(top) / 3)
    return 10.0**power, f"×10{str(power).translate(_SUPERSCRIPT)}"


def tick_decimals(values: Sequence[float]) -> int:
    """The fewest decimals that print every tick exactly (ticks sit on round steps)."""
    finite = [v for v in values if math.isfinite(v)]
    if len(finite) < 2:
        return 0
    step = min((b - a for a, b in pairwise(sorted(finite)) if b > a), default=1.0)
    for d in range(-6, 13):
        if all(abs(round(v, d) - v) <= step * 1e-6 for v in finite):
            return d
    return 12


class PriceTicks(Formatter):
    """Price ticks with the one price formatter (``$82,500``, ``$2,600``, ``$0.1525``), or
    bare numbers in the axis's unit for micro-cap coins (see :func:`price_unit`)."""

    def __init__(self, scale: float) -> None:
        super().__init__()
        self.scale = scale

    def _text(self, value: float, decimals: int) -> str:
        if self.scale == 1.0:
            return price_at(value, decimals)
        return f"{value / self.scale:,.{max(decimals, 0)}f}"

    def __call__(self, x: float, pos: int | None = None) -> str:
        return escape(self._text(x, tick_decimals([x / self.scale, x / self.scale])))

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        d = tick_decimals([v / self.scale for v in values])
        return [escape(self._text(v, d)) for v in values]


def spread_labels(ys: Sequence[float], gap: float, lo: float = 0.0, hi: float = 1.0) -> list[float]:
    """Move label centres apart by at least ``gap`` within [lo, hi], each as close to its target
    as possible: overlapping labels are merged into clusters centred on their targets' mean."""
    if not ys:
        return []
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    if gap * (len(ys) - 1) > hi - lo:  # cannot fit: spread evenly, keeping order
        gap = (hi - lo) / max(1, len(ys) - 1)
    clusters: list[list[float]] = []  # each: desired positions, sorted

    def start(cluster: list[float]) -> float:
        centre = sum(cluster) / len(cluster)
        first = centre - gap * (len(cluster) - 1) / 2
        return min(max(first, lo), hi - gap * (len(cluster) - 1))

    for i in order:
        clusters.append([ys[i]])
        while len(clusters) > 1:
            prev, cur = clusters[-2], clusters[-1]
            if start(prev) + gap * len(prev) <= start(cur) + 1e-12:
                break
            clusters[-2:] = [prev + cur]
    placed = [start(c) + gap * k for c in clusters for k in range(len(c))]
    out = [0.0] * len(ys)
    for rank, i in enumerate(order):
        out[i] = placed[rank]
    return out
