"""The leverage regime's reasons in words: :func:`bot.analysis.regime.classify_regime` returns
which facts a label stood on (:data:`~bot.analysis.findings.RegimeReason`) with their numbers,
and this says them — "price −6.0%", "long liquidations $9.00M (90% of the total), 4.0× baseline"."""

from __future__ import annotations

from bot.analysis.findings import LiqBasis, RegimeFinding, RegimeReason
from bot.fmt import money, pct


def liq_size_text(basis: LiqBasis | None, multiple: float | None, scale: float | None) -> str:
    """The forced exits' size on the bar they were judged on: a band of open interest or volume,
    the coin's own baseline, or the spike bar."""
    if basis in ("open_interest", "volume") and scale is not None:
        return f"{scale:.1f}× the {'open-interest' if basis == 'open_interest' else 'volume'} band"
    return f"{multiple:.1f}× baseline" if multiple is not None else f"{scale or 0:.1f}× the spike bar"


def _forced_exits(r: RegimeFinding, down: bool) -> str:
    side_usd = r.long_liq_usd if down else r.short_liq_usd
    return (
        f"{'long' if down else 'short'} liquidations {money(side_usd or 0.0)} "
        f"({r.liq_side_share or 0.0:.0%} of the total), "
        + liq_size_text(r.liq_basis, r.liq_multiple, r.liq_size)
    )


def regime_reason(r: RegimeFinding, reason: RegimeReason) -> str:
    down = r.price_change_pct is not None and r.price_change_pct < 0
    if reason == "small_move":
        return f"price moved only {pct(r.price_change_pct or 0.0)} in {r.window}"
    if reason == "price":
        return f"price {pct(r.price_change_pct or 0.0)}"
    if reason == "forced_exits":
        return _forced_exits(r, down)
    if reason == "open_interest":
        return (
            f"open interest {pct(r.oi_change_pct)}"
            if r.oi_change_pct is not None
            else "open interest unknown"
        )
    if reason == "broke_level":
        return "fell through support" if down else "broke through resistance"
    if reason == "spot_flow":
        verb = "selling" if down else "buying"
        return f"spot net taker {verb} {money(abs(r.spot_net_usd or 0.0))} vs perps {money(r.perp_net_usd or 0.0)}"
    return "open interest flat" if reason == "oi_flat" else "no open-interest data"


def regime_reasons(r: RegimeFinding) -> tuple[str, ...]:
    """Every reason of the label, in the order the analysis gave them."""
    return tuple(regime_reason(r, reason) for reason in r.reasons)
