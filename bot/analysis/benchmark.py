"""A coin against the market when its β to BTC cannot be trusted.

β splits a coin's move into BTC's part and its own only when BTC explains a fair share of its
hourly returns (R²). A new listing, an idiosyncratic coin or a fresh store with too little
history has no usable β — yet the market's own move over the same window (the other tracked
coins' cap-weighted move, their median, BTC) still shows whether the coin moved with it. This
is rung 3 of the baseline ladder (DESIGN.md, "Baselines from the first hour"): the peer group
stands in for the coin's own fit, and the finding says why.
"""

from __future__ import annotations

from bot.analysis.findings import BetaResult, Breadth, Caveat, MarketBenchmark


def beta_unreliable(beta: BetaResult | None, min_r2: float) -> Caveat | None:
    """Why β cannot split the move (no β, why it has no numbers, or its R² over its window),
    or None when it can."""
    if beta is None:
        return Caveat(code="no_beta")
    if beta.insufficient is not None:
        return beta.insufficient
    if beta.r2 is None or beta.r2 < min_r2:
        return Caveat(code="low_r2", r2=beta.r2 or 0, days=beta.window_days)
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
        "beta_reason": why,
    }
    if coin_move_pct is None:
        return MarketBenchmark.model_validate(
            {**base, "insufficient": Caveat(code="no_coin_move", window=window, coin=coin)}
        )
    if peers is None or peers.insufficient is not None:
        reason = peers.insufficient if peers is not None else Caveat(code="no_peers")
        return MarketBenchmark.model_validate({**base, "insufficient": reason})
    market = peers.cap_weighted_pct if peers.cap_weighted_pct is not None else peers.median_pct
    if market is None:
        return MarketBenchmark.model_validate({**base, "insufficient": Caveat(code="no_market_move")})
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
