"""Why did it move? Rank the findings into drivers, each only when its evidence passes a
threshold, and derive what would stabilise (or reverse) the move.

Pure: the findings come in (computed from the store by the services), a ranked
:class:`WhyAnswer` goes out. Wording is the renderer's job; this module only decides which
facts matter and in what order, so a test can check the decision without parsing prose.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.analysis.findings import (
    BetaResult,
    Breadth,
    Caveat,
    Finding,
    FlowFinding,
    FundingFinding,
    LevelsResult,
    LevelZone,
    LiquidationFinding,
    LongShortFinding,
    MacroFinding,
    MarketBenchmark,
    MarketCapMove,
    OIFinding,
    RegimeFinding,
    TopTradersFinding,
)
from bot.analysis.liq_basis import equivalent_multiple
from bot.analysis.sentiment import SentimentFinding

Direction = Literal["down", "up", "flat"]
DriverKind = Literal["breadth", "coin_specific", "leverage", "macro"]
StabiliserKind = Literal[
    "hold_support",
    "reclaim_level",
    "break_resistance",
    "liquidations_slowing",
    "liquidations_accelerating",
    "funding_reset",
    "funding_elevated",
    "oi_still_falling",
    "oi_rebuilding",
]


@dataclass(frozen=True)
class WhyConfig:
    # A move smaller than this (per window) is "quiet" unless a driver is strong anyway.
    quiet_move_pct: tuple[tuple[str, float], ...] = (("1h", 0.4), ("4h", 0.8), ("24h", 1.5), ("7d", 4.0))
    broad_share: float = 0.7  # this share of coins moving the same way: a broad move
    residual_min_pct: float = 2.0  # a coin's own move must exceed this (and half its move)
    residual_share: float = 0.5
    min_r2: float = 0.2  # below this, β explains too little to split market from coin
    liq_multiple_min: float = 1.5  # liquidations this × baseline count as a leverage signal
    oi_change_min_pct: float = 3.0  # |OI change| at least this counts on its own
    min_score: float = 0.15  # drivers below this are not named
    slowing: float = 0.7  # last hour's rate under this × the window's: slowing
    accelerating: float = 1.3

    def quiet_threshold(self, window: str) -> float:
        return dict(self.quiet_move_pct).get(window, 1.5)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


UnknownFinding = Literal["liquidations", "open_interest", "funding", "beta", "macro", "levels"]


class Unknown(_Frozen):
    """Something an answer could not say, and why; :mod:`bot.render.why` words it.

    ``stale_prices``: the prices are ``age`` old; ``streams_down``: no liquidation stream is
    connected; ``no_move``: no price change for the subject over the window; ``finding``: that
    ``finding`` is insufficient, for its ``reason``."""

    kind: Literal["stale_prices", "streams_down", "no_move", "finding"]
    age: timedelta | None = None
    finding: UnknownFinding | None = None
    reason: Caveat | None = None


class WhyInputs(_Frozen):
    """Everything one answer rests on; ``None`` means the store had nothing for it."""

    coin: str | None  # None: the whole market (BTC stands for it)
    window: str
    now: datetime
    move_pct: float | None
    move_source: str = ""
    move_as_of: datetime | None = None
    breadth: Breadth | None = None
    market_cap: MarketCapMove | None = None  # the whole market's capitalisation (market answer)
    beta: BetaResult | None = None
    benchmark: MarketBenchmark | None = None  # the coin against its peers, when β is unreliable
    liquidations: LiquidationFinding | None = None
    liq_totals: tuple[LiquidationFinding, ...] = ()  # 24h, 7d, 30d for context
    oi: OIFinding | None = None
    oi_30d: OIFinding | None = None
    funding: FundingFinding | None = None
    long_short: LongShortFinding | None = None
    top_traders: TopTradersFinding | None = None
    flow: FlowFinding | None = None
    regime: RegimeFinding | None = None
    macro: MacroFinding | None = None
    levels: LevelsResult | None = None
    sentiment: SentimentFinding | None = None  # context only (Fear & Greed), never a driver
    unknowns: tuple[Unknown, ...] = ()


class Driver(_Frozen):
    kind: DriverKind
    score: float  # 0..1: how much of the move this explains


class Stabiliser(_Frozen):
    kind: StabiliserKind
    zone: LevelZone | None = None
    next_zone: LevelZone | None = None


class WhyAnswer(_Frozen):
    inputs: WhyInputs
    direction: Direction
    quiet: bool
    drivers: tuple[Driver, ...]  # ranked, strongest first, each past its threshold
    stabilisers: tuple[Stabiliser, ...]
    unknowns: tuple[Unknown, ...]

    @property
    def top(self) -> Driver | None:
        return self.drivers[0] if self.drivers else None


def _direction(move: float | None, quiet: float) -> Direction:
    if move is None or abs(move) < quiet / 4:
        return "flat"
    return "down" if move < 0 else "up"


def _sign(direction: Direction) -> int:
    return -1 if direction == "down" else 1


def score_breadth(inputs: WhyInputs, direction: Direction, cfg: WhyConfig) -> float:
    """A move shared by most coins is market-wide: for the market, that is the story; for a
    coin, it is the part its beta explains."""
    b = inputs.breadth
    if b is None or not b.ok or b.n == 0 or direction == "flat":
        return 0.0
    share = (b.n_down if direction == "down" else b.n_up) / b.n
    if inputs.coin is None:
        # broad by count or by market cap: five majors falling is the market falling even
        # when fifteen small coins sat still
        cap_share = b.cap_share_down if direction == "down" else b.cap_share_up
        if cap_share is not None and b.n_capped * 2 >= b.n:
            share = cap_share
            moved = (
                b.cap_weighted_pct is not None
                and abs(b.cap_weighted_pct) >= cfg.quiet_threshold(inputs.window) / 2
            )
            if not moved:
                return 0.0
        if share < cfg.broad_share:
            return 0.0
        return min(1.0, 0.4 + 0.6 * share)
    if share < cfg.broad_share:
        return 0.0
    beta = inputs.beta
    bench = inputs.benchmark
    if bench is not None and bench.basis == "market" and bench.market_pct is not None and inputs.move_pct:
        return max(0.0, min(1.0, bench.market_pct / inputs.move_pct)) * share  # β unreliable
    if beta is None or not beta.ok or beta.expected_move_pct is None or not inputs.move_pct:
        return 0.3 * share
    explained = beta.expected_move_pct / inputs.move_pct
    return max(0.0, min(1.0, explained)) * share


def score_coin_specific(inputs: WhyInputs, cfg: WhyConfig) -> float:
    """The coin's own share of its move: the residual after β × BTC when β is reliable, else
    after the market's move (its peers'), so a weak fit or a fresh store still tells a coin's
    own crash from a market-wide one."""
    beta = inputs.beta
    move = inputs.move_pct
    if inputs.coin is None or inputs.coin == "BTC" or not move:
        return 0.0
    bench = inputs.benchmark
    if beta is not None and beta.ok and beta.residual_pct is not None and (beta.r2 or 0.0) >= cfg.min_r2:
        residual = beta.residual_pct
    elif bench is not None and bench.ok and bench.basis == "market" and bench.residual_pct is not None:
        residual = bench.residual_pct
    else:
        return 0.0
    if abs(residual) < cfg.residual_min_pct or abs(residual) < cfg.residual_share * abs(move):
        return 0.0
    if math.copysign(1, residual) != math.copysign(1, move):
        return 0.0  # the coin did better than its beta: not its own story
    return min(1.0, abs(residual) / abs(move))


def score_leverage(inputs: WhyInputs, direction: Direction, cfg: WhyConfig) -> float:
    regime = inputs.regime
    if regime is None or regime.label == "no leverage signal" or direction == "flat":
        return 0.0
    label = regime.label
    agrees = {
        "down": ("long liquidation cascade", "deleveraging", "new shorts", "spot-led selling"),
        "up": ("short squeeze", "short covering", "new longs", "spot-led buying"),
    }[direction]
    if label not in agrees:
        return 0.0
    score = 0.25
    liq = inputs.liquidations
    multiple = equivalent_multiple(liq) if liq is not None else None
    if multiple is not None and multiple >= cfg.liq_multiple_min:
        score += min(0.45, 0.2 * math.log2(multiple))
    oi = inputs.oi
    if oi is not None and oi.change_pct is not None and abs(oi.change_pct) >= cfg.oi_change_min_pct:
        score += min(0.3, abs(oi.change_pct) / 30)
    if label.startswith("spot-led"):
        score = min(score, 0.5)
    return min(1.0, score)


def score_macro(inputs: WhyInputs, direction: Direction) -> float:
    m = inputs.macro
    if m is None or m.verdict is None or m.equities_pct is None or direction == "flat":
        return 0.0
    wanted = "risk_off" if direction == "down" else "risk_on"
    if m.verdict != wanted:
        return 0.0
    # a session before the window (Friday's, on a Saturday) counts for less as it ages
    recency = 1.0 if m.recency is None else m.recency
    return min(0.8, 0.3 + abs(m.equities_pct) / 5 + 0.1 * len(m.confirming)) * recency


def stabilisers(inputs: WhyInputs, direction: Direction, cfg: WhyConfig) -> tuple[Stabiliser, ...]:
    """What would stop (or extend) the move, each derived from a number in the findings."""
    out: list[Stabiliser] = []
    lv = inputs.levels
    if lv is not None and lv.ok:
        if lv.broken and direction == "down" and lv.broken[0].was == "support":
            out.append(Stabiliser(kind="reclaim_level", zone=lv.broken[0].zone))
        if lv.nearest_support is not None and direction != "up":
            out.append(Stabiliser(kind="hold_support", zone=lv.nearest_support, next_zone=lv.next_below))
        if lv.nearest_resistance is not None and direction != "down":
            out.append(
                Stabiliser(kind="break_resistance", zone=lv.nearest_resistance, next_zone=lv.next_above)
            )
    liq = inputs.liquidations
    if liq is not None and liq.ok and liq.acceleration is not None and (liq.total_usd or 0) > 0:
        if liq.acceleration <= cfg.slowing:
            out.append(Stabiliser(kind="liquidations_slowing"))
        elif liq.acceleration >= cfg.accelerating:
            out.append(Stabiliser(kind="liquidations_accelerating"))
    f = inputs.funding
    if f is not None and f.ok and f.state is not None:
        if f.flushed and direction == "down":
            out.append(Stabiliser(kind="funding_reset"))
        elif f.state == "elevated" and direction == "down":
            out.append(Stabiliser(kind="funding_elevated"))
    oi = inputs.oi
    if oi is not None and oi.change_pct is not None and direction == "down":
        if oi.change_pct <= -cfg.oi_change_min_pct:
            out.append(Stabiliser(kind="oi_still_falling"))
        elif oi.change_pct >= cfg.oi_change_min_pct:
            out.append(Stabiliser(kind="oi_rebuilding"))
    return tuple(out)


def explain(inputs: WhyInputs, config: WhyConfig | None = None) -> WhyAnswer:
    cfg = config or WhyConfig()
    quiet_at = cfg.quiet_threshold(inputs.window)
    direction = _direction(inputs.move_pct, quiet_at)
    scored = [
        Driver(kind="leverage", score=score_leverage(inputs, direction, cfg)),
        Driver(kind="coin_specific", score=score_coin_specific(inputs, cfg)),
        Driver(kind="breadth", score=score_breadth(inputs, direction, cfg)),
        Driver(kind="macro", score=score_macro(inputs, direction)),
    ]
    # Ties go to the cause before the mechanism: a coin's own story before the leverage it flushed.
    priority = {"coin_specific": 0, "macro": 1, "leverage": 2, "breadth": 3}
    drivers = tuple(
        sorted(
            (d for d in scored if d.score >= cfg.min_score),
            key=lambda d: (-round(d.score, 2), priority[d.kind]),
        )
    )
    small = inputs.move_pct is None or abs(inputs.move_pct) < quiet_at
    quiet = small and not any(d.score >= 0.5 for d in drivers)
    if quiet:
        drivers = ()
    unknowns = list(inputs.unknowns)
    if inputs.move_pct is None:
        unknowns.append(Unknown(kind="no_move"))
    named: tuple[tuple[UnknownFinding, Finding | None], ...] = (
        ("liquidations", inputs.liquidations),
        ("open_interest", inputs.oi),
        ("funding", inputs.funding),
        ("beta", inputs.beta if inputs.coin not in (None, "BTC") else None),
        ("macro", inputs.macro),
        ("levels", inputs.levels),
    )
    for name, finding in named:
        if finding is not None and finding.insufficient is not None:
            unknowns.append(Unknown(kind="finding", finding=name, reason=finding.insufficient))
    return WhyAnswer(
        inputs=inputs,
        direction=direction,
        quiet=quiet,
        drivers=drivers,
        stabilisers=stabilisers(inputs, direction, cfg) if not quiet else (),
        unknowns=tuple(dict.fromkeys(unknowns)),
    )
