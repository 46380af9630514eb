"""Colours and symbols in one place (Discord embed colours are ints)."""

from __future__ import annotations

UP = 0x2ECC71
DOWN = 0xE74C3C
FLAT = 0x95A5A6
WARN = 0xF1C40F
ERROR = 0xE67E22
INFO = 0x3498DB

ARROW_UP = "▲"
ARROW_DOWN = "▼"
STALE = "⚠"


def direction_colour(change_pct: float | None, *, flat_band: float = 0.05) -> int:
    if change_pct is None or abs(change_pct) < flat_band:
        return FLAT
    return UP if change_pct > 0 else DOWN


def arrow(change_pct: float | None) -> str:
    if change_pct is None or change_pct == 0:
        return "•"
    return ARROW_UP if change_pct > 0 else ARROW_DOWN
