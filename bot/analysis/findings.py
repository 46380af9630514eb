"""Typed findings: what every analysis returns, and all a sentence or a ranker needs.

Each finding carries its numbers, the window they cover (``"24h"``), the sources (venue names)
and the data time (``as_of``: the newest data point it rests on, not the time it was computed).
When data is missing or too short, ``insufficient`` says why (a :class:`Caveat`: which case,
with its numbers) and the numbers are ``None``: analysis never fills a gap with a guess. Softer
caveats (a venue missing, a partly covered window) go to ``notes``; :mod:`bot.render.caveats`
words both. Every finding has a ``kind`` so a list of them can be serialised and
dispatched on (see :data:`AnyFinding`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import Field

from bot.analysis.derivative_findings import (
    FlowFinding,
    FlowLead,
    FundingFinding,
    FundingState,
    LiqBasis,
    LiqSide,
    LiquidationFinding,
    LongShortFinding,
    OIClause,
    OIFinding,
    RegimeFinding,
    RegimeLabel,
    RegimeReason,
    TopTradersFinding,
    VenueFunding,
    VenueLiquidations,
    VenueLongShort,
    VenueOI,
)
from bot.analysis.finding_base import MARKET, Caveat, CaveatCode, Count, Finding, Unit, _Frozen
from bot.models import Finite, NonNegative, Positive, UtcDatetime

__all__ = [
    "MARKET",
    "AnyFinding",
    "BetaResult",
    "Breadth",
    "BreadthLead",
    "BrokenLevel",
    "Caveat",
    "CaveatCode",
    "CoinMove",
    "Count",
    "Finding",
    "FlowFinding",
    "FlowLead",
    "FundingFinding",
    "FundingState",
    "LedBy",
    "LevelReason",
    "LevelZone",
    "LevelsResult",
    "LiqBasis",
    "LiqSide",
    "LiquidationFinding",
    "LongShortFinding",
    "MacroCase",
    "MacroFinding",
    "MacroVerdict",
    "MarketBenchmark",
    "MarketCapMove",
    "OIClause",
    "OIFinding",
    "RegimeFinding",
    "RegimeLabel",
    "RegimeReason",
    "Role",
    "SeriesMove",
    "TopTradersFinding",
    "Unit",
    "VenueFunding",
    "VenueLiquidations",
    "VenueLongShort",
    "VenueOI",
    "ZoneKind",
    "window_label",
]


# ---------------------------------------------------------------------------------------------
# Levels


ZoneKind = Literal["support", "resistance", "at_price"]
Role = Literal["support", "resistance"]


class LevelReason(_Frozen):
    """One thing a zone stands on, with its number; :mod:`bot.render.levels` words it
    ("3 touches on 1d", "200-day average $61.2K", "lost support 5 h ago, now resistance")."""

    kind: Literal["touches", "average", "round_number", "volume", "broke"]
    count: Count | None = None  # touches: swing points on one timeframe
    timeframe: Literal["1d", "1h"] | None = None  # touches: which bars
    days: Count | None = None  # average: its length (50 or 200 days)
    level: Positive | None = None  # average, round number: the price it sits at
    was: Role | None = None  # broke: the role the zone had before the price went through it
    ago: timedelta | None = None  # broke: how long before the answer's time it broke


class LevelZone(_Frozen):
    """A price range where the market turned before.

    ``kind`` is decided by the zone's position against the current price: a support lies
    entirely below it, a resistance entirely above it, and a zone that contains the price is
    ``"at_price"`` (the price is testing it; it is neither until it resolves).
    ``distance_pct`` is signed, from the price to the zone's near edge: negative for supports,
    positive for resistances, 0 at the price.
    """

    kind: ZoneKind
    low: Positive
    high: Positive
    mid: Positive
    strength: Unit
    touches: Count  # swing points in the zone, all timeframes
    last_touch: UtcDatetime | None = None
    reasons: tuple[LevelReason, ...] = ()  # touches, averages, round numbers, volume, a break
    distance_pct: Finite


class BrokenLevel(_Frozen):
    """A level the price just crossed on a close: a lost support now acts as resistance, a
    reclaimed resistance as support. ``zone.kind`` is the new role; ``was`` the old one."""

    zone: LevelZone
    was: Role
    broke_at: UtcDatetime  # open time of the first bar that closed through the zone


class LevelsResult(Finding):
    kind: Literal["levels"] = "levels"
    coin: str
    price: Positive
    supports: tuple[LevelZone, ...] = ()  # nearest first
    resistances: tuple[LevelZone, ...] = ()  # nearest first
    at_price: LevelZone | None = None
    broken: tuple[BrokenLevel, ...] = ()
    nearest_support: LevelZone | None = None
    nearest_resistance: LevelZone | None = None
    next_below: LevelZone | None = None  # the support after the nearest one
    next_above: LevelZone | None = None  # the resistance after the nearest one
    ma50: Positive | None = None
    ma200: Positive | None = None
    atr_1d: Positive | None = None  # the volatility unit zones were clustered with


# ---------------------------------------------------------------------------------------------
# Beta and residual


class BetaResult(Finding):
    """OLS of the coin's hourly log returns on BTC's: the move BTC explains, and the rest.

    ``expected_move_pct`` is β applied to BTC's log move over ``move_window``; ``residual_pct``
    is the coin's move minus it (its own story). R² says how far to trust β.
    """

    kind: Literal["beta"] = "beta"
    coin: str
    benchmark: str = "BTC"
    beta: Finite | None = None
    beta_se: NonNegative | None = None
    r2: Unit | None = None
    n_obs: Count = 0
    window_days: Positive  # regression window
    move_window: str  # e.g. "24h"
    move_start: UtcDatetime | None = None
    move_end: UtcDatetime | None = None
    coin_move_pct: Finite | None = None
    btc_move_pct: Finite | None = None
    expected_move_pct: Finite | None = None
    residual_pct: Finite | None = None


# ---------------------------------------------------------------------------------------------
# Breadth


class CoinMove(_Frozen):
    coin: str
    change_pct: Finite


LedBy = Literal["BTC", "alts", "mixed"]
BreadthLead = Literal[
    "alts_while_btc_flat",  # the alts moved, BTC did not
    "quiet",  # neither moved: no clear leader
    "btc_alone",  # BTC moved, the alts barely did
    "alts_followed",  # the alts moved as their betas to BTC expect
    "alts_beyond",  # the alts moved past what BTC's move explains
    "diverged",  # BTC and the alts went different ways
    "no_btc",  # no BTC change to compare the alts with
    "no_alts",  # no alts to compare BTC with
]
"""Why the breadth has the leader it has; :mod:`bot.render.drivers` words it from the
finding's ``btc_pct``, ``alts_median_pct`` and ``alts_expected_pct``."""


class Breadth(Finding):
    kind: Literal["breadth"] = "breadth"
    window: str
    n: Count = 0
    n_down: Count = 0
    n_up: Count = 0
    n_flat: Count = 0
    share_down: Unit | None = None
    median_pct: Finite | None = None
    cap_weighted_pct: Finite | None = None
    n_capped: Count = 0  # coins with a market cap, the base of cap_weighted_pct
    cap_share_down: Unit | None = None  # share of that market cap in coins that fell
    cap_share_up: Unit | None = None
    dispersion_pct: NonNegative | None = None  # cross-sectional standard deviation, in points
    majors: tuple[CoinMove, ...] = ()  # BTC, ETH, SOL, BNB, XRP, as available
    btc_pct: Finite | None = None
    alts_median_pct: Finite | None = None
    alts_expected_pct: Finite | None = None  # median of β × BTC move over the alts
    led_by: LedBy | None = None
    lead: BreadthLead | None = None


class MarketBenchmark(Finding):
    """A coin's move against the other tracked coins' over the same window: the yardstick when
    β to BTC is unreliable (``basis`` "market", ``beta_reason`` says why: a low R², no β, or
    why β has no numbers)."""

    kind: Literal["benchmark"] = "benchmark"
    coin: str
    window: str
    basis: Literal["beta", "market"]
    beta_reason: Caveat | None = None  # None when β is reliable
    coin_move_pct: Finite | None = None
    market_pct: Finite | None = None  # the peers' cap-weighted move (else their median)
    market_basis: Literal["cap-weighted", "median"] | None = None
    median_pct: Finite | None = None
    btc_pct: Finite | None = None
    n_peers: Count = 0
    residual_pct: Finite | None = None


class MarketCapMove(Finding):
    """The whole crypto market's capitalisation and its change over a window (CoinGecko's
    global figures: its own 24h change, or two stored snapshots for other windows)."""

    kind: Literal["market_cap"] = "market_cap"
    window: str
    total_usd: Positive | None = None
    change_pct: Finite | None = None
    start: UtcDatetime | None = None  # the snapshot compared with, when not the source's 24h


# ---------------------------------------------------------------------------------------------
# Macro

MacroVerdict = Literal["risk_off", "risk_on", "mixed"]
MacroCase = Literal[
    "no_equities",  # no equity index session to read
    "split",  # the equity indices moved in different directions
    "flat",  # the equities barely moved
    "no_gauges",  # no dollar, yield or VIX data to confirm the equity move
    "confirmed",  # the gauges in ``confirming`` moved the risk way with the equities
    "unconfirmed",  # the equities moved, the dollar, yields and VIX did not confirm
]
"""What the macro verdict stood on; :mod:`bot.render.drivers` words it from ``equities_pct``
and the ``confirming`` series."""


class SeriesMove(_Frozen):
    """One macro series' move over whole sessions, close to close (see
    :mod:`bot.analysis.sessions`): from the close of the session before ``first_session`` to
    the close of ``last_session`` (its latest price when ``live``). ``in_window`` is False when
    no session overlapped the window and the one immediately before it is used; ``weight``
    (0..1) says how recent that is.
    """

    series: str
    name: str
    symbol: str = ""
    source: str = ""
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None
    start_close: Positive | None = None
    end_close: Positive | None = None
    change_pct: Finite | None = None
    change_abs: Finite | None = None
    bars: Count = 0
    in_window: bool = False
    region: Literal["us", "eu"] = "us"
    first_session: date | None = None
    last_session: date | None = None
    live: bool = False
    weight: Unit = 0.0
    insufficient: Caveat | None = None


class MacroFinding(Finding):
    kind: Literal["macro"] = "macro"
    window: str
    moves: tuple[SeriesMove, ...] = ()
    missing: tuple[str, ...] = ()  # series asked for but absent
    equities_pct: Finite | None = None  # mean move of the equity indices in the window
    verdict: MacroVerdict | None = None  # None: nothing to say (no data, or equities flat)
    verdict_case: MacroCase | None = None
    confirming: tuple[str, ...] = ()  # series that agreed with the equities' direction
    recency: Unit | None = None  # weight of the sessions behind the verdict (1: in the window)


AnyFinding = Annotated[
    LevelsResult
    | BetaResult
    | Breadth
    | MarketCapMove
    | MarketBenchmark
    | LiquidationFinding
    | OIFinding
    | FundingFinding
    | LongShortFinding
    | TopTradersFinding
    | FlowFinding
    | RegimeFinding
    | MacroFinding,
    Field(discriminator="kind"),
]


# ---------------------------------------------------------------------------------------------
# Small helpers shared by the analysis modules


def window_label(window: timedelta) -> str:
    """``timedelta(hours=24)`` → ``"24h"``; whole days past 48h read as days (``"7d"``)."""
    seconds = int(window.total_seconds())
    if seconds <= 0:
        raise ValueError("window must be positive")
    if seconds % 86400 == 0 and seconds > 2 * 86400:
        return f"{seconds // 86400}d"
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"
