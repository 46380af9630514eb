"""A coin against the market when its β to BTC cannot be trusted.

β splits a coin's move into BTC's part and its own only when BTC explains a fair share of its
hourly returns (R²). A new listing, an idiosyncratic coin or a fresh store with too little
history has no usable β — yet the market's own move over the same window (the other tracked
coins' cap-weighted move, their median, BTC) still shows whether the coin moved with it. This
is rung 3 of the baseline ladder (DESIGN.md, "Baselines from the first hour"): the peer group
stands in for the coin's own fit, and the finding says why.
"""

from __future__ import annotations

from bot.analysis.findings import BetaResult, Breadth, MarketBenchmark


def beta_unreliable(beta: BetaResult | None, min_r2: float) -> str | None:
    """Why β cannot split the move ("R² 0.04 over 30 d"), or None when it can."""
    if beta is None:
        return "no β to BTC"
    if not beta.ok:
        return beta.insufficient or "no β to BTC"
    if beta.r2 is None or beta.r2 < min_r2:
        return f"R² {beta.r2 or 0:.2f} over {beta.window_days:g} d"
    return None


def market_benchmark(
    coin: str,
    window: str,
    coin_move_pct: float | None,
    peers: Breadth | None,
    beta: BetaResult | None,
    *,
    min_r2: float = 0.2,
) -> MarketBenchmark:
    """The coin's move against its peers' (the other tracked coins): cap-weighted when caps
    are known, else the median; the residual is the coin's own story. ``basis`` is "beta"
    when β is reliable (the beta split is used instead), "market" otherwise."""
    why = beta_unreliable(beta, min_r2)
    base = {
        "coin": coin,
        "window": window,
        "basis": "beta" if why is None else "market",
        "beta_reason": why or "",
    }
    if coin_move_pct is None:
        return MarketBenchmark.model_validate({**base, "insufficient": f"no {window} move for {coin}"})
    if peers is None or not peers.ok:
        reason = peers.insufficient if peers is not None else "no peer moves"
        return MarketBenchmark.model_validate({**base, "insufficient": reason})
    market = peers.cap_weighted_pct if peers.cap_weighted_pct is not None else peers.median_pct
    if market is None:
        return MarketBenchmark.model_validate({**base, "insufficient": "no market move"})
    return MarketBenchmark.model_validate(
        {
            **base,
            "as_of": peers.as_of,
            "sources": peers.sources,
            "coin_move_pct": coin_move_pct,
            "market_pct": market,
            "market_basis": "cap-weighted" if peers.cap_weighted_pct is not None else "median",
            "median_pct": peers.median_pct,
            "btc_pct": peers.btc_pct,
            "n_peers": peers.n,
            "residual_pct": coin_move_pct - market,
        }
    )
