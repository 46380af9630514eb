"""Swing points into price zones: a weighted density of the swing prices, one zone per peak."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from bot.analysis.findings import LevelReason
from bot.analysis.levels.bars import F64


@dataclass
class _Zone:
    low: float
    high: float
    score: float
    touches_1d: int
    touches_1h: int
    last_touch: float
    reasons: list[LevelReason] = field(default_factory=list)

    @property
    def mid(self) -> float:
        return (self.low + self.high) / 2.0


def _cluster(
    prices: F64,
    times: F64,
    weights: F64,
    is_daily: npt.NDArray[np.bool_],
    bandwidth: float,
    max_w: float,
    min_w: float,
) -> list[_Zone]:
    """Zones where swing points concentrate, sorted by price and never overlapping.

    A weighted Gaussian density of the swing prices (bandwidth = the ATR-scaled tolerance) has
    one peak per level; its minima between peaks split the price axis into basins. A basin's
    zone is its points within ``max_w / 2`` of the peak, padded to ``min_w`` inside the basin;
    points of a wide basin left over on either side are clustered again within what remains of
    the basin. Unlike chaining neighbours, this does not tile a busy range with arbitrary zones:
    levels sit where the market turned most. Points are sorted once, so every basin and zone is
    a slice and its sums come from prefix sums.
    """
    order = np.argsort(prices, kind="stable")
    sp, sw, st = prices[order], weights[order], times[order]
    cum_w = np.concatenate([[0.0], np.cumsum(sw)])
    cum_d = np.concatenate([[0], np.cumsum(is_daily[order].astype(np.int64))])
    cell = bandwidth / 4.0
    taps = np.arange(-12, 13, dtype=np.float64)  # the kernel reaches 3 bandwidths either side
    eps = 1e-9 * float(sp[-1])
    zones: list[_Zone] = []

    def split(i0: int, i1: int, left: float, right: float, depth: int) -> None:
        p, w = sp[i0:i1], sw[i0:i1]
        lo_g = max(left, float(p[0]) - 3 * bandwidth)
        hi_g = min(right, float(p[-1]) + 3 * bandwidth)
        n_grid = max(3, int((hi_g - lo_g) / cell) + 1)
        if n_grid > 4000:  # a huge range in ATR terms: cap the grid, cells get coarser
            n_grid = 4000
        step = (hi_g - lo_g) / (n_grid - 1)
        binned = np.bincount(np.clip(np.rint((p - lo_g) / step).astype(np.int64), 0, n_grid - 1), w, n_grid)
        kernel = np.exp(-0.5 * (taps * step / bandwidth) ** 2)
        density = np.convolve(binned, kernel)[12 : 12 + n_grid]
        inner = density[1:-1]
        peaks = (np.nonzero((inner > density[:-2]) & (inner >= density[2:]))[0] + 1).tolist()
        if not peaks:  # monotone on this stretch: the peak is at an end
            peaks = [int(np.argmax(density))]
        bounds = [lo_g + step * (a + int(np.argmin(density[a : b + 1]))) for a, b in pairwise(peaks)]
        edges = [left, *bounds, right]
        cuts = [i0, *(i0 + np.searchsorted(p, bounds, side="right")).tolist(), i1]
        for k, peak_i in enumerate(peaks):
            s, e = cuts[k], cuts[k + 1]
            if s >= e:
                continue
            b_lo, b_hi = edges[k] + eps, edges[k + 1]  # a basin holds edges[k] < p <= edges[k + 1]
            peak = lo_g + step * peak_i
            basin = sp[s:e]
            c0 = s + int(np.searchsorted(basin, peak - max_w / 2.0, side="left"))
            c1 = s + int(np.searchsorted(basin, peak + max_w / 2.0, side="right"))
            if c0 >= c1:  # the peak is a shoulder of a wide basin: start from its heaviest point
                c0 = s + int(np.argmax(sw[s:e]))
                c1 = c0 + 1
            lo, hi = float(sp[c0]), float(sp[c1 - 1])
            if hi - lo < min_w:
                mid = (lo + hi) / 2.0
                lo, hi = max(mid - min_w / 2.0, b_lo, mid / 2.0), min(mid + min_w / 2.0, b_hi)
            c0 = s + int(np.searchsorted(basin, lo, side="left"))
            c1 = s + int(np.searchsorted(basin, hi, side="right"))
            if c0 >= c1:  # a point sitting exactly on a clipped edge; nothing to build on
                continue
            n_daily = int(cum_d[c1] - cum_d[c0])
            zones.append(
                _Zone(
                    low=lo,
                    high=hi,
                    score=float(cum_w[c1] - cum_w[c0]),
                    touches_1d=n_daily,
                    touches_1h=(c1 - c0) - n_daily,
                    last_touch=float(st[c0:c1].max()),
                )
            )
            if depth > 0:
                if c0 > s:
                    split(s, c0, edges[k], lo - eps, depth - 1)
                if c1 < e:
                    split(c1, e, hi + eps, edges[k + 1], depth - 1)

    split(0, int(sp.size), -math.inf, math.inf, depth=4)
    zones.sort(key=lambda z: z.low)
    return zones
