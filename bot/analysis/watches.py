"""Personal price watches: when a price crossing is due, once per crossing, with hysteresis.
Pure: the service reads the watches and prices and writes back what changed."""

from __future__ import annotations

from typing import Literal

Direction = Literal["above", "below"]


def condition_met(direction: Direction, level: float, price: float) -> bool:
    return price >= level if direction == "above" else price <= level


def rearmed(direction: Direction, level: float, price: float, hysteresis_pct: float) -> bool:
    """After a crossing was sent, the price is back far enough on the other side to send the next."""
    band = level * hysteresis_pct / 100
    return price < level - band if direction == "above" else price > level + band


def step(
    armed: bool, direction: Direction, level: float, price: float, hysteresis_pct: float
) -> tuple[bool, bool]:
    """``(fire, armed_after)`` for one price check."""
    if armed:
        return (True, False) if condition_met(direction, level, price) else (False, True)
    return False, rearmed(direction, level, price, hysteresis_pct)


def too_far(level: float, price: float, max_distance: float) -> bool:
    """A level this far from the market is a typo, not a plan (10× or 1/10 by default)."""
    return level > price * max_distance or level < price / max_distance
