"""What every finding shares (:mod:`bot.analysis.findings` holds them all): its data time,
sources, and why it has no numbers when it has none (a :class:`Caveat`, worded by
:mod:`bot.render.caveats`)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.models import UtcDatetime

Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]

MARKET = "*"
"""The coin name of a whole-market finding (the store's key for the market-wide rows too);
:mod:`bot.render.caveats` names it."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


CaveatCode = Literal[
    # beta
    "few_returns",  # count aligned hourly returns in days (need ``need``)
    "did_not_move",  # coin did not move in days
    "no_move_window",  # no aligned bars window before the latest to measure the move
    "unscalable_move",  # BTC's move pct cannot be scaled by β
    "weak_r2",  # r2: BTC explains little of coin's moves
    # the market benchmark (why β is unreliable, or why there is no comparison)
    "no_beta",  # no β to BTC
    "low_r2",  # r2 over days
    "no_coin_move",  # no window move for coin
    "no_peers",  # no peer moves
    "no_market_move",  # the peers have no move
    # levels
    "few_bars",  # count daily and hourly bars (need ``need`` daily or need_hourly hourly)
    "no_atr",  # no price range to measure volatility
    "hourly_only",  # count daily bars: levels from hourly bars only
    "daily_only",  # hourly hourly bars: levels from daily bars only
    "no_ma200",  # count daily bars: no 200-day average
    "no_swings",  # no swing highs or lows yet
    "no_swings_near",  # none within pct of the price
    "no_zone_near",  # no zone strong enough within pct of the price
    # liquidations
    "no_liquidations",  # no liquidation data for coin
    "partly_covered",  # covered only for the last span of the window
    "empty_baseline",  # no liquidations in the days-long baseline
    "no_baseline",  # only span of history before the window
    # breadth and market cap
    "few_coins",  # changes for only count coins (need ``need``)
    "partly_capped",  # cap-weighted over count of ``of`` coins
    "no_global",  # no global market figures stored
    "no_cap_then",  # no total market cap stored window back
    # taker flow
    "no_taker_volume",  # no bars with taker volume in the window
    "no_taker_market",  # none on market (spot or perp)
    # open interest
    "no_oi",  # no open-interest data for coin
    "stale_oi",  # the latest open interest is span old
    "venue_no_recent",  # venue left out of the total: no recent value
    "venue_no_start",  # venue left out of the total: no value window ago
    "no_oi_back",  # no venue has open interest window back
    # positioning
    "no_top_traders",  # no top-trader ratios stored for coin
    "no_funding",  # no funding rate for coin in the last window
    "no_long_short",  # no long/short ratio for coin
    # regime
    "no_price_change",  # no price change for the window
    # macro (``series`` names the series when the caveat is the macro finding's note)
    "stale_close",  # the latest close is span old
    "one_close",  # only one close
    "no_session_before",  # no session before the window
    "no_close_before",  # no close before the day's session
    "session_before_window",  # no session in the window; the last one, day, closed before it
    "no_macro_move",  # no macro series with a usable move
]


class Caveat(_Frozen):
    """Why a finding has no numbers, or a caveat that does not void them: which case
    (``code``) with the numbers it stood on. Only the fields its code names are set."""

    code: CaveatCode
    coin: str | None = None  # the coin (or :data:`MARKET`) it is about
    window: str | None = None  # a window label, e.g. "24h"
    count: Count | None = None
    need: Count | None = None
    of: Count | None = None
    hourly: Count | None = None  # levels: hourly bars, beside ``count`` daily ones
    need_hourly: Count | None = None
    days: float | None = None
    span: timedelta | None = None  # an age, a covered span or a history
    pct: float | None = None  # a percentage (a distance, a move)
    r2: float | None = None
    venue: str | None = None
    market: Literal["spot", "perp"] | None = None
    day: date | None = None  # a trading session's day
    series: str | None = None  # the macro series' name it is about


class Finding(_Frozen):
    """Fields every finding shares."""

    as_of: UtcDatetime | None = None
    sources: tuple[str, ...] = ()
    insufficient: Caveat | None = None  # why the finding has no numbers; None when it does
    notes: tuple[Caveat, ...] = ()  # caveats that do not void the numbers

    @property
    def ok(self) -> bool:
        return self.insufficient is None
