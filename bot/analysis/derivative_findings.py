"""The derivatives findings — liquidations, open interest, funding, positioning, taker flow and
the leverage regime — re-exported by :mod:`bot.analysis.findings`."""

from __future__ import annotations

from typing import Literal

from bot.analysis.finding_base import Count, Finding, Unit, _Frozen
from bot.models import Finite, NonNegative, Positive, UtcDatetime

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
