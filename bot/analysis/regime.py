"""The leverage regime of one window (DESIGN.md, "Reading the tape"): what price, open interest,
liquidations and taker flow say together.

Forced exits lead: when one side's liquidations dominate and are large — against the coin's
own baseline, or, on a fresh install, against its open interest (:mod:`bot.analysis.liq_basis`)
— the label is a *long liquidation cascade* or a *short squeeze*, and what open interest did
becomes a second clause (``oi_clause``: a squeeze "with new longs piling in"). Otherwise the
label is read from open interest against price, then from spot against perpetual flow.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bot.analysis.findings import (
    Caveat,
    FlowFinding,
    LiqBasis,
    LiquidationFinding,
    OIClause,
    OIFinding,
    RegimeFinding,
    RegimeLabel,
    RegimeReason,
)


@dataclass(frozen=True)
class RegimeConfig:
    price_move_pct: float = 1.0  # smaller moves have no leverage story to tell
    oi_move_pct: float = 1.0  # smaller OI changes count as flat
    dominance: float = 0.75  # a liquidation side with this share of the total dominates
    cascade_multiple: float = 3.0  # long liquidations at this multiple of baseline: a cascade
    squeeze_multiple: float = 3.0  # the same bar as a cascade, so up and down moves read alike
    spot_lead_ratio: float = 1.0  # spot net flow at least this × perp net flow the same way


def _large(liq_scale: float | None, liq_multiple: float | None, needed: float) -> tuple[bool, float | None]:
    """Whether the liquidations are large, and their size in units of the bar: the scale on
    the finding's basis when known, else the own-baseline multiple against ``needed``."""
    if liq_scale is not None:
        return liq_scale >= 1.0, liq_scale
    if liq_multiple is not None:
        return liq_multiple >= needed, liq_multiple / needed
    return False, None


def classify_regime(
    price_change_pct: float | None,
    oi_change_pct: float | None,
    long_liq_usd: float | None,
    short_liq_usd: float | None,
    liq_multiple: float | None,
    *,
    liq_basis: LiqBasis | None = None,
    liq_scale: float | None = None,
    spot_net_usd: float | None = None,
    perp_net_usd: float | None = None,
    broke_level: bool | None = None,
    coin: str = "",
    window: str = "24h",
    as_of: datetime | None = None,
    sources: Sequence[str] = (),
    config: RegimeConfig = RegimeConfig(),
) -> RegimeFinding:
    """The leverage story of one window, after DESIGN.md's "open interest against price":

    ============  ===========  ==========================================================
    price         open int.    label
    ============  ===========  ==========================================================
    down          any          *long liquidation cascade* when long liquidations dominate
                               and are large (``liq_scale`` ≥ 1 on their basis, or
                               ``cascade_multiple`` × baseline); open interest rising
                               adds the clause "new shorts"
    up            any          *short squeeze*, the mirror; rising OI adds "new longs"
    down          down         deleveraging
    down          up           new shorts
    up            up           new longs
    up            down         short covering
    either        flat         spot-led selling/buying when spot taker flow led the move
    ============  ===========  ==========================================================

    Unknown inputs (``None``) are never read as zero; they only narrow what can be said.
    """
    cfg = config
    common: dict[str, object] = {
        "coin": coin,
        "window": window,
        "as_of": as_of,
        "sources": tuple(sources),
        "price_change_pct": price_change_pct,
        "oi_change_pct": oi_change_pct,
        "long_liq_usd": long_liq_usd,
        "short_liq_usd": short_liq_usd,
        "liq_multiple": liq_multiple,
        "spot_net_usd": spot_net_usd,
        "perp_net_usd": perp_net_usd,
        "liq_basis": liq_basis,
        "liq_scale": liq_scale,
    }

    def done(
        label: RegimeLabel,
        *reasons: RegimeReason,
        insufficient: Caveat | None = None,
        clause: OIClause | None = None,
        share: float | None = None,
        size: float | None = None,
    ) -> RegimeFinding:
        return RegimeFinding.model_validate(
            {
                **common,
                "label": label,
                "reasons": reasons,
                "insufficient": insufficient,
                "oi_clause": clause,
                "liq_side_share": share,
                "liq_size": size,
            }
        )

    if price_change_pct is None or not math.isfinite(price_change_pct):
        return done("no leverage signal", insufficient=Caveat(code="no_price_change"))
    p = price_change_pct
    if abs(p) < cfg.price_move_pct:
        return done("no leverage signal", "small_move")
    down = p < 0
    oi_dir = None
    if oi_change_pct is not None:
        oi_dir = 1 if oi_change_pct >= cfg.oi_move_pct else -1 if oi_change_pct <= -cfg.oi_move_pct else 0

    total = (long_liq_usd or 0.0) + (short_liq_usd or 0.0)
    have_liq = long_liq_usd is not None and short_liq_usd is not None and total > 0
    share = (long_liq_usd or 0.0) / total if have_liq else None
    side_share = None if share is None else (share if down else 1.0 - share)
    large, scale = _large(liq_scale, liq_multiple, cfg.cascade_multiple if down else cfg.squeeze_multiple)
    if side_share is not None and side_share >= cfg.dominance and large:
        reasons: list[RegimeReason] = ["price", "forced_exits", "open_interest"]
        if broke_level:
            reasons.append("broke_level")
        clause: OIClause | None = None
        if oi_dir == 1:
            clause = "new shorts" if down else "new longs"
        label: RegimeLabel = "long liquidation cascade" if down else "short squeeze"
        return done(label, *reasons, clause=clause, share=side_share, size=scale)
    if oi_dir == -1:
        return done("deleveraging" if down else "short covering", "price", "open_interest")
    if oi_dir == 1:
        return done("new shorts" if down else "new longs", "price", "open_interest")
    if spot_net_usd is not None and perp_net_usd is not None:
        sign = -1.0 if down else 1.0
        spot_with = sign * spot_net_usd  # positive when spot flow went the price's way
        perp_with = max(0.0, sign * perp_net_usd)
        if spot_with > 0 and spot_with >= cfg.spot_lead_ratio * perp_with:
            return done(
                "spot-led selling" if down else "spot-led buying", "price", "spot_flow", "open_interest"
            )
    return done("no leverage signal", "price", "oi_flat" if oi_dir == 0 else "no_oi_data")


def regime_from_findings(
    price_change_pct: float | None,
    *,
    oi: OIFinding | None = None,
    liquidations: LiquidationFinding | None = None,
    flow: FlowFinding | None = None,
    broke_level: bool | None = None,
    coin: str = "",
    window: str = "24h",
    config: RegimeConfig = RegimeConfig(),
) -> RegimeFinding:
    """:func:`classify_regime` fed from the findings of the same window; the regime's ``as_of``
    is the oldest of theirs (the answer is only as fresh as its stalest input). The
    liquidations' size is read on the basis their finding recorded."""
    parts = [f for f in (oi, liquidations, flow) if f is not None and f.ok]
    times = [f.as_of for f in parts if f.as_of is not None]
    liq = liquidations if liquidations is not None and liquidations.ok else None
    return classify_regime(
        price_change_pct,
        oi.change_pct if oi is not None and oi.ok else None,
        liq.long_usd if liq else None,
        liq.short_usd if liq else None,
        liq.baseline_multiple if liq else None,
        liq_basis=liq.basis if liq else None,
        liq_scale=liq.scale if liq else None,
        spot_net_usd=flow.spot_net_usd if flow is not None and flow.ok else None,
        perp_net_usd=flow.perp_net_usd if flow is not None and flow.ok else None,
        broke_level=broke_level,
        coin=coin,
        window=window,
        as_of=min(times) if times else None,
        sources=sorted({s for f in parts for s in f.sources}),
        config=config,
    )
