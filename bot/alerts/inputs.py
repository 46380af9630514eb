"""What the rules read: one coin's history (:class:`CoinSeries`, loaded from the store by
:func:`load_series`) and its state at a time ``t`` (:class:`CoinInputs`, from :func:`inputs_at`).
The live engine and the backtest call the same code, so a replay says what the live bot would
have sent."""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from bot.alerts.config import AlertConfig
from bot.analysis.findings import LevelZone
from bot.analysis.levels import find_levels
from bot.analysis.liq_basis import latest_oi_usd
from bot.analysis.open_interest import oi_change
from bot.analysis.positioning import funding_state
from bot.models import Candle, Funding, OpenInterest

F64 = npt.NDArray[np.float64]

HOUR_S = 3600.0  # seconds
DAY_S = 86400.0
ALL_PARTS = frozenset({"hourly", "liq", "oi", "funding"})


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
        return int(np.searchsorted(self.h_t, _ts(t) - HOUR_S, side="right"))

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
    liq_volume_usd: float | None = None  # 24h quote volume: the yardstick without open interest
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
    if j < 0 or not (s.h_t[j] <= at < s.h_t[j] + HOUR_S):
        return None
    return float(s.h_open[j])


def zones_at(s: CoinSeries, t: datetime, refresh_hours: int) -> tuple[datetime, tuple[LevelZone, ...]]:
    """Support/resistance zones as the levels engine saw them at the last refresh point before
    ``t`` (every ``refresh_hours`` on the UTC clock), from closed bars only. Returns the anchor
    (a cache key) and the zones, strongest role-independent: supports, resistances, at price."""
    step = refresh_hours * HOUR_S
    anchor_s = math.floor(_ts(t) / step) * step
    anchor = _dt(anchor_s)
    n = s.closed_hours(anchor)
    if n == 0:
        return anchor, ()
    price = float(s.h_close[n - 1])
    lo = int(np.searchsorted(s.h_t, anchor_s - 30 * DAY_S, side="left"))
    hourly = list(s.hourly[lo:n])
    nd = int(np.searchsorted(s.d_t, anchor_s - DAY_S, side="right"))  # closed daily bars
    ld = int(np.searchsorted(s.d_t, anchor_s - 420 * DAY_S, side="left"))
    daily = list(s.daily[ld:nd])
    result = find_levels(s.coin, price, daily, hourly, now=anchor - timedelta(seconds=1))
    if not result.ok:
        return anchor, ()
    zones = (*result.supports, *result.resistances, *((result.at_price,) if result.at_price else ()))
    return anchor, tuple(zones)


def _move_sigmas(s: CoinSeries, n: int, ts: float, cfg: AlertConfig) -> tuple[float | None, float | None]:
    """The standard deviations of the coin's own 1h and 24h moves over the lookback, from the
    first ``n`` hourly bars."""
    sigma_1h = sigma_24h = None
    lo = int(np.searchsorted(s.h_t, ts - cfg.sigma_lookback_days * DAY_S, side="left"))
    # exclude the latest bar (and the latest day for 24h moves): a move is not measured
    # against a spread it inflated itself
    closes, times = s.h_close[lo : n - 1], s.h_t[lo : n - 1]
    if closes.size > 1:
        adjacent = np.diff(times) == HOUR_S
        sigma_1h = _sigma((closes[1:] / closes[:-1] - 1)[adjacent] * 100, 48)
    closes, times = s.h_close[lo : max(lo, n - 24)], s.h_t[lo : max(lo, n - 24)]
    if closes.size > 24:
        aligned = (times[24:] - times[:-24]) == DAY_S
        sigma_24h = _sigma((closes[24:] / closes[:-24] - 1)[aligned] * 100, 72)
    return sigma_1h, sigma_24h


def _volume_24h(s: CoinSeries, t: datetime) -> float | None:
    """The quote volume of the 24 closed hourly bars before ``t``, when every one is stored
    with its quote volume (a partial day would understate it and overstate a spike)."""
    day = [
        c
        for c in s.hourly
        if t - timedelta(hours=24) <= c.open_time and c.open_time + timedelta(hours=1) <= t
    ]
    if len(day) < 24 or any(c.quote_volume is None for c in day):
        return None
    return float(sum(c.quote_volume or 0.0 for c in day))


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
    fresh = n > 0 and ts - (float(s.h_t[n - 1]) + HOUR_S) <= max_bar_age.total_seconds()
    if price is None and fresh and not live:
        price = float(s.h_close[n - 1])
    change_1h = change_24h = None
    if live:
        change_1h, change_24h = change_1h_pct, change_24h_pct
    elif price is not None:
        base1 = _base_open(s, ts - HOUR_S)
        change_1h = (price / base1 - 1) * 100 if base1 else None
        if change_24h_pct is not None:
            change_24h = change_24h_pct
        else:
            base24 = _base_open(s, ts - DAY_S)
            change_24h = (price / base24 - 1) * 100 if base24 else None

    sigma_1h, sigma_24h = _move_sigmas(s, n, ts, cfg) if fresh else (None, None)

    window = cfg.liq_window
    liq_usd = liq_long = baseline = baseline_days = None
    if "liq" in parts and s.covered_since is not None and s.covered_since <= t:
        start = t - window
        liq_usd, liq_long = s.liq_sum(start, t)
        b_end = _dt(math.floor(_ts(start) / HOUR_S) * HOUR_S)
        b_start = max(start - timedelta(days=cfg.liq_baseline_days), s.covered_since)
        span = b_end - b_start
        if span >= max(timedelta(days=1), 3 * window):
            baseline = s.liq_hours_sum(b_start, b_end) * (window / span)
            baseline_days = span.total_seconds() / DAY_S
    liq_oi = None
    if "liq" in parts and s.oi:
        recent = s.oi[bisect_left(s.oi_t, ts - 2 * HOUR_S) : bisect_right(s.oi_t, ts)]
        liq_oi = latest_oi_usd(recent, s.coin, t, timedelta(hours=2))
    liq_volume = _volume_24h(s, t) if "liq" in parts else None

    oi_1h = oi_24h = oi_usd = None
    if "oi" in parts and s.oi:
        i = bisect_left(s.oi_t, ts - DAY_S - 6 * HOUR_S)
        j = bisect_right(s.oi_t, ts)
        points = s.oi[i:j]
        if points:
            f1 = oi_change(s.coin, points, now=t, window=timedelta(hours=1))
            f24 = oi_change(s.coin, points, now=t, window=timedelta(hours=24))
            oi_1h, oi_24h = f1.change_pct, f24.change_pct
            oi_usd = f24.end_usd if f24.end_usd is not None else f1.end_usd

    funding = None
    if "funding" in parts and s.funding:
        i = bisect_left(s.f_t, ts - 13 * HOUR_S)
        j = bisect_right(s.f_t, ts)
        if j > i:
            f = funding_state(s.coin, s.funding[i:j], now=t)
            funding = f.mean_8h if f.ok else None

    bar_time = last_close = prev_close = None
    if fresh and n >= 2 and s.h_t[n - 1] - s.h_t[n - 2] == HOUR_S:
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
        liq_volume_usd=liq_volume,
        oi_1h_pct=oi_1h,
        oi_24h_pct=oi_24h,
        oi_usd=oi_usd,
        funding_8h=funding,
        bar_time=bar_time,
        last_close=last_close,
        prev_close=prev_close,
        zones=tuple(zones),
    )
