"""Alert rules: pure functions from one coin's recent market state to an :class:`Observation`.

Every rule turns its evidence into a ``score``: the value over its threshold, so ``score > 1``
means "past the threshold" whatever the rule, and the engine's hysteresis (re-arm only once
the score is back below ``1 - hysteresis``) works the same way for all of them.

- **Large move**: ``|change|`` over 1h or 24h against a fixed threshold, or against ``k`` standard
  deviations of the coin's own moves over the same horizon (30 days of hourly bars), whichever
  is further past its bar. The σ test only counts for moves of at least ``sigma_min_move_pct``.
- **Liquidation spike**: liquidations in a short window against both the coin's own baseline
  rate (``liq_multiple`` × its average for a window that long) and an absolute floor, so a quiet
  coin does not alert on a few thousand dollars.
- **Level break**: the latest 1h bar *closes* beyond a support/resistance zone by a buffer,
  having closed on the other side of its edge the bar before. A wick through the zone that
  closes back inside is not a break.
- **Open-interest flush**: open interest falls by more than x% in 1h or 24h.
- **Funding extreme**: the mean funding across venues (per 8h) beyond a band either side of 0.

The inputs (:class:`CoinInputs`) come from :func:`inputs_at`, which reads a :class:`CoinSeries`
at any time ``t``: the live engine and the backtest call the same code, so a replay says what
the live bot would have sent.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.analysis.derivatives import funding_state, oi_change
from bot.analysis.findings import LevelZone, LiqBasis
from bot.analysis.levels import find_levels
from bot.analysis.liq_basis import LiqBands, latest_oi_usd, size
from bot.fmt import money
from bot.models import Candle, Funding, OpenInterest

F64 = npt.NDArray[np.float64]

RuleName = Literal["move", "liquidations", "level", "oi_flush", "funding"]
RULES: tuple[RuleName, ...] = ("move", "liquidations", "level", "oi_flush", "funding")
RULE_TITLES: dict[RuleName, str] = {
    "move": "large move",
    "liquidations": "liquidation spike",
    "level": "level break",
    "oi_flush": "open-interest flush",
    "funding": "funding extreme",
}
_RULE_ALIASES: dict[str, RuleName] = {
    "move": "move",
    "moves": "move",
    "large move": "move",
    "large moves": "move",
    "price": "move",
    "liquidations": "liquidations",
    "liquidation": "liquidations",
    "liquidation spike": "liquidations",
    "liquidation spikes": "liquidations",
    "liq": "liquidations",
    "liqs": "liquidations",
    "level": "level",
    "levels": "level",
    "level break": "level",
    "level breaks": "level",
    "break": "level",
    "breaks": "level",
    "support": "level",
    "resistance": "level",
    "oi": "oi_flush",
    "oi flush": "oi_flush",
    "oi_flush": "oi_flush",
    "open interest": "oi_flush",
    "open-interest flush": "oi_flush",
    "funding": "funding",
    "funding extreme": "funding",
    "funding extremes": "funding",
}

Direction = Literal["up", "down"]
Basis = Literal["threshold", "sigma", "baseline", "floor", "zone", "band"]

HOUR = 3600.0
DAY = 86400.0
ALL_PARTS = frozenset({"hourly", "liq", "oi", "funding"})


# -- configuration ----------------------------------------------------------------------------


class AlertConfig(BaseModel):
    """Thresholds with their defaults. A subscription overrides any of the first group (see
    :data:`OVERRIDES`); the engine-level ones at the end shape the inputs and are the same for
    every subscription."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # large move
    move_1h_pct: float = Field(5.0, gt=0, le=100)
    move_24h_pct: float = Field(12.0, gt=0, le=100)
    sigma_k: float = Field(4.0, gt=0, le=20)
    sigma_min_move_pct: float = Field(3.0, ge=0, le=100)
    # liquidation spike
    liq_multiple: float = Field(5.0, ge=1, le=1000)
    liq_floor_usd: float = Field(500_000.0, ge=0, le=1e12)
    # level break
    level_buffer_pct: float = Field(1.0, gt=0, le=20)
    level_min_strength: float = Field(0.6, ge=0, le=1)
    level_cooldown_minutes: int = Field(240, ge=1, le=7 * 24 * 60)  # price chops around a level
    # open-interest flush
    oi_drop_1h_pct: float = Field(4.0, gt=0, le=100)
    oi_drop_24h_pct: float = Field(10.0, gt=0, le=100)
    # funding extreme, in percent per 8h (0.05 = 0.05%/8h, five times the usual base rate)
    funding_band_pct: float = Field(0.05, gt=0, le=5)
    # state machine
    cooldown_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    hysteresis: float = Field(0.2, ge=0, lt=1)
    # engine-level (not per subscription)
    sigma_lookback_days: int = Field(30, ge=3, le=60)
    liq_window_minutes: int = Field(15, ge=1, le=240)
    liq_baseline_days: float = Field(7.0, ge=1, le=30)
    liq_bands: LiqBands = LiqBands()  # before the own baseline covers its days: open interest
    level_refresh_hours: int = Field(6, ge=1, le=24)

    @property
    def cooldown(self) -> timedelta:
        return timedelta(minutes=self.cooldown_minutes)

    def cooldown_for(self, rule: RuleName) -> timedelta:
        if rule == "level":
            return timedelta(minutes=max(self.level_cooldown_minutes, self.cooldown_minutes))
        return self.cooldown

    @property
    def liq_window(self) -> timedelta:
        return timedelta(minutes=self.liq_window_minutes)


class ThresholdError(ValueError):
    """A threshold override that cannot be used; the message is one line naming the key."""


def _number(text: str) -> float:
    value = float(text.replace(",", "").replace("_", ""))
    if not math.isfinite(value):
        raise ValueError
    return value


def _pct(text: str) -> float:
    return _number(text.removesuffix("%"))


def _money(text: str) -> float:
    t = text.lstrip("$").upper()
    scale = {"K": 1e3, "M": 1e6, "B": 1e9}.get(t[-1:], 1.0)
    return _number(t[:-1] if scale != 1.0 else t) * scale


def _multiple(text: str) -> float:
    return _number(text.lower().removesuffix("x").removesuffix("×"))


def _minutes(text: str) -> float:
    m = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(m|min|h|d)?", text.lower())
    if m is None:
        raise ValueError
    return float(m.group(1)) * {"m": 1, "min": 1, "h": 60, "d": 1440, None: 1}[m.group(2)]


# user-facing key -> (config field, parser, how it is shown)
OVERRIDES: dict[str, tuple[str, Callable[[str], float], str]] = {
    "move_1h": ("move_1h_pct", _pct, "{:g}%"),
    "move_24h": ("move_24h_pct", _pct, "{:g}%"),
    "sigma": ("sigma_k", _multiple, "{:g}σ"),
    "min_move": ("sigma_min_move_pct", _pct, "{:g}%"),
    "liq_multiple": ("liq_multiple", _multiple, "{:g}×"),
    "liq_floor": ("liq_floor_usd", _money, "money"),
    "level_buffer": ("level_buffer_pct", _pct, "{:g}%"),
    "level_strength": ("level_min_strength", _number, "{:g}"),
    "level_cooldown": ("level_cooldown_minutes", _minutes, "minutes"),
    "oi_1h": ("oi_drop_1h_pct", _pct, "{:g}%"),
    "oi_24h": ("oi_drop_24h_pct", _pct, "{:g}%"),
    "funding": ("funding_band_pct", _pct, "±{:g}%/8h"),
    "cooldown": ("cooldown_minutes", _minutes, "minutes"),
    "hysteresis": ("hysteresis", _number, "{:g}"),
}
_FIELD_TO_KEY = {f: k for k, (f, _, _) in OVERRIDES.items()}
OVERRIDE_HELP = ", ".join(OVERRIDES)


def parse_thresholds(text: str | None, base: AlertConfig | None = None) -> dict[str, float]:
    """``"move_24h=6% liq_floor=2M cooldown=2h"`` → config overrides ``{field: value}``,
    validated against :class:`AlertConfig`. Raises :class:`ThresholdError` with one line."""
    if not text or not text.strip() or text.strip().lower() in ("default", "defaults", "none"):
        return {}
    out: dict[str, float] = {}
    for token in re.split(r"[\s,;]+", text.strip()):
        if not token:
            continue
        key, sep, raw = token.partition("=")
        if not sep:
            key, sep, raw = token.partition(":")
        key = key.strip().lower()
        if not sep or not raw:
            raise ThresholdError(f"expected key=value, got {token!r} (keys: {OVERRIDE_HELP})")
        if key not in OVERRIDES:
            key = _FIELD_TO_KEY.get(key, key)
        if key not in OVERRIDES:
            raise ThresholdError(f"unknown threshold {key!r}; use one of {OVERRIDE_HELP}")
        fld, parse, _ = OVERRIDES[key]
        try:
            value = parse(raw.strip())
        except (ValueError, IndexError):
            raise ThresholdError(f"{key}: {raw!r} is not a number") from None
        out[fld] = round(value) if fld.endswith("_minutes") else value
    with_overrides(base or AlertConfig(), out)  # validates
    return out


def with_overrides(base: AlertConfig, overrides: Mapping[str, float]) -> AlertConfig:
    try:
        return AlertConfig.model_validate({**base.model_dump(), **overrides})
    except ValidationError as exc:
        err = exc.errors()[0]
        fld = str(err["loc"][0]) if err["loc"] else "?"
        key = _FIELD_TO_KEY.get(fld, fld)
        raise ThresholdError(f"{key}: {err['msg'].lower()} (got {err.get('input')!r})") from None


def show_threshold(fld: str, value: float) -> str:
    key = _FIELD_TO_KEY.get(fld, fld)
    fmt = OVERRIDES[key][2] if key in OVERRIDES else "{:g}"
    if fmt == "money":
        shown = money(value)
    elif fmt == "minutes":
        minutes = int(value)
        shown = f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
    else:
        shown = fmt.format(value)
    return f"{key}={shown}"


def describe_thresholds(overrides: Mapping[str, float]) -> str:
    return ", ".join(show_threshold(f, v) for f, v in sorted(overrides.items())) or "defaults"


def parse_rules(text: str | None) -> tuple[RuleName, ...]:
    """``"move, liquidations"`` (or "all", or nothing) → rule names in canonical order."""
    if text is None or not text.strip() or text.strip().lower() in ("all", "*", "every"):
        return RULES
    chosen: set[RuleName] = set()
    for part in re.split(r"[,;/+|]+", text):
        name = " ".join(part.strip().lower().replace("_", " ").split())
        if not name:
            continue
        rule = _RULE_ALIASES.get(name) or _RULE_ALIASES.get(name.replace(" ", "_"))
        if rule is None:
            raise ValueError(
                f"unknown alert type {part.strip()!r}; choose from move, liquidations, levels, oi, funding (or all)"
            )
        chosen.add(rule)
    return tuple(r for r in RULES if r in chosen)


# -- inputs ------------------------------------------------------------------------------------


def _ts(dt: datetime) -> float:
    return dt.timestamp()


def _dt(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, tz=UTC)


@dataclass
class CoinSeries:
    """One coin's history, oldest first, as the rules read it. ``liq_minutes`` are per-minute
    totals ``(minute start, usd, long usd)`` and ``liq_hours`` hourly totals ``(hour start,
    usd)``; ``covered_since`` is when the liquidation streams started counting."""

    coin: str
    hourly: Sequence[Candle] = ()
    daily: Sequence[Candle] = ()
    oi: Sequence[OpenInterest] = ()
    funding: Sequence[Funding] = ()
    liq_minutes: Sequence[tuple[datetime, float, float]] = ()
    liq_hours: Sequence[tuple[datetime, float]] = ()
    covered_since: datetime | None = None
    # derived arrays (filled in __post_init__)
    h_t: F64 = field(init=False, repr=False)
    h_open: F64 = field(init=False, repr=False)
    h_close: F64 = field(init=False, repr=False)
    d_t: F64 = field(init=False, repr=False)
    oi_t: list[float] = field(init=False, repr=False)
    f_t: list[float] = field(init=False, repr=False)
    lm_t: F64 = field(init=False, repr=False)
    lm_cum: F64 = field(init=False, repr=False)
    lm_long_cum: F64 = field(init=False, repr=False)
    lh_t: F64 = field(init=False, repr=False)
    lh_cum: F64 = field(init=False, repr=False)

    def __post_init__(self) -> None:
        hourly = {c.open_time: c for c in self.hourly}
        self.hourly = [hourly[k] for k in sorted(hourly)]
        daily = {c.open_time: c for c in self.daily}
        self.daily = [daily[k] for k in sorted(daily)]
        self.oi = sorted(self.oi, key=lambda p: p.ts)
        self.funding = sorted(self.funding, key=lambda p: p.ts)
        self.h_t = np.array([_ts(c.open_time) for c in self.hourly], dtype=np.float64)
        self.h_open = np.array([c.open for c in self.hourly], dtype=np.float64)
        self.h_close = np.array([c.close for c in self.hourly], dtype=np.float64)
        self.d_t = np.array([_ts(c.open_time) for c in self.daily], dtype=np.float64)
        self.oi_t = [_ts(p.ts) for p in self.oi]
        self.f_t = [_ts(p.ts) for p in self.funding]
        lm = sorted(self.liq_minutes)
        self.lm_t = np.array([_ts(m) for m, _, _ in lm], dtype=np.float64)
        self.lm_cum = np.concatenate([[0.0], np.cumsum([u for _, u, _ in lm])])
        self.lm_long_cum = np.concatenate([[0.0], np.cumsum([lo for _, _, lo in lm])])
        lh = sorted(self.liq_hours)
        self.lh_t = np.array([_ts(h) for h, _ in lh], dtype=np.float64)
        self.lh_cum = np.concatenate([[0.0], np.cumsum([u for _, u in lh])])

    def closed_hours(self, t: datetime) -> int:
        """How many hourly bars had closed by ``t`` (an in-progress bar is not a close)."""
        return int(np.searchsorted(self.h_t, _ts(t) - HOUR, side="right"))

    def liq_sum(self, start: datetime, end: datetime) -> tuple[float, float]:
        """Liquidations (total, longs) in minute buckets starting in ``[start, end)``."""
        i = int(np.searchsorted(self.lm_t, _ts(start), side="left"))
        j = int(np.searchsorted(self.lm_t, _ts(end), side="left"))
        return float(self.lm_cum[j] - self.lm_cum[i]), float(self.lm_long_cum[j] - self.lm_long_cum[i])

    def liq_hours_sum(self, start: datetime, end: datetime) -> float:
        i = int(np.searchsorted(self.lh_t, _ts(start), side="left"))
        j = int(np.searchsorted(self.lh_t, _ts(end), side="left"))
        return float(self.lh_cum[j] - self.lh_cum[i])

    def liq_event_times(self, start: datetime, end: datetime) -> list[datetime]:
        """The end of every minute with liquidations in ``[start, end)``: when the live engine
        would have evaluated the spike rule (right after the stream stored the batch)."""
        i = int(np.searchsorted(self.lm_t, _ts(start), side="left"))
        j = int(np.searchsorted(self.lm_t, _ts(end), side="left"))
        return [_dt(float(x) + 60.0) for x in self.lm_t[i:j]]


@dataclass(frozen=True)
class CoinInputs:
    """What the rules read about one coin at ``now``; ``None`` where the store had nothing
    (a rule without its inputs observes nothing rather than guessing)."""

    coin: str
    now: datetime
    price: float | None = None
    change_1h_pct: float | None = None
    change_24h_pct: float | None = None
    sigma_1h_pct: float | None = None  # standard deviation of the coin's own 1h moves
    sigma_24h_pct: float | None = None  # …and of its 24h moves, over the lookback
    liq_window: timedelta = timedelta(minutes=15)
    liq_usd: float | None = None
    liq_long_usd: float | None = None
    liq_baseline_usd: float | None = None  # the coin's average for a window this long
    liq_baseline_days: float | None = None
    liq_oi_usd: float | None = None  # open interest now: the yardstick before a baseline exists
    oi_1h_pct: float | None = None
    oi_24h_pct: float | None = None
    oi_usd: float | None = None
    funding_8h: float | None = None  # fraction per 8h, mean over venues
    bar_time: datetime | None = None  # open time of the latest closed 1h bar
    last_close: float | None = None
    prev_close: float | None = None
    zones: tuple[LevelZone, ...] = ()


def _sigma(values: F64, minimum: int) -> float | None:
    values = values[np.isfinite(values)]
    if values.size < minimum:
        return None
    s = float(np.std(values))
    return s if s > 0 else None


def _base_open(s: CoinSeries, at: float) -> float | None:
    """The open of the hourly bar containing ``at``."""
    j = int(np.searchsorted(s.h_t, at, side="right")) - 1
    if j < 0 or not (s.h_t[j] <= at < s.h_t[j] + HOUR):
        return None
    return float(s.h_open[j])


def zones_at(s: CoinSeries, t: datetime, refresh_hours: int) -> tuple[datetime, tuple[LevelZone, ...]]:
    """Support/resistance zones as the levels engine saw them at the last refresh point before
    ``t`` (every ``refresh_hours`` on the UTC clock), from closed bars only. Returns the anchor
    (a cache key) and the zones, strongest role-independent: supports, resistances, at price."""
    step = refresh_hours * HOUR
    anchor_s = math.floor(_ts(t) / step) * step
    anchor = _dt(anchor_s)
    n = s.closed_hours(anchor)
    if n == 0:
        return anchor, ()
    price = float(s.h_close[n - 1])
    lo = int(np.searchsorted(s.h_t, anchor_s - 30 * DAY, side="left"))
    hourly = list(s.hourly[lo:n])
    nd = int(np.searchsorted(s.d_t, anchor_s - DAY, side="right"))  # closed daily bars
    ld = int(np.searchsorted(s.d_t, anchor_s - 420 * DAY, side="left"))
    daily = list(s.daily[ld:nd])
    result = find_levels(s.coin, price, daily, hourly, now=anchor - timedelta(seconds=1))
    if not result.ok:
        return anchor, ()
    zones = (*result.supports, *result.resistances, *((result.at_price,) if result.at_price else ()))
    return anchor, tuple(zones)


def inputs_at(
    s: CoinSeries,
    t: datetime,
    cfg: AlertConfig,
    *,
    price: float | None = None,
    change_24h_pct: float | None = None,
    change_1h_pct: float | None = None,
    live: bool = False,
    zones: Iterable[LevelZone] = (),
    parts: Collection[str] = ALL_PARTS,
    max_bar_age: timedelta = timedelta(hours=2),
) -> CoinInputs:
    """The rules' inputs for ``s.coin`` at ``t``. ``price`` (and ``change_24h_pct``) come from a
    live ticker when given; otherwise from the latest closed hourly bar, as in a replay. With
    ``live``, the moves are the ones given (computed by :func:`bot.services.moves.coin_move`,
    as /why computes them) and never derived from bars: one move, one number.
    Nothing older than ``max_bar_age`` counts as current. ``parts`` limits the work to the
    inputs some rules need (``hourly``, ``liq``, ``oi``, ``funding``)."""
    ts = _ts(t)
    n = s.closed_hours(t) if "hourly" in parts else 0
    fresh = n > 0 and ts - (float(s.h_t[n - 1]) + HOUR) <= max_bar_age.total_seconds()
    if price is None and fresh and not live:
        price = float(s.h_close[n - 1])
    change_1h = change_24h = None
    if live:
        change_1h, change_24h = change_1h_pct, change_24h_pct
    elif price is not None:
        base1 = _base_open(s, ts - HOUR)
        change_1h = (price / base1 - 1) * 100 if base1 else None
        if change_24h_pct is not None:
            change_24h = change_24h_pct
        else:
            base24 = _base_open(s, ts - DAY)
            change_24h = (price / base24 - 1) * 100 if base24 else None

    sigma_1h = sigma_24h = None
    if fresh:
        lo = int(np.searchsorted(s.h_t, ts - cfg.sigma_lookback_days * DAY, side="left"))
        # exclude the latest bar (and the latest day for 24h moves): a move is not measured
        # against a spread it inflated itself
        closes, times = s.h_close[lo : n - 1], s.h_t[lo : n - 1]
        if closes.size > 1:
            adjacent = np.diff(times) == HOUR
            sigma_1h = _sigma((closes[1:] / closes[:-1] - 1)[adjacent] * 100, 48)
        closes, times = s.h_close[lo : max(lo, n - 24)], s.h_t[lo : max(lo, n - 24)]
        if closes.size > 24:
            aligned = (times[24:] - times[:-24]) == DAY
            sigma_24h = _sigma((closes[24:] / closes[:-24] - 1)[aligned] * 100, 72)

    window = cfg.liq_window
    liq_usd = liq_long = baseline = baseline_days = None
    if "liq" in parts and s.covered_since is not None and s.covered_since <= t:
        start = t - window
        liq_usd, liq_long = s.liq_sum(start, t)
        b_end = _dt(math.floor(_ts(start) / HOUR) * HOUR)
        b_start = max(start - timedelta(days=cfg.liq_baseline_days), s.covered_since)
        span = b_end - b_start
        if span >= max(timedelta(days=1), 3 * window):
            baseline = s.liq_hours_sum(b_start, b_end) * (window / span)
            baseline_days = span.total_seconds() / DAY
    liq_oi = None
    if "liq" in parts and s.oi:
        recent = s.oi[bisect_left(s.oi_t, ts - 2 * HOUR) : bisect_right(s.oi_t, ts)]
        liq_oi = latest_oi_usd(recent, s.coin, t, timedelta(hours=2))

    oi_1h = oi_24h = oi_usd = None
    if "oi" in parts and s.oi:
        i = bisect_left(s.oi_t, ts - DAY - 6 * HOUR)
        j = bisect_right(s.oi_t, ts)
        points = s.oi[i:j]
        if points:
            f1 = oi_change(s.coin, points, now=t, window=timedelta(hours=1))
            f24 = oi_change(s.coin, points, now=t, window=timedelta(hours=24))
            oi_1h, oi_24h = f1.change_pct, f24.change_pct
            oi_usd = f24.end_usd if f24.end_usd is not None else f1.end_usd

    funding = None
    if "funding" in parts and s.funding:
        i = bisect_left(s.f_t, ts - 13 * HOUR)
        j = bisect_right(s.f_t, ts)
        if j > i:
            f = funding_state(s.coin, s.funding[i:j], now=t)
            funding = f.mean_8h if f.ok else None

    bar_time = last_close = prev_close = None
    if fresh and n >= 2 and s.h_t[n - 1] - s.h_t[n - 2] == HOUR:
        bar_time = _dt(float(s.h_t[n - 1]))
        last_close, prev_close = float(s.h_close[n - 1]), float(s.h_close[n - 2])

    return CoinInputs(
        coin=s.coin,
        now=t,
        price=price,
        change_1h_pct=change_1h,
        change_24h_pct=change_24h,
        sigma_1h_pct=sigma_1h,
        sigma_24h_pct=sigma_24h,
        liq_window=window,
        liq_usd=liq_usd,
        liq_long_usd=liq_long,
        liq_baseline_usd=baseline,
        liq_baseline_days=baseline_days,
        liq_oi_usd=liq_oi,
        oi_1h_pct=oi_1h,
        oi_24h_pct=oi_24h,
        oi_usd=oi_usd,
        funding_8h=funding,
        bar_time=bar_time,
        last_close=last_close,
        prev_close=prev_close,
        zones=tuple(zones),
    )


# -- observations ------------------------------------------------------------------------------


class Observation(BaseModel):
    """What one rule saw for one coin: ``score`` is the value over its threshold (``> 1``: past
    it). ``value`` and ``threshold`` are in the rule's own unit (%, USD, %/8h); the rest are
    the figures an alert states."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: RuleName
    coin: str
    at: datetime
    score: float = Field(ge=0)
    direction: Direction
    window: str  # "1h", "24h", "15m"
    value: float
    threshold: float
    basis: Basis
    sigma: float | None = None  # the σ a sigma-based threshold used
    price: float | None = None
    baseline_usd: float | None = None
    baseline_days: float | None = None
    liq_basis: LiqBasis | None = None  # the rung a liquidation spike was measured on
    basis_ratio: float | None = None  # × the own average, or % of open interest / volume
    basis_bar: float | None = None  # the ratio that basis alerts from
    own_needed_days: float | None = None  # history the own baseline needs before it takes over
    long_share: float | None = None
    zone: LevelZone | None = None
    zone_was: Literal["support", "resistance"] | None = None
    close: float | None = None
    bar_time: datetime | None = None
    oi_usd: float | None = None

    @property
    def triggered(self) -> bool:
        return self.score > 1.0

    @property
    def multiple(self) -> float | None:
        """Liquidations: the window's total over the coin's baseline."""
        if self.baseline_usd:
            return self.value / self.baseline_usd
        return None


def _window_label(window: timedelta) -> str:
    minutes = int(window.total_seconds() // 60)
    return f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"


def large_move(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    candidates: list[tuple[float, str, float, float, Basis, float | None]] = []
    for window, change, limit, sigma in (
        ("1h", i.change_1h_pct, cfg.move_1h_pct, i.sigma_1h_pct),
        ("24h", i.change_24h_pct, cfg.move_24h_pct, i.sigma_24h_pct),
    ):
        if change is None:
            continue
        candidates.append((abs(change) / limit, window, change, limit, "threshold", None))
        if sigma is not None and abs(change) >= cfg.sigma_min_move_pct:
            bar = cfg.sigma_k * sigma
            candidates.append((abs(change) / bar, window, change, bar, "sigma", sigma))
    if not candidates:
        return None
    score, window, change, limit, basis, sigma = max(candidates, key=lambda c: c[0])
    return Observation(
        rule="move",
        coin=i.coin,
        at=i.now,
        score=score,
        direction="up" if change > 0 else "down",
        window=window,
        value=change,
        threshold=limit,
        basis=basis,
        sigma=sigma,
        price=i.price,
    )


def liquidation_spike(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    """Past ``liq_multiple`` × the coin's 7-day average once the streams cover those days;
    before that past the open-interest band for the window (:mod:`bot.analysis.liq_basis`),
    so a cascade on a fresh install alerts. Always at least the floor."""
    if i.liq_usd is None:
        return None
    usd = i.liq_usd
    bands = cfg.liq_bands
    if bands.own_min_days > cfg.liq_baseline_days:
        bands = bands.model_copy(update={"own_min_days": cfg.liq_baseline_days})
    measured = size(
        usd,
        i.liq_window,
        own_basis="own_7d",
        baseline_usd=i.liq_baseline_usd,
        baseline_days=i.liq_baseline_days,
        oi_usd=i.liq_oi_usd,
        volume_usd=None,
        bands=bands,
        own_multiple=cfg.liq_multiple,
    )
    if measured is None and i.liq_baseline_usd is None:
        return None
    basis: LiqBasis = "own_7d" if measured is None else measured.basis
    own = basis in ("own_7d", "own_30d")
    by_basis = 0.0  # a zero own baseline with nothing else to compare: the floor alone
    if measured is not None:
        by_basis = measured.bar * measured.reference_usd / (1.0 if own else 100.0)
    limit = max(by_basis, cfg.liq_floor_usd)
    score = usd / limit if limit > 0 else (1e6 if usd > 0 else 0.0)
    long_share = (i.liq_long_usd or 0.0) / usd if usd > 0 else None
    return Observation(
        rule="liquidations",
        coin=i.coin,
        at=i.now,
        score=min(score, 1e6),
        direction="down" if long_share is None or long_share >= 0.5 else "up",
        window=_window_label(i.liq_window),
        value=usd,
        threshold=limit,
        basis="baseline" if by_basis >= cfg.liq_floor_usd else "floor",
        baseline_usd=i.liq_baseline_usd if own else None,
        baseline_days=i.liq_baseline_days if own else None,
        liq_basis=basis,
        basis_ratio=measured.ratio if measured is not None else None,
        basis_bar=measured.bar if measured is not None else None,
        own_needed_days=bands.own_min_days,
        oi_usd=i.liq_oi_usd,
        long_share=long_share,
        price=i.price,
    )


def level_break(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    """The latest closed bar against the zones: a break needs the previous close on the near
    side of the zone's far edge and this close beyond it by ``level_buffer_pct``. Without a
    break the score is 0 (so the state re-arms)."""
    if i.last_close is None or i.prev_close is None or i.bar_time is None:
        return None
    close, prev = i.last_close, i.prev_close
    best: tuple[float, LevelZone, Literal["support", "resistance"], Direction] | None = None
    for z in i.zones:
        if z.strength < cfg.level_min_strength:
            continue
        cand: tuple[float, LevelZone, Literal["support", "resistance"], Direction]
        if prev >= z.low and close < z.low:  # down through the bottom edge: support lost
            cand = ((z.low - close) / z.low * 100, z, "support", "down")
        elif prev <= z.high and close > z.high:  # up through the top edge: resistance broken
            cand = ((close - z.high) / z.high * 100, z, "resistance", "up")
        else:
            continue
        if best is None or cand[0] > best[0]:
            best = cand
    if best is None:
        return Observation(
            rule="level",
            coin=i.coin,
            at=i.now,
            score=0.0,
            direction="down" if close < prev else "up",
            window="1h",
            value=0.0,
            threshold=cfg.level_buffer_pct,
            basis="zone",
            close=close,
            bar_time=i.bar_time,
        )
    beyond, zone, was, direction = best
    return Observation(
        rule="level",
        coin=i.coin,
        at=i.now,
        score=beyond / cfg.level_buffer_pct,
        direction=direction,
        window="1h",
        value=beyond,
        threshold=cfg.level_buffer_pct,
        basis="zone",
        zone=zone,
        zone_was=was,
        close=close,
        bar_time=i.bar_time,
        price=i.price,
    )


def oi_flush(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    candidates = [
        (-change / limit, window, change, limit)
        for window, change, limit in (
            ("1h", i.oi_1h_pct, cfg.oi_drop_1h_pct),
            ("24h", i.oi_24h_pct, cfg.oi_drop_24h_pct),
        )
        if change is not None
    ]
    if not candidates:
        return None
    score, window, change, limit = max(candidates, key=lambda c: c[0])
    return Observation(
        rule="oi_flush",
        coin=i.coin,
        at=i.now,
        score=max(0.0, score),
        direction="down",
        window=window,
        value=change,
        threshold=-limit,
        basis="threshold",
        oi_usd=i.oi_usd,
        price=i.price,
    )


def funding_extreme(i: CoinInputs, cfg: AlertConfig) -> Observation | None:
    if i.funding_8h is None:
        return None
    rate_pct = i.funding_8h * 100
    return Observation(
        rule="funding",
        coin=i.coin,
        at=i.now,
        score=abs(rate_pct) / cfg.funding_band_pct,
        direction="up" if rate_pct > 0 else "down",
        window="8h",
        value=rate_pct,
        threshold=cfg.funding_band_pct if rate_pct >= 0 else -cfg.funding_band_pct,
        basis="band",
        price=i.price,
    )


RULE_FUNCTIONS: dict[RuleName, Callable[[CoinInputs, AlertConfig], Observation | None]] = {
    "move": large_move,
    "liquidations": liquidation_spike,
    "level": level_break,
    "oi_flush": oi_flush,
    "funding": funding_extreme,
}


def evaluate(
    inputs: CoinInputs, cfg: AlertConfig, rules: Iterable[RuleName] = RULES
) -> dict[RuleName, Observation]:
    """Every asked rule's observation for one coin (rules without their inputs are absent)."""
    out: dict[RuleName, Observation] = {}
    for rule in rules:
        obs = RULE_FUNCTIONS[rule](inputs, cfg)
        if obs is not None:
            out[rule] = obs
    return out
