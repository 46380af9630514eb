"""The one place numbers become text, so ``$237M``, ``$2.16B`` and ``−4.4%`` read the same in
every answer and a test can re-derive any number from its finding."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import datetime, timedelta

MINUS = "\u2212"  # a real minus sign: "−4.4%" reads better than "-4.4%" in Discord


def _sign(value: float, text: str, plus: bool) -> str:
    if value < 0:
        return f"{MINUS}{text}"
    return f"+{text}" if plus and value > 0 else text


def money(value: float, *, plus: bool = False) -> str:
    """Compact USD amounts: $950, $12.3K, $237M, $2.16B, $1.05T."""
    a = abs(value)
    for div, suffix in ((1e12, "T"), (1e9, "B"), (1e6, "M"), (1e3, "K")):
        if a >= div:
            scaled = a / div
            digits = 2 if scaled < 10 else 1 if scaled < 100 else 0
            return _sign(value, f"${scaled:.{digits}f}{suffix}", plus)
    return _sign(value, f"${a:.0f}", plus)


def price(value: float) -> str:
    """A price with as many decimals as its size needs: $87,123 · $3,012.5 · $0.5213 · $0.00001234."""
    a = abs(value)
    if a >= 10_000:
        text = f"{a:,.0f}"
    elif a >= 100:
        text = f"{a:,.0f}" if a.is_integer() else f"{a:,.1f}"
    elif a >= 1:
        text = f"{a:,.2f}" if a >= 10 else f"{a:,.3f}"
    elif a > 0:
        # four significant figures for sub-dollar prices
        decimals = min(12, 3 - math.floor(math.log10(a)))
        text = f"{a:.{decimals}f}"
    else:
        text = "0"
    return _sign(value, f"${text}", False)


def price_short(value: float) -> str:
    """Levels in prose: $70.0K, $3.45K, $187.2, $0.5213."""
    if abs(value) >= 1000:
        return _sign(value, f"${abs(value) / 1000:.1f}K" if abs(value) < 1e6 else money(abs(value)), False)
    return price(value)


_MAX_DECIMALS = 12


def price_decimals(*levels: float) -> int:
    """How many decimals the given levels need when printed together: the largest to four
    significant figures, and every two distinct levels told apart (a step of at most half their
    gap, so rounding cannot close it). Negative means rounding to tens, hundreds… ($67,420 is ``-1``)."""
    values = sorted({v for v in levels if math.isfinite(v) and v != 0})
    if not values:
        return 0
    decimals = 3 - math.floor(math.log10(max(abs(v) for v in values)))
    for a, b in itertools.pairwise(values):
        decimals = max(decimals, -math.floor(math.log10((b - a) / 2)))
    return min(decimals, _MAX_DECIMALS)


def range_decimals(ranges: Sequence[tuple[float, float]], *levels: float) -> int:
    """The fewest decimals, from four significant figures of the middle price up, at which each
    range's two edges read differently, no two different ranges read the same and no two
    different ``levels`` do. Unlike :func:`price_decimals` over every edge, two zones that nearly
    touch need not be told apart edge by edge (PEPE's zones read $0.00001028–$0.00001037, not
    $0.000010283245–$0.000010370233)."""
    spans = {(lo, hi) for lo, hi in ranges if math.isfinite(lo) and math.isfinite(hi)}
    singles = {v for v in levels if math.isfinite(v)}
    # the precision is the ranges' (a 200-day average above them must not cost them a digit)
    tops = [abs(v) for v in ((e for r in spans for e in r) if spans else singles) if v != 0]
    if not tops:
        return 0
    middle = sorted(tops)[len(tops) // 2]  # a far zone (a 4th resistance at $100K) sets no precision
    decimals = 3 - math.floor(math.log10(middle))

    def told_apart(d: int) -> bool:
        texts = {(price_at(lo, d), price_at(hi, d)) for lo, hi in spans}
        return (
            len(texts) == len(spans)
            and all(price_at(lo, d) != price_at(hi, d) for lo, hi in spans if lo != hi)
            and len({price_at(v, d) for v in singles}) == len(singles)
        )

    while decimals < _MAX_DECIMALS and not told_apart(decimals):
        decimals += 1
    return decimals


def price_at(value: float, decimals: int) -> str:
    """A price rounded to ``decimals`` (from :func:`price_decimals`): $67,420 · $2,083 · $0.00001234."""
    rounded = round(value, decimals)
    text = f"{abs(rounded):,.{max(decimals, 0)}f}"
    if "." in text and not text.split(".")[1].strip("0"):
        text = text.split(".")[0]  # $180, not $180.0: the value is the same, so still distinct
    return _sign(rounded, f"${text}", False)


def price_level(value: float) -> str:
    """One level on its own, to four significant figures: $70,000 · $2,163 · $187.2 · $0.5213."""
    return price_at(value, price_decimals(value))


def price_range(low: float, high: float, *neighbours: float, decimals: int | None = None) -> str:
    """``$2,083–$2,107``: the edges with the precision the range's width (and any neighbouring
    level printed beside it) needs, so the two edges never read the same."""
    d = price_decimals(low, high, *neighbours) if decimals is None else decimals
    return f"{price_at(low, d)}–{price_at(high, d)}"


def pct(value: float, *, digits: int = 1, plus: bool = True) -> str:
    """Percent changes with an explicit sign: +2.3%, −4.4%, 0.0%."""
    rounded = round(value, digits)
    if rounded == 0:
        return f"{0:.{digits}f}%"
    return _sign(rounded, f"{abs(rounded):.{digits}f}%", plus)


def age(delta: timedelta) -> str:
    """How old data is, in the largest sensible unit: 45 s, 3 min, 2 h, 5 d."""
    seconds = max(0, int(delta.total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    if seconds < 48 * 3600:
        return f"{round(seconds / 3600)} h"
    return f"{round(seconds / 86400)} d"


def ago(delta: timedelta) -> str:
    return f"{age(delta)} ago"


def stamp(dt: datetime, code: str = "f") -> str:
    """Discord's timestamp markup (``<t:…:f>`` a date and time, ``R`` relative): each reader sees
    it in their own timezone. Rendered in descriptions and field values, not in footers or titles."""
    return f"<t:{int(dt.timestamp())}:{code}>"


def utc(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M UTC")
