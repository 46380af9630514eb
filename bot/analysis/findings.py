"""Typed findings: what every analysis returns, and all a sentence or a ranker needs.

Each finding carries its numbers, the window they cover (``"24h"``), the sources (venue names)
and the data time (``as_of``: the newest data point it rests on, not the time it was computed).
When data is missing or too short, ``insufficient`` says why and the numbers are ``None``:
analysis never fills a gap with a guess. Softer caveats (a venue missing, a partly covered
window) go to ``notes``. Every finding has a ``kind`` so a list of them can be serialised and
dispatched on (see :data:`AnyFinding`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.models import Finite, NonNegative, Positive, UtcDatetime

Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Frozen):
    """Fields every finding shares."""

    as_of: UtcDatetime | None = None
    sources: tuple[str, ...] = ()
    insufficient: str | None = None  # why the finding has no numbers; None when it does
    notes: tuple[str, ...] = ()  # caveats that do not void the numbers

    @property
    def ok(self) -> bool:
        return self.insufficient is None


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
    led_by_reason: str = ""


class MarketBenchmark(Finding):
    """A coin's move against the other tracked coins' over the same window: the yardstick when
    β to BTC is unreliable (``basis`` "market", ``beta_reason`` says why)."""

    kind: Literal["benchmark"] = "benchmark"
    coin: str
    window: str
    basis: Literal["beta", "market"]
    beta_reason: str = ""  # e.g. "R² 0.04 over 30 d"
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
# Derivatives

LiqSide = Literal["long", "short", "balanced"]
# The rung a liquidation total was measured on (bot.analysis.liq_basis): the coin's own 7- or
# 30-day average, or, before that exists, its share of open interest or of 24h volume.
LiqBasis = Literal["own_7d", "own_30d", "open_interest", "volume"]


class VenueLiquidations(_Frozen):
    venue: str
    long_usd: NonNegative
    short_usd: NonNegative
    events: Count


class LiquidationFinding(Finding):
    """Forced liquidations in a window, against the coin's own baseline.

    ``baseline_usd`` is the coin's average total per window of the same length over the
    covered part of the previous 30 days; ``baseline_multiple`` = total / baseline.
    ``acceleration`` is the last hour's rate over the window's average rate (>1: speeding up).
    """

    kind: Literal["liquidations"] = "liquidations"
    coin: str
    window: str
    start: UtcDatetime
    end: UtcDatetime
    total_usd: NonNegative | None = None
    long_usd: NonNegative | None = None
    short_usd: NonNegative | None = None
    long_share: Unit | None = None
    dominant: LiqSide | None = None
    events: Count = 0
    largest_usd: NonNegative | None = None  # the largest single liquidation
    by_venue: tuple[VenueLiquidations, ...] = ()
    covered_from: UtcDatetime | None = None  # data is known complete from here on
    baseline_usd: NonNegative | None = None
    baseline_multiple: NonNegative | None = None
    baseline_days: NonNegative | None = None  # history the baseline actually used
    last_hour_usd: NonNegative | None = None
    acceleration: NonNegative | None = None
    # the size on the baseline ladder (bot.analysis.liq_basis.with_basis); None: no yardstick
    basis: LiqBasis | None = None
    basis_ratio: NonNegative | None = None  # × the own average, or % of open interest / volume
    basis_bar: NonNegative | None = None  # the ratio a spike needs on that basis
    own_needed_days: NonNegative | None = None  # history the own rung needs before it takes over
    scale: NonNegative | None = None  # basis_ratio / basis_bar: 1.0 is at the spike bar
    oi_usd: NonNegative | None = None  # the coin's open interest at the window's end
    oi_share_pct: NonNegative | None = None  # total / open interest, in %
    volume_usd: NonNegative | None = None  # the coin's 24h quote volume
    volume_share_pct: NonNegative | None = None  # total / 24h volume, in %

    @property
    def spike(self) -> bool:
        """Past the spike bar on whichever basis it stood."""
        return self.scale is not None and self.scale >= 1.0


class VenueOI(_Frozen):
    venue: str
    start: UtcDatetime
    end: UtcDatetime
    start_usd: NonNegative
    end_usd: NonNegative
    change_usd: Finite
    change_pct: Finite | None  # None when the start was 0


class OIFinding(Finding):
    """Open-interest change over a window, per venue and summed over ``venues`` (only venues
    with a value at both aligned ends are summed, so the total compares like with like)."""

    kind: Literal["open_interest"] = "open_interest"
    coin: str
    window: str
    start: UtcDatetime | None = None
    end: UtcDatetime | None = None
    start_usd: NonNegative | None = None
    end_usd: NonNegative | None = None
    change_usd: Finite | None = None
    change_pct: Finite | None = None
    span_days: NonNegative | None = None  # the span the change actually covers (shortest venue's)
    venues: tuple[str, ...] = ()
    missing_venues: tuple[str, ...] = ()
    by_venue: tuple[VenueOI, ...] = ()


FundingState = Literal["elevated", "normal", "negative"]


class VenueFunding(_Frozen):
    venue: str
    ts: UtcDatetime
    rate_8h: Finite  # fraction per 8 hours (0.0001 = 0.01%)
    interval_hours: Positive


class FundingFinding(Finding):
    """Latest funding per venue, normalised to 8 hours. Positive: longs pay shorts.

    ``flushed``: funding was positive at the window start and has since dropped to about zero
    or below, which after a fall says the long crowding has been cleared.
    """

    kind: Literal["funding"] = "funding"
    coin: str
    window: str
    by_venue: tuple[VenueFunding, ...] = ()
    mean_8h: Finite | None = None
    prior_mean_8h: Finite | None = None  # at the window start
    state: FundingState | None = None
    flushed: bool = False


class VenueLongShort(_Frozen):
    venue: str
    ts: UtcDatetime
    long_share: Unit


class LongShortFinding(Finding):
    kind: Literal["long_short"] = "long_short"
    coin: str
    window: str
    by_venue: tuple[VenueLongShort, ...] = ()
    long_share: Unit | None = None  # mean over venues, latest values
    prior_long_share: Unit | None = None  # mean at the window start
    change_pp: Finite | None = None  # percentage points
    crowded: Literal["longs", "shorts"] | None = None


class TopTradersFinding(Finding):
    """The top traders' long share (a venue's largest accounts by margin), by position size
    and by number of accounts, latest and its change over the window, against all accounts."""

    kind: Literal["top_traders"] = "top_traders"
    coin: str
    window: str
    position_long_share: Unit | None = None
    position_change_pp: Finite | None = None
    account_long_share: Unit | None = None
    account_change_pp: Finite | None = None
    all_accounts_long_share: Unit | None = None  # from the long/short finding
    gap_pp: Finite | None = None  # top traders by position minus all accounts


FlowLead = Literal["spot", "perp", "balanced"]


class FlowFinding(Finding):
    """Aggressive (taker) buying minus selling in quote currency, spot against perpetuals."""

    kind: Literal["taker_flow"] = "taker_flow"
    coin: str
    window: str
    spot_net_usd: Finite | None = None
    perp_net_usd: Finite | None = None
    spot_volume_usd: NonNegative | None = None
    perp_volume_usd: NonNegative | None = None
    led_by: FlowLead | None = None


RegimeLabel = Literal[
    "long liquidation cascade",
    "deleveraging",
    "short squeeze",
    "short covering",
    "new shorts",
    "new longs",
    "spot-led selling",
    "spot-led buying",
    "no leverage signal",
]


OIClause = Literal["new longs", "new shorts"]

RegimeReason = Literal[
    "small_move",  # the price moved less than the bar: no leverage story
    "price",  # the price change
    "forced_exits",  # the dominant side's liquidations, their share and size
    "open_interest",  # the open-interest change (or that it is unknown)
    "broke_level",  # the move went through support (down) or resistance (up)
    "spot_flow",  # spot net taker flow against perps'
    "oi_flat",  # open interest did not move
    "no_oi_data",  # no open interest to read
]
"""What a regime label stood on, in order. Each is worded by :mod:`bot.render.phrases` from the
finding's own numbers."""


class RegimeFinding(Finding):
    """What leverage did in the window, from price, open interest, liquidations and flow."""

    kind: Literal["regime"] = "regime"
    coin: str = ""
    window: str
    label: RegimeLabel
    reasons: tuple[RegimeReason, ...] = ()
    price_change_pct: Finite | None = None
    oi_change_pct: Finite | None = None
    long_liq_usd: NonNegative | None = None
    short_liq_usd: NonNegative | None = None
    liq_multiple: NonNegative | None = None
    spot_net_usd: Finite | None = None
    perp_net_usd: Finite | None = None
    liq_basis: LiqBasis | None = None  # the rung the liquidations' size stood on
    liq_scale: NonNegative | None = None  # their size in units of that rung's spike bar
    liq_side_share: NonNegative | None = None  # the forced side's share of the liquidations
    liq_size: NonNegative | None = None  # their size in units of the bar the label was judged on
    # what open interest did alongside forced exits, e.g. a short squeeze with new longs
    oi_clause: OIClause | None = None


# ---------------------------------------------------------------------------------------------
# Macro

MacroVerdict = Literal["risk_off", "risk_on", "mixed"]


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
    insufficient: str | None = None


class MacroFinding(Finding):
    kind: Literal["macro"] = "macro"
    window: str
    moves: tuple[SeriesMove, ...] = ()
    missing: tuple[str, ...] = ()  # series asked for but absent
    equities_pct: Finite | None = None  # mean move of the equity indices in the window
    verdict: MacroVerdict | None = None  # None: nothing to say (no data, or equities flat)
    verdict_reason: str = ""
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
