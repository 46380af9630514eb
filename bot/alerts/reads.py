"""Reading the store for the alert rules: one coin's :class:`~bot.alerts.inputs.CoinSeries`
(only the parts the asked rules need), the level zones cached per refresh anchor, and every
coin's inputs for one evaluation cycle."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.alerts.config import AlertConfig, RuleName
from bot.alerts.inputs import CoinInputs, CoinSeries, inputs_at, zones_at
from bot.analysis.coverage import coverage
from bot.analysis.findings import LevelZone
from bot.clock import from_ms
from bot.models import Candle, OpenInterest
from bot.services.market import best_ticker
from bot.services.moves import coin_move
from bot.store import Store

# The data each rule reads.
_PARTS: dict[RuleName, frozenset[str]] = {
    "move": frozenset({"hourly"}),
    "level": frozenset({"hourly"}),
    "liquidations": frozenset({"liq"}),
    "oi_flush": frozenset({"oi"}),
    "funding": frozenset({"funding"}),
}


# -- reading the store -------------------------------------------------------------------------


def _aggregate_liq(rows: Iterable[dict[str, Any]]) -> list[tuple[datetime, float, float]]:
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        acc = sums[int(r["minute"])]
        acc[0] += r["usd"]
        if r["side"] == "long":
            acc[1] += r["usd"]
    return [(from_ms(ms), usd, long) for ms, (usd, long) in sorted(sums.items())]


def load_series(
    store: Store,
    coin: str,
    start: datetime,
    end: datetime,
    cfg: AlertConfig,
    parts: Collection[str],
    *,
    daily: bool = False,
) -> CoinSeries:
    """What the rules need to evaluate ``coin`` at any time in ``[start, end]``."""
    hourly: tuple[Candle, ...] = ()
    daily_bars: tuple[Candle, ...] = ()
    if "hourly" in parts or daily:
        since = start - timedelta(days=(30 if daily else 0) + cfg.sigma_lookback_days + 2)
        hourly = tuple(store.candles(coin, "1h", since, end))
    if daily:
        daily_bars = tuple(store.candles(coin, "1d", start - timedelta(days=422), end))
    oi: tuple[OpenInterest, ...] = ()
    if "oi" in parts:
        oi = tuple(store.open_interest(coin, start - timedelta(hours=32)))
    elif "liq" in parts:  # open interest: the spike's yardstick before a baseline exists
        live = start == end
        oi = tuple(
            store.oi_points(coin, [end], after=False)
            if live
            else store.open_interest(coin, start - timedelta(hours=2))
        )
    funding = tuple(store.funding(coin, start - timedelta(hours=14))) if "funding" in parts else ()
    minutes: list[tuple[datetime, float, float]] = []
    hours: list[tuple[datetime, float]] = []
    covered: datetime | None = None
    if "liq" in parts:
        window = cfg.liq_window
        minutes = _aggregate_liq(
            store.liq_buckets(
                coin, start - window - timedelta(minutes=1), end + timedelta(minutes=1), hourly=False
            )
        )
        b_start = start - window - timedelta(days=cfg.liq_baseline_days, hours=1)
        hours = [(t, usd) for t, usd, _ in _aggregate_liq(store.liq_buckets(coin, b_start, end, hourly=True))]
        sessions = store.stream_sessions(b_start)
        covered = coverage(sessions, b_start, end).covered_since
    return CoinSeries(
        coin=coin,
        hourly=hourly,
        daily=daily_bars,
        oi=oi,
        funding=funding,
        liq_minutes=minutes,
        liq_hours=hours,
        covered_since=covered,
    )


def parts_for(rules: Iterable[RuleName]) -> frozenset[str]:
    return frozenset().union(*(_PARTS.get(r, frozenset()) for r in rules))


class ZoneCache:
    """Support/resistance zones per coin, recomputed every ``level_refresh_hours`` (the same
    schedule the backtest uses, so a replay sees the zones the live bot saw)."""

    def __init__(self) -> None:
        self._zones: dict[tuple[str, datetime], tuple[LevelZone, ...]] = {}

    @staticmethod
    def anchor(t: datetime, hours: int) -> datetime:
        step_s = hours * 3600
        return datetime.fromtimestamp(math.floor(t.timestamp() / step_s) * step_s, tz=UTC)

    def get(self, coin: str, anchor: datetime) -> tuple[LevelZone, ...] | None:
        return self._zones.get((coin, anchor))

    def put(self, coin: str, anchor: datetime, zones: tuple[LevelZone, ...]) -> None:
        for key in [k for k in self._zones if k[0] == coin and k[1] != anchor]:
            del self._zones[key]
        self._zones[(coin, anchor)] = zones

    def zones(self, series: CoinSeries, t: datetime, hours: int) -> tuple[LevelZone, ...]:
        anchor = self.anchor(t, hours)
        found = self.get(series.coin, anchor)
        if found is None:
            _, found = zones_at(series, t, hours)
            self.put(series.coin, anchor, found)
        return found


def gather_inputs(
    store: Store,
    coins: Sequence[str],
    rules: Collection[RuleName],
    now: datetime,
    cfg: AlertConfig,
    *,
    stale_after: timedelta,
    zones: ZoneCache,
) -> dict[str, CoinInputs]:
    """The rules' inputs for every coin at ``now`` (one worker-thread call): the live price is
    the best ticker while it is fresh, as in /price and /why."""
    parts = parts_for(rules)
    tickers = best_ticker(store.tickers()) if "move" in rules else {}
    out: dict[str, CoinInputs] = {}
    for coin in coins:
        need_zones = (
            "level" in rules and zones.get(coin, ZoneCache.anchor(now, cfg.level_refresh_hours)) is None
        )
        series = load_series(store, coin, now, now, cfg, parts, daily=need_zones)
        level_zones = zones.zones(series, now, cfg.level_refresh_hours) if "level" in rules else ()
        t = tickers.get(coin)
        live = t if t is not None and now - t.ts <= stale_after else None
        out[coin] = inputs_at(
            series,
            now,
            cfg,
            price=live.price if live else None,
            # the moves /why states, from the same function: no move alert on a stale price
            change_1h_pct=coin_move(store, live, "1h", now) if live else None,
            change_24h_pct=coin_move(store, live, "24h", now) if live else None,
            live="move" in rules,
            zones=level_zones,
            parts=parts,
        )
    return out
