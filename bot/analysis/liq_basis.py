"""How large is a liquidation total? A yardstick that exists from the first minute.

DESIGN.md, "Baselines from the first hour": the coin's own baseline is the best yardstick, but
a new install has none, and people install the bot during a crash. So the size of a window's
liquidations stands on a ladder of bases ("rungs"):

1. ``own_7d`` / ``own_30d`` — the coin's own average for a window that long, once the
   streams have covered at least ``own_min_days`` of it;
2. ``open_interest`` — the total as a share of the coin's open interest, against a band per
   window length (:class:`LiqBands`);
3. ``volume`` — the total as a share of the coin's 24h quote volume, against its own bands;
4. a shorter own baseline (at least a day) when neither open interest nor volume is known.

Whatever the rung, :class:`LiqSize` says how far past its bar the total is (``scale``: 1.0 is
at the bar), so the regime and the alert read every basis alike, and the finding records which
rung it stood on so the text can say so. Pure: no I/O, no prose.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.analysis.findings import LiqBasis, LiquidationFinding
from bot.models import OpenInterest

OWN_BASES: tuple[LiqBasis, ...] = ("own_7d", "own_30d")

_Pct = Field(gt=0, le=100)


class LiqBands(BaseModel):
    """The baseline-free bars, in percent, per window length (minutes → %): a window whose
    liquidations reach the band is a spike (an alert) or, with one side dominating, a cascade
    or squeeze. Between two lengths the band is interpolated on a log scale; beyond the ends it
    is the end's. Liquidations cluster in bursts, so the band grows much more slowly than the
    window: a crash day's forced exits mostly happen within an hour or two.

    Defaults, as a share of open interest: 0.3% in 15 min, 0.4% in 1h, 0.5% in 4h, 0.6% in 24h,
    1.5% in 7d, 4% in 30d; as a share of 24h volume: 1%, 1.5%, 2.5%, 4%, 15%, 40%."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    own_min_days: float = Field(7.0, ge=1, le=30)  # the coin's own baseline takes over from here
    own_multiple: float = Field(3.0, ge=1, le=100)  # …and a spike is this × its average
    open_interest_pct: dict[int, float] = Field(
        default_factory=lambda: {15: 0.3, 60: 0.4, 240: 0.5, 1440: 0.6, 10080: 1.5, 43200: 4.0},
        min_length=1,
    )
    volume_pct: dict[int, float] = Field(
        default_factory=lambda: {15: 1.0, 60: 1.5, 240: 2.5, 1440: 4.0, 10080: 15.0, 43200: 40.0},
        min_length=1,
    )

    def band(self, basis: Literal["open_interest", "volume"], window: timedelta) -> float:
        table = self.open_interest_pct if basis == "open_interest" else self.volume_pct
        return interpolate(table, window.total_seconds() / 60)


def interpolate(table: Mapping[int, float], minutes: float) -> float:
    """The band for ``minutes``: log-linear between the table's lengths, flat beyond them."""
    points = sorted((k, v) for k, v in table.items() if k > 0 and v > 0)
    if not points:
        raise ValueError("a band table needs at least one positive length and value")
    if minutes <= points[0][0]:
        return points[0][1]
    for (m0, v0), (m1, v1) in itertools.pairwise(points):
        if minutes <= m1:
            f = math.log(minutes / m0) / math.log(m1 / m0)
            return math.exp(math.log(v0) + f * (math.log(v1) - math.log(v0)))
    return points[-1][1]


@dataclass(frozen=True)
class LiqSize:
    """A liquidation total on the rung it stood on. ``ratio`` is the total against the basis:
    a multiple of the own average, or a percentage of open interest / volume; ``bar`` is the
    ratio a spike needs; ``scale`` = ``ratio / bar``."""

    basis: LiqBasis
    ratio: float
    bar: float
    scale: float
    reference_usd: float  # the own average per window, the open interest, or the 24h volume
    own_days: float | None = None  # history the own baseline used (own bases only)

    @property
    def spike(self) -> bool:
        return self.scale >= 1.0


def size(
    total_usd: float,
    window: timedelta,
    *,
    own_basis: LiqBasis,
    baseline_usd: float | None,
    baseline_days: float | None,
    oi_usd: float | None,
    volume_usd: float | None,
    bands: LiqBands,
    own_multiple: float | None = None,
) -> LiqSize | None:
    """Pick the rung for one window's total (see the module docstring) and measure it there;
    ``None`` when no yardstick exists at all. ``own_multiple`` overrides the spike bar of the
    own baseline (the alert's ``liq_multiple``)."""
    bar_own = own_multiple if own_multiple is not None else bands.own_multiple
    has_own = baseline_usd is not None and baseline_usd > 0 and baseline_days is not None
    if has_own and baseline_days is not None and baseline_days >= bands.own_min_days - 1 / 24:
        return _own(total_usd, own_basis, baseline_usd or 0.0, baseline_days, bar_own)
    for basis, ref in (("open_interest", oi_usd), ("volume", volume_usd)):
        if ref is not None and ref > 0:
            b: Literal["open_interest", "volume"] = "open_interest" if basis == "open_interest" else "volume"
            pct_of = total_usd / ref * 100
            bar = bands.band(b, window)
            return LiqSize(basis=b, ratio=pct_of, bar=bar, scale=pct_of / bar, reference_usd=ref)
    if has_own and baseline_days is not None:
        return _own(total_usd, own_basis, baseline_usd or 0.0, baseline_days, bar_own)
    return None


def _own(total: float, basis: LiqBasis, baseline: float, days: float, bar: float) -> LiqSize:
    ratio = total / baseline
    return LiqSize(
        basis=basis, ratio=ratio, bar=bar, scale=ratio / bar, reference_usd=baseline, own_days=days
    )


def with_basis(
    f: LiquidationFinding,
    *,
    oi_usd: float | None,
    volume_usd: float | None = None,
    bands: LiqBands | None = None,
) -> LiquidationFinding:
    """``f`` with its size measured on the ladder: the basis, its figures and the scale. The
    30-day own baseline of :func:`~bot.analysis.liquidations.liquidation_window` is the own rung."""
    if not f.ok or f.total_usd is None:
        return f
    cfg = bands or LiqBands()
    window = f.end - f.start
    s = size(
        f.total_usd,
        window,
        own_basis="own_30d",
        baseline_usd=f.baseline_usd,
        baseline_days=f.baseline_days,
        oi_usd=oi_usd,
        volume_usd=volume_usd,
        bands=cfg,
    )
    update: dict[str, object] = {"oi_usd": oi_usd, "volume_usd": volume_usd}
    if s is not None:
        update |= {
            "basis": s.basis,
            "basis_ratio": s.ratio,
            "basis_bar": s.bar,
            "scale": s.scale,
            "own_needed_days": cfg.own_min_days,
        }
        if s.basis == "open_interest":
            update["oi_share_pct"] = s.ratio
        if s.basis == "volume":
            update["volume_share_pct"] = s.ratio
    if oi_usd and "oi_share_pct" not in update:
        update["oi_share_pct"] = f.total_usd / oi_usd * 100
    return f.model_copy(update=update)


def latest_oi_usd(
    points: Iterable[OpenInterest], coin: str, now: datetime, max_age: timedelta
) -> float | None:
    """The coin's open interest now: each venue's newest point no older than ``max_age``,
    summed (one-sided, in USD); ``None`` when no venue has one."""
    latest: dict[str, OpenInterest] = {}
    for p in points:
        if p.coin != coin or p.ts > now or now - p.ts > max_age:
            continue
        if p.venue not in latest or p.ts > latest[p.venue].ts:
            latest[p.venue] = p
    return sum(p.oi_usd for p in latest.values()) if latest else None


def equivalent_multiple(f: LiquidationFinding, own_multiple: float = LiqBands().own_multiple) -> float | None:
    """The finding's size as a multiple of an own baseline, whatever its basis (a total at the
    open-interest band counts as ``own_multiple`` × baseline), so rankers read every rung alike."""
    if f.scale is not None:
        return f.scale * own_multiple
    return f.baseline_multiple
