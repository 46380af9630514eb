"""Derivatives at a glance: where today's funding sits in its own month, and the perp's premium
over spot. Pure functions over values the service read."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

MIN_HISTORY = 24  # hours of funding before a percentile means anything


def percentile_rank(
    value: float, history: Sequence[float], *, min_history: int = MIN_HISTORY
) -> float | None:
    """Where ``value`` sits in ``history``, 0–100 (ties count half); ``None`` on too little history."""
    if len(history) < min_history:
        return None
    below = sum(1 for h in history if h < value)
    equal = sum(1 for h in history if h == value)
    return (below + equal / 2) / len(history) * 100


def basis_pct(perp: float, spot: float) -> float:
    """The perp's premium over spot, in % (negative: a discount)."""
    return (perp / spot - 1) * 100


def extremity(percentiles: Sequence[float | None], rates: Mapping[str, float]) -> float:
    """How unusual a coin's funding is, for sorting: its venues' mean percentile's distance
    from the median (0–50), else a large rate's size scaled into the same range."""
    known = [p for p in percentiles if p is not None]
    if known:
        return abs(sum(known) / len(known) - 50)
    if rates:
        mean = sum(rates.values()) / len(rates)
        return min(50.0, abs(mean) / 0.0001 * 10)  # 0.01%/8h (the base rate) ≈ 10
    return 0.0
