"""The yardstick a liquidation total was measured on, in words (bot.analysis.liq_basis).

One function words every rung, so /why, /liquidations and the alerts name the basis the same
way, and :data:`BASIS_MARKERS` lets a test check that the text names the finding's basis and
no other.
"""

from __future__ import annotations

from bot.analysis.findings import LiqBasis, LiquidationFinding

# A phrase only the text of that basis contains.
BASIS_MARKERS: dict[LiqBasis, str] = {
    "own_7d": "-day average",
    "own_30d": "-day average",
    "open_interest": "of open interest",
    "volume": "of 24h volume",
}


def window_words(window: str) -> str:
    """``15m`` → ``15 min``; hours and days read as they are (``1h``, ``24h``, ``7d``)."""
    return f"{window[:-1]} min" if window.endswith("m") else window


def share(value: float) -> str:
    """A share in percent, with two decimals under 1% (0.53%) and one above (4.6%)."""
    return f"{value:.2f}%" if value < 1 else f"{value:.1f}%"


def size_text(
    basis: LiqBasis,
    ratio: float,
    window: str,
    *,
    own_days: float | None = None,
    needed_days: float | None = None,
    bar: float | None = None,
    covered_days: float | None = None,
) -> str:
    """``3.2× its 30-day average for 24h`` on the own rung; ``no 7-day baseline yet: 1.0% of
    open interest liquidated in 15 min`` on the others (``bar``: "a spike from 0.30%")."""
    if basis in ("own_7d", "own_30d"):
        days = own_days if own_days is not None else (7.0 if basis == "own_7d" else 30.0)
        return f"{ratio:.1f}× its {days:.0f}-day average for {window}"
    what = "open interest" if basis == "open_interest" else "24h volume"
    if needed_days and covered_days is not None and covered_days >= needed_days:
        need = f"no own baseline for {window} windows yet"  # history shorter than a few windows
    else:
        need = f"no {needed_days:.0f}-day baseline yet" if needed_days else "no baseline yet"
    text = f"{need}: {share(ratio)} of {what} liquidated in {window_words(window)}"
    if bar is not None:
        text += f" (a spike from {share(bar)})"
    return text


def finding_size_text(f: LiquidationFinding) -> str | None:
    """The finding's size on its basis; ``None`` when it has no yardstick."""
    if f.basis is None or f.basis_ratio is None:
        return None
    return size_text(
        f.basis,
        f.basis_ratio,
        f.window,
        own_days=f.baseline_days,
        needed_days=f.own_needed_days,
        bar=f.basis_bar if f.basis in ("open_interest", "volume") else None,
        covered_days=(f.end - f.covered_from).total_seconds() / 86400 if f.covered_from else None,
    )
