"""Breadth: was it the whole market or one coin, and did BTC lead?

From per-coin changes over one window: how many fell, the median and cap-weighted moves, the
dispersion, the majors side by side, and who led. "BTC-led" means BTC moved and the alts moved
about as much as their betas to BTC imply (they followed); "alts" means the alts moved beyond
what BTC explains; anything else is "mixed". Timing (who moved *first*) needs paths, not
window changes, and is left to the caller (e.g. comparing hourly paths).
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.analysis.findings import Breadth, BreadthLead, Caveat, CoinMove, LedBy, MarketCapMove
from bot.models import GlobalStats, Ticker

MAJORS: tuple[str, ...] = ("BTC", "ETH", "SOL", "BNB", "XRP")


@dataclass(frozen=True)
class BreadthConfig:
    flat_pct: float = 0.1  # |change| below this counts as flat, neither up nor down
    led_flat_pct: float = 0.5  # BTC must move at least this much to lead anything
    default_beta: float = 1.0  # an alt's beta to BTC when none is given
    follow_abs_pct: float = 1.0  # alts "followed" when within this many points of expected…
    follow_rel: float = 0.5  # …or within this fraction of the expected move, whichever is larger
    min_coins: int = 3


def _lead(btc: float, alts_median: float, expected: float, cfg: BreadthConfig) -> tuple[LedBy, BreadthLead]:
    excess = alts_median - expected
    tolerance = max(cfg.follow_abs_pct, cfg.follow_rel * abs(expected))
    if abs(btc) < cfg.led_flat_pct:
        if abs(alts_median) >= cfg.follow_abs_pct:
            return "alts", "alts_while_btc_flat"
        return "mixed", "quiet"
    if abs(alts_median) < cfg.led_flat_pct:  # BTC (the majors) moved, the alts did not follow
        return "BTC", "btc_alone"
    same_direction = (alts_median > 0) == (btc > 0)
    if abs(excess) <= tolerance or (same_direction and abs(alts_median) < abs(expected)):
        return "BTC", "alts_followed"
    if abs(alts_median) > abs(expected) and (same_direction or abs(btc) < abs(alts_median)):
        return "alts", "alts_beyond"
    return "mixed", "diverged"


def breadth(
    changes: Mapping[str, float],
    *,
    window: str,
    as_of: datetime | None,
    market_caps: Mapping[str, float] | None = None,
    betas: Mapping[str, float] | None = None,
    sources: Sequence[str] = (),
    majors: Sequence[str] = MAJORS,
    config: BreadthConfig = BreadthConfig(),
) -> Breadth:
    """Breadth of the tracked coins' moves over ``window`` (percent changes keyed by symbol).
    ``majors``: the coins shown side by side, in this order (a server's shortlist).

    ``market_caps`` weights the cap-weighted move (coins without a cap are left out of it and
    ``n_capped`` says how many were in); ``betas`` are the alts' betas to BTC used to judge
    whether they followed it (``default_beta`` otherwise).
    """
    cfg = config
    moves = {coin: float(v) for coin, v in changes.items() if math.isfinite(v)}
    base: dict[str, object] = {"window": window, "as_of": as_of, "sources": tuple(sources), "n": len(moves)}
    if len(moves) < cfg.min_coins:
        return Breadth.model_validate(
            {**base, "insufficient": Caveat(code="few_coins", count=len(moves), need=cfg.min_coins)}
        )
    values = list(moves.values())
    n_down = sum(v <= -cfg.flat_pct for v in values)
    n_up = sum(v >= cfg.flat_pct for v in values)
    notes: list[Caveat] = []

    cap_weighted: float | None = None
    cap_down: float | None = None
    cap_up: float | None = None
    capped = {c: market_caps[c] for c in moves if market_caps and market_caps.get(c, 0) > 0}
    if capped:
        total = sum(capped.values())
        cap_weighted = sum(moves[c] * cap for c, cap in capped.items()) / total
        cap_down = sum(cap for c, cap in capped.items() if moves[c] <= -cfg.flat_pct) / total
        cap_up = sum(cap for c, cap in capped.items() if moves[c] >= cfg.flat_pct) / total
        if len(capped) < len(moves):
            notes.append(Caveat(code="partly_capped", count=len(capped), of=len(moves)))

    btc = moves.get("BTC")
    alts = {c: v for c, v in moves.items() if c != "BTC"}
    alts_median = statistics.median(alts.values()) if alts else None
    expected: float | None = None
    led_by: LedBy | None = None
    lead: BreadthLead | None = None
    if btc is None:
        lead = "no_btc"
    elif alts_median is None:
        lead = "no_alts"
    else:
        beta_of = betas or {}
        expected = statistics.median(beta_of.get(c, cfg.default_beta) * btc for c in alts)
        led_by, lead = _lead(btc, alts_median, expected, cfg)

    return Breadth.model_validate(
        {
            **base,
            "notes": tuple(notes),
            "n_down": n_down,
            "n_up": n_up,
            "n_flat": len(values) - n_down - n_up,
            "share_down": n_down / len(values),
            "median_pct": statistics.median(values),
            "cap_weighted_pct": cap_weighted,
            "n_capped": len(capped),
            "cap_share_down": cap_down,
            "cap_share_up": cap_up,
            "dispersion_pct": statistics.pstdev(values),
            "majors": tuple(CoinMove(coin=c, change_pct=moves[c]) for c in majors if c in moves),
            "btc_pct": btc,
            "alts_median_pct": alts_median,
            "alts_expected_pct": expected,
            "led_by": led_by,
            "lead": lead,
        }
    )


def breadth_from_tickers(
    tickers: Sequence[Ticker],
    *,
    betas: Mapping[str, float] | None = None,
    market_caps: Mapping[str, float] | None = None,
    config: BreadthConfig = BreadthConfig(),
) -> Breadth:
    """24h breadth from one ticker per coin (the first per coin wins, so pass them in order of
    preference). Market caps come from ``market_caps`` or else the tickers' own field."""
    chosen: dict[str, Ticker] = {}
    for t in tickers:
        if t.change_24h_pct is not None:
            chosen.setdefault(t.coin, t)
    caps: dict[str, float] = dict(market_caps) if market_caps else {}
    if not market_caps:
        caps = {c: t.market_cap for c, t in chosen.items() if t.market_cap is not None and t.market_cap > 0}
    return breadth(
        {c: t.change_24h_pct for c, t in chosen.items() if t.change_24h_pct is not None},
        window="24h",
        as_of=max((t.ts for t in chosen.values()), default=None),
        market_caps=caps,
        betas=betas,
        sources=sorted({t.venue for t in chosen.values()}),
        config=config,
    )


def market_cap_move(
    window: str,
    latest: GlobalStats | None,
    then: GlobalStats | None = None,
    *,
    max_gap: timedelta = timedelta(hours=1),
) -> MarketCapMove:
    """Total market cap change over ``window``: the source's own 24h change for "24h", else
    the latest snapshot against ``then`` (the stored one at or before the window start, which
    must lie within ``max_gap`` of it: a fresh store has none, and says so)."""
    if latest is None:
        return MarketCapMove(window=window, insufficient=Caveat(code="no_global"))
    base = {
        "window": window,
        "as_of": latest.ts,
        "sources": (latest.source,),
        "total_usd": latest.total_market_cap_usd,
    }
    if window == "24h" and latest.market_cap_change_24h_pct is not None:
        return MarketCapMove.model_validate({**base, "change_pct": latest.market_cap_change_24h_pct})
    span = WINDOW_SPANS.get(window)
    if then is None or span is None or abs(latest.ts - span - then.ts) > max_gap:
        return MarketCapMove.model_validate(
            {**base, "insufficient": Caveat(code="no_cap_then", window=window)}
        )
    change = (latest.total_market_cap_usd / then.total_market_cap_usd - 1) * 100
    return MarketCapMove.model_validate({**base, "change_pct": change, "start": then.ts})


WINDOW_SPANS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
