"""Why a finding has no numbers, and the caveats beside them, in words: the analysis returns
:class:`~bot.analysis.findings.Caveat` records (which case, with its numbers) and this is the
one place that says them — "only 12 aligned hourly returns in 30d (need 540)", "liquidations
only covered for the last 6 h of the 24h window", "okx left out of the total: no value 24h ago".
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from bot.analysis.findings import MARKET, Caveat, CaveatCode
from bot.fmt import age, ago


def coin_name(coin: str | None) -> str:
    """A finding's coin as a caveat names it: the whole market's is "all coins"."""
    return "all coins" if coin == MARKET else coin or ""


def _span(c: Caveat) -> timedelta:
    return c.span or timedelta(0)


def _days(c: Caveat) -> float:
    return c.days or 0.0


# Each code's words from its numbers; the finding set the fields its code names.
_WORDS: dict[CaveatCode, Callable[[Caveat], str]] = {
    # beta
    "few_returns": lambda c: f"only {c.count} aligned hourly returns in {_days(c):g}d (need {c.need})",
    "did_not_move": lambda c: f"{coin_name(c.coin)} did not move in {_days(c):g}d",
    "no_move_window": lambda c: f"no aligned bars {c.window} before the latest to measure the move",
    "unscalable_move": lambda c: f"BTC move {c.pct}% cannot be scaled by beta",
    "weak_r2": lambda c: (
        f"R² {c.r2 or 0:.2f}: BTC explains little of {coin_name(c.coin)}'s moves; β is a weak guide"
    ),
    # the market benchmark
    "no_beta": lambda c: "no β to BTC",
    "low_r2": lambda c: f"R² {c.r2 or 0:.2f} over {_days(c):g} d",
    "no_coin_move": lambda c: f"no {c.window} move for {coin_name(c.coin)}",
    "no_peers": lambda c: "no peer moves",
    "no_market_move": lambda c: "no market move",
    # levels
    "few_bars": lambda c: (
        f"only {c.count} daily and {c.hourly} hourly bars (need {c.need} daily or {c.need_hourly} hourly)"
    ),
    "no_atr": lambda c: "no price range to measure volatility (ATR)",
    "hourly_only": lambda c: f"levels from hourly bars only ({c.count} daily bars)",
    "daily_only": lambda c: f"levels from daily bars only ({c.hourly} hourly bars)",
    "no_ma200": lambda c: f"no 200-day average ({c.count} daily bars)",
    "no_swings": lambda c: "no swing highs or lows yet",
    "no_swings_near": lambda c: f"no swing highs or lows within {c.pct or 0:g}% of the price",
    "no_zone_near": lambda c: f"no zone strong enough within {c.pct or 0:g}% of the price",
    # liquidations
    "no_liquidations": lambda c: f"no liquidation data for {coin_name(c.coin)}",
    "partly_covered": lambda c: (
        f"liquidations only covered for the last {age(_span(c))} of the {c.window} window"
    ),
    "empty_baseline": lambda c: f"no liquidations in the {_days(c):.1f}d baseline",
    "no_baseline": lambda c: (
        f"no baseline: {_span(c).total_seconds() / 3600:.0f}h of history before the window"
    ),
    # breadth and market cap
    "few_coins": lambda c: f"changes for only {c.count} coins (need {c.need})",
    "partly_capped": lambda c: f"cap-weighted move over the {c.count} of {c.of} coins with a market cap",
    "no_global": lambda c: "no global market figures stored yet",
    "no_cap_then": lambda c: f"no total market cap stored {c.window} back",
    # taker flow
    "no_taker_volume": lambda c: "no bars with taker volume in the window",
    "no_taker_market": lambda c: f"no {c.market} bars with taker volume",
    # open interest
    "no_oi": lambda c: f"no open-interest data for {coin_name(c.coin)}",
    "stale_oi": lambda c: f"latest open interest is from {ago(_span(c))}",
    "venue_no_recent": lambda c: f"{c.venue} left out of the total: no recent value",
    "venue_no_start": lambda c: f"{c.venue} left out of the total: no value {c.window} ago",
    "no_oi_back": lambda c: f"no venue has open interest {c.window} back",
    # positioning
    "no_top_traders": lambda c: f"no top-trader ratios stored for {coin_name(c.coin)}",
    "no_funding": lambda c: f"no funding rate for {coin_name(c.coin)} in the last {c.window}",
    "no_long_short": lambda c: f"no long/short ratio for {coin_name(c.coin)}",
    # regime
    "no_price_change": lambda c: "no price change for the window",
    # macro
    "stale_close": lambda c: f"latest close is from {ago(_span(c))}",
    "one_close": lambda c: "only one close",
    "no_session_before": lambda c: "no session before the window",
    "no_close_before": lambda c: f"no close before the {c.day:%a %d %b} session",
    "session_before_window": lambda c: (
        f"no session in the window; the last one, {c.day:%a %d %b}, closed before it"
    ),
    "no_macro_move": lambda c: "no macro series with a usable move",
}


def caveat_text(c: Caveat) -> str:
    """One caveat in words; a macro series' caveat is prefixed with the series' name."""
    text = _WORDS[c.code](c)
    return f"{c.series}: {text}" if c.series else text


def gap_text(c: Caveat | None, otherwise: str) -> str:
    """Why a finding has no numbers, or ``otherwise`` when it does not say."""
    return caveat_text(c) if c is not None else otherwise


def notes_text(notes: tuple[Caveat, ...]) -> tuple[str, ...]:
    """A finding's notes in words, in the order the analysis gave them."""
    return tuple(caveat_text(n) for n in notes)
