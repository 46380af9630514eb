"""Section 10: the store after a simulated year, written through the store's own write paths
(``Store.upsert_*``, ``Store.insert_liquidations``) hour by hour at the collector's cadence, and
pruned by ``Store.prune`` every 6 simulated hours with the configured retention, as the
scheduler's ``prune`` job does. The file is then measured as it is on disk.

What each simulated hour writes, for every tracked coin (``bot.collector``, ``bot.jobs``):

- ``refresh_tickers`` (every minute): open interest from Bybit and OKX, funding from Binance,
  Bybit and OKX — one point per venue per minute, stamped a few hundred ms into the minute;
- ``refresh_derivatives``: the hourly open-interest history of all three venues (its daily
  points share the midnight hour's key), long/short account ratios on three venues, Binance's
  top-trader ratios by position and by account;
- ``refresh_candles``: the hour's 1h bar and, at midnight, the day's 1d bar, from one venue (the
  first that answers); the first run's backfill of 35 days of 1h and 400 days of 1d bars;
- ``refresh_markets``: a global-stats row every 5 minutes; tickers and the breadth snapshot
  (constant size: rewritten daily here);
- ``refresh_macro``: an hourly and, at midnight, a daily close for each of the 7 macro series
  (more than the markets' trading hours really give);
- the liquidation streams: Poisson events per coin and minute (``liq_rate`` events/s for the
  whole market at 100 coins, scaled by the number of coins, skewed to the big coins), with
  bursts — each day a random hour at 10×, every 30th day four hours at 40× — and a day-to-day
  log-normal factor; a reconnect per venue per day.

The shortcut (a year at full rate would insert ~270 million rows, hours of work): the dense
tables — raw liquidation events and their per-minute roll-ups, per-minute open interest and
funding — exist past a few days only as what the prune leaves of them, so

- raw liquidation events are written one by one only for the last ``retention + measure``
  days (enough for the retention window to be full when measuring); before that, each hour's
  events of one coin, side and venue arrive as ONE event carrying their sum, through the same
  ``insert_liquidations``: the hourly roll-up (kept for months) gets exactly the rows it would,
  and the raw rows and minute roll-ups they leave are pruned by the same prune;
- open interest and funding are written every minute only for the last ``dense`` days, so the
  real prune thins two days and more of them to one point per hour; before that only the
  points the thinning keeps (the first of each hour) are written.

Everything kept past the raw window (hourly roll-ups, 1h/1d candles, the hourly open-interest history,
funding, long/short and top-trader points, macro, global stats) is written for the full year.
Size = the main file after the last prune (incremental vacuum) and a WAL checkpoint; growth
per day = the difference between the last day and ``measure`` days before, per day.
"""

from __future__ import annotations

import math
import sqlite3
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bench.common import Sizes, progress
from bench.report import INFO, Row, median, size, status
from bot.models import (
    Candle,
    Funding,
    GlobalStats,
    Liquidation,
    LongShortRatio,
    MacroPoint,
    MarketEntry,
    OpenInterest,
    Ticker,
    TopTraderRatio,
)
from bot.providers.yahoo import SERIES
from bot.settings import JobSettings
from bot.store import Store

MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
PRUNE_EVERY_HOURS = 6  # bot.jobs: ("prune", collector.prune, 6 * 3600)
VENUES = ("binance", "bybit", "okx")
LIQ_VENUE_SHARE = (0.45, 0.35, 0.20)
LONG_SHARE = 0.55
OI_MINUTE = (("bybit", 137), ("okx", 412))  # the tickers job's OI: venue, ms into the minute
FUNDING_MINUTE = (("binance", 58), ("bybit", 137), ("okx", 412))
HOURLY_BACKFILL_DAYS = 35  # bot.collector.BACKFILL
DAILY_BACKFILL_DAYS = 400
BATCH_MINUTES = 5  # raw liquidation events handed to the store in 5-minute batches


@dataclass(frozen=True)
class YearSpec:
    path: Path
    symbols: tuple[str, ...]
    days: int = 365
    retention_days: int = JobSettings().retention_days  # the configured default
    dense_days: int = 5
    measure_days: int = 3
    liq_rate_per_s: float = 1.0
    seed: int = 20_261_205
    end: datetime = datetime(2026, 12, 1, tzinfo=UTC)

    @property
    def raw_days(self) -> int:
        return min(self.days, self.retention_days + self.measure_days)


@dataclass
class YearResult:
    spec: YearSpec
    seconds: float = 0.0
    sizes: dict[int, int] = field(default_factory=dict)  # day index -> bytes after its last prune
    wal_bytes: int = 0
    raw_events: int = 0  # events written one by one
    summed_events: int = 0  # events the summed ones stand for
    prune_seconds: list[float] = field(default_factory=list)  # each Store.prune call
    rows: dict[str, int] = field(default_factory=dict)
    tables: dict[str, int] = field(default_factory=dict)  # bytes per table with its indexes
    unused: dict[str, int] = field(default_factory=dict)  # free bytes inside those pages

    @property
    def final_bytes(self) -> int:
        return self.sizes[self.spec.days - 1]

    @property
    def growth_per_day(self) -> float:
        last = self.spec.days - 1
        first = max(0, last - self.spec.measure_days)
        return (self.sizes[last] - self.sizes[first]) / max(1, last - first)

    @property
    def mean_events_per_s(self) -> float:
        return self.raw_events / (self.spec.raw_days * 86_400)


def coin_price(i: int) -> float:
    return 90_000.0 / math.pow(1 + i, 2.2)


def coin_oi(i: int) -> float:
    return 9.5e9 / math.pow(1 + i, 1.3)


class _Sim:
    """The writes of one simulated hour at a time, in the order the jobs would make them."""

    def __init__(self, spec: YearSpec, store: Store, result: YearResult) -> None:
        self.spec = spec
        self.store = store
        self.result = result
        self.rng = np.random.default_rng(spec.seed)
        n = len(spec.symbols)
        weights = np.array([1.0 / math.pow(1 + i, 0.9) for i in range(n)])
        self.per_minute = weights / weights.sum() * spec.liq_rate_per_s * 60.0 * (n / 100.0)
        self.prices = np.array([coin_price(i) for i in range(n)])
        self.median_usd = np.array([25_000.0 / (1 + i) ** 0.5 for i in range(n)])
        self.start = spec.end - spec.days * DAY
        self.day_factor = 1.0
        self.burst_hours: dict[int, float] = {}

    # -- helpers -----------------------------------------------------------------------

    def _multiplier(self, hour: int) -> float:
        return self.day_factor * self.burst_hours.get(hour, 1.0)

    def _plan_day(self, day: int) -> None:
        self.day_factor = float(np.exp(self.rng.normal(0.0, 0.5) - 0.125))  # mean 1
        self.burst_hours = {int(self.rng.integers(0, 24)): 10.0}
        if day % 30 == 17:
            crash = int(self.rng.integers(0, 20))
            self.burst_hours.update({h: 40.0 for h in range(crash, crash + 4)})

    # -- one hour ----------------------------------------------------------------------

    def hour(self, t: datetime, dense: bool, raw: bool) -> None:
        s, syms = self.store, self.spec.symbols
        if dense:
            for m in range(60):
                at = t + m * MINUTE
                s.upsert_open_interest(
                    OpenInterest(
                        coin=c,
                        venue=v,
                        ts=at + timedelta(milliseconds=off),
                        oi_usd=self._oi(i, at),
                        oi_coin=None,
                    )
                    for v, off in OI_MINUTE
                    for i, c in enumerate(syms)
                )
                s.upsert_funding(self._funding(at, FUNDING_MINUTE))
        else:  # what the thinning keeps: the first point of the hour (OI: the history's, below)
            s.upsert_funding(self._funding(t, FUNDING_MINUTE))
        s.upsert_open_interest(
            OpenInterest(coin=c, venue=v, ts=t, oi_usd=self._oi(i, t), oi_coin=None)
            for v in VENUES
            for i, c in enumerate(syms)
        )
        s.upsert_long_short(
            LongShortRatio(coin=c, venue=v, ts=t, long_share=0.5 + 0.1 * math.sin(k + i))
            for k, v in enumerate(VENUES)
            for i, c in enumerate(syms)
        )
        s.upsert_top_traders(
            TopTraderRatio(coin=c, venue="binance", basis=b, ts=t, long_share=0.52)
            for b in ("position", "account")
            for c in syms
        )
        s.upsert_candles(self._bars(t - HOUR, "1h"))
        if t.hour == 0:
            s.upsert_candles(self._bars(t - DAY, "1d"))
        s.upsert_macro(self._macro(t - HOUR, "1h"))
        if t.hour == 0:
            s.upsert_macro(self._macro(t - DAY, "1d"))
        s.upsert_global(
            GlobalStats(
                ts=t + k * 5 * MINUTE,
                source="coingecko",
                total_market_cap_usd=3.1e12,
                market_cap_change_24h_pct=-1.2,
                btc_dominance_pct=57.0,
                eth_dominance_pct=11.5,
            )
            for k in range(12)
        )
        if raw:
            self._raw_liquidations(t)
        else:
            self._summed_liquidations(t)

    def _oi(self, i: int, at: datetime) -> float:
        return coin_oi(i) * (1 + 0.06 * math.sin(at.timestamp() / 174_000 + i))

    def _funding(self, at: datetime, venues: tuple[tuple[str, int], ...]) -> list[Funding]:
        return [
            Funding(
                coin=c,
                venue=v,
                ts=at + timedelta(milliseconds=off),
                rate=0.0001 * (1 + 0.8 * math.sin(at.timestamp() / 174_000 + i)),
                interval_hours=8.0,
            )
            for v, off in venues
            for i, c in enumerate(self.spec.symbols)
        ]

    def _bars(self, at: datetime, interval: str) -> list[Candle]:
        out = []
        for i, c in enumerate(self.spec.symbols):
            p = coin_price(i) * (1 + 0.05 * math.sin(at.timestamp() / 90_000 + i))
            out.append(
                Candle(
                    coin=c,
                    venue="binance",
                    market="spot",
                    interval=interval,
                    open_time=at,
                    open=p,
                    high=p * 1.004,
                    low=p * 0.995,
                    close=p * 1.001,
                    volume=1e6 / p,
                    quote_volume=1e6 * (1 + i % 7),
                    taker_buy_quote=5e5 * (1 + i % 7),
                )
            )
        return out

    def _macro(self, at: datetime, interval: str) -> list[MacroPoint]:
        return [
            MacroPoint(series=k, symbol=sym, source="yahoo", interval=interval, ts=at, close=4_000.0 + j)
            for j, (k, sym) in enumerate(SERIES.items())
        ]

    def _raw_liquidations(self, t: datetime) -> None:
        """Every event of the hour, in time order, handed over in 5-minute batches."""
        rng = self.rng
        counts = rng.poisson(np.repeat(self.per_minute[:, None] * self._multiplier(t.hour), 60, axis=1))
        coin_idx, minute_idx = np.nonzero(counts)
        reps = counts[coin_idx, minute_idx]
        total = int(reps.sum())
        if not total:
            return
        coin = np.repeat(coin_idx, reps)
        ts = (np.repeat(minute_idx, reps) * 60_000 + rng.integers(0, 60_000, total)).astype(np.int64)
        venue = rng.choice(3, total, p=LIQ_VENUE_SHARE)
        short = rng.random(total) >= LONG_SHARE
        usd = self.median_usd[coin] * np.exp(rng.standard_normal(total) * 1.1)
        price = self.prices[coin] * (1 + rng.standard_normal(total) * 0.01)
        order = np.argsort(ts, kind="stable")
        base = t.timestamp()
        events = [
            Liquidation(
                venue=VENUES[v],
                coin=self.spec.symbols[c],
                side="short" if sh else "long",
                price=p,
                qty=u / p,
                usd=u,
                ts=datetime.fromtimestamp(base + ms / 1000, UTC),
                event_id=f"{self.spec.symbols[c]}USDT:{int(base * 1000) + ms}:{k}",
            )
            for k, (c, ms, v, sh, u, p) in enumerate(
                zip(
                    coin[order].tolist(),
                    ts[order].tolist(),
                    venue[order].tolist(),
                    short[order].tolist(),
                    usd[order].tolist(),
                    price[order].tolist(),
                    strict=True,
                )
            )
        ]
        step = BATCH_MINUTES * 60_000
        cut = 0
        bounds = ts[order]
        for edge in range(step, 3_600_001, step):
            end = int(np.searchsorted(bounds, edge))
            if end > cut:
                self.store.insert_liquidations(events[cut:end])
            cut = end
        self.result.raw_events += total

    def _summed_liquidations(self, t: datetime) -> None:
        """The hour's events of each coin, side and venue as one event carrying their sum: the
        hourly roll-up gets the row the events would give it."""
        rng, syms = self.rng, self.spec.symbols
        lam = self.per_minute * 60.0 * self._multiplier(t.hour)
        shares = np.outer([LONG_SHARE, 1 - LONG_SHARE], LIQ_VENUE_SHARE)  # side × venue
        counts = rng.poisson(lam[:, None, None] * shares[None, :, :])  # coin × side × venue
        events = []
        stamp = int(t.timestamp() * 1000)
        for c, side, v in zip(*np.nonzero(counts), strict=True):
            k = int(counts[c, side, v])
            usd = float(self.median_usd[c] * k * math.exp(0.605))  # the log-normal's mean × count
            price = float(self.prices[c])
            events.append(
                Liquidation(
                    venue=VENUES[v],
                    coin=syms[c],
                    side=("long", "short")[side],
                    price=price,
                    qty=usd / price,
                    usd=usd,
                    ts=t + timedelta(milliseconds=int(rng.integers(0, 3_600_000))),
                    event_id=f"{syms[c]}USDT:{stamp}:{side}:{v}",
                )
            )
            self.result.summed_events += k
        events.sort(key=lambda e: e.ts)
        self.store.insert_liquidations(events)

    # -- once a day ----------------------------------------------------------------------

    def daily(self, t: datetime) -> None:
        s, syms = self.store, self.spec.symbols
        s.upsert_tickers(
            (
                Ticker(
                    coin=c,
                    venue=v,
                    market=m,
                    price=coin_price(i),
                    change_24h_pct=1.0,
                    change_7d_pct=None,
                    high_24h=coin_price(i) * 1.03,
                    low_24h=coin_price(i) * 0.97,
                    quote_volume_24h=2e9 / (1 + i),
                    market_cap=None,
                    ts=t,
                )
                for v, m in (("binance", "spot"), ("binance", "perp"), ("bybit", "perp"), ("okx", "perp"))
                for i, c in enumerate(syms)
            ),
            t,
        )
        s.replace_breadth(
            (
                MarketEntry(id=f"cg-{k}", symbol=f"C{k}", change_24h_pct=1.0, market_cap=1e9 / (1 + k))
                for k in range(100)
            ),
            t,
        )
        for v in VENUES:  # a reconnect per venue per day
            s.close_stream_session(v, t)
            s.open_stream_session(v, t + timedelta(seconds=3))

    def backfill(self) -> None:
        """The first run's candle and derivatives history, before the first simulated hour."""
        t0 = self.start
        for h in range(HOURLY_BACKFILL_DAYS * 24, 0, -1):
            self.store.upsert_candles(self._bars(t0 - h * HOUR, "1h"))
        for d in range(DAILY_BACKFILL_DAYS, 0, -1):
            self.store.upsert_candles(self._bars(t0 - d * DAY, "1d"))
        for h in range(48, 0, -1):
            at = t0 - h * HOUR
            self.store.upsert_open_interest(
                OpenInterest(coin=c, venue=v, ts=at, oi_usd=self._oi(i, at), oi_coin=None)
                for v in VENUES
                for i, c in enumerate(self.spec.symbols)
            )
        for d in range(31, 2, -1):
            at = t0 - d * DAY
            self.store.upsert_open_interest(
                OpenInterest(coin=c, venue=v, ts=at, oi_usd=self._oi(i, at), oi_coin=None)
                for v in VENUES
                for i, c in enumerate(self.spec.symbols)
            )


def file_bytes(store: Store) -> tuple[int, int]:
    """The main file and the WAL after a checkpoint that truncates the WAL (measuring only)."""
    with store.lock:
        store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    path = Path(store.path)
    wal = Path(store.path + "-wal")
    return path.stat().st_size, wal.stat().st_size if wal.exists() else 0


def table_bytes(path: Path) -> tuple[dict[str, int], dict[str, int]]:
    """Bytes per table with its indexes, and the unused bytes inside those pages (``dbstat``)."""
    conn = sqlite3.connect(path)
    try:
        owner = dict(
            conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")
        )
        size: dict[str, int] = defaultdict(int)
        unused: dict[str, int] = defaultdict(int)
        for name, pages, free in conn.execute(
            "SELECT name, SUM(pgsize), SUM(unused) FROM dbstat GROUP BY name"
        ):
            size[owner.get(name, name)] += int(pages)
            unused[owner.get(name, name)] += int(free)
        return dict(size), dict(unused)
    except sqlite3.OperationalError:  # SQLite built without dbstat
        return {}, {}
    finally:
        conn.close()


ROW_TABLES = (
    "liquidations",
    "liq_minute",
    "liq_hour",
    "open_interest",
    "funding",
    "long_short",
    "top_traders",
    "candles",
    "macro",
    "global_stats",
)


def simulate_year(spec: YearSpec, report: Callable[[str], None] = lambda _m: None) -> YearResult:
    started = time.perf_counter()
    if spec.path.exists():
        spec.path.unlink()
    result = YearResult(spec)
    store = Store(spec.path)
    # speed only, not layout: no fsync per commit (durability) and a larger page cache
    store.conn.execute("PRAGMA synchronous=OFF")
    store.conn.execute("PRAGMA cache_size=-262144")
    try:
        sim = _Sim(spec, store, result)
        with store.batch():
            sim.backfill()
        retention = timedelta(days=spec.retention_days)
        for day in range(spec.days):
            t_day = sim.start + day * DAY
            sim._plan_day(day)
            dense = day >= spec.days - spec.dense_days
            raw = day >= spec.days - spec.raw_days
            for block in range(0, 24, PRUNE_EVERY_HOURS):
                # the writes between two prunes in one transaction: the same rows in the same
                # order as the jobs' own transactions, with fewer commits
                with store.batch():
                    if block == 0:
                        sim.daily(t_day)
                    for h in range(block, block + PRUNE_EVERY_HOURS):
                        sim.hour(t_day + h * HOUR, dense, raw)
                began = time.perf_counter()
                store.prune(t_day + (block + PRUNE_EVERY_HOURS) * HOUR, retention)
                result.prune_seconds.append(time.perf_counter() - began)
            if day >= spec.days - spec.measure_days - 1:
                result.sizes[day], result.wal_bytes = file_bytes(store)
            if day % 30 == 29 or day >= spec.days - spec.dense_days - 1:
                report(
                    f"  simulated day {day + 1}/{spec.days} "
                    f"({Path(store.path).stat().st_size / 1e6:,.0f} MB, {time.perf_counter() - started:.0f} s)"
                )
        result.rows = {t: store.count(t) for t in ROW_TABLES}
    finally:
        store.close()
    result.tables, result.unused = table_bytes(spec.path)
    result.seconds = time.perf_counter() - started
    return result


SIZE_GOAL_BYTES = 2_000_000_000


def signed(n_bytes: float) -> str:
    return ("−" if n_bytes < 0 else "") + size(abs(n_bytes))


def year_rows(result: YearResult) -> list[Row]:
    """Section 10's two rows: the size after the simulated year (goal ≤ 2 GB) and the growth
    per day at steady state, with where the bytes go."""
    spec = result.spec
    coins, final, growth = len(spec.symbols), result.final_bytes, result.growth_per_day
    total = sum(result.tables.values()) or 1
    where = ", ".join(
        f"{name} {size(value)} ({value / total:.0%}, {result.unused.get(name, 0) / max(value, 1):.0%} free "
        f"in its pages; {result.rows[name]:,} rows)"
        if name in result.rows
        else f"{name} {size(value)}"
        for name, value in sorted(result.tables.items(), key=lambda kv: -kv[1])[:8]
    )
    last = sorted(result.sizes.items())
    shortcut = (
        f"Written hour by hour through the store's own write paths and pruned every {PRUNE_EVERY_HOURS} simulated "
        f"hours by Store.prune with the configured retention ({spec.retention_days} d). Shortcut: raw liquidation "
        f"events one by one only for the last {spec.raw_days} days ({result.raw_events:,} events, "
        f"{result.mean_events_per_s:.2f}/s on average with the bursts; before that each hour's events of one coin, "
        f"side and venue as one event carrying their sum, {result.summed_events:,} events in all: the hourly "
        f"roll-ups get the rows they would); open interest and funding every minute only for the last "
        f"{spec.dense_days} days (the prune thins what is older than 48 h), before that the first point of each "
        "hour, which is what the thinning keeps. Everything kept longer is written for every day. "
        "Size = the main file after the day's last prune (incremental vacuum) and a WAL checkpoint."
    )
    return [
        Row(
            "10",
            f"store size after a simulated year · {coins} coins · {spec.days} d",
            size(final),
            f"simulated in {result.seconds:,.0f} s; WAL {size(result.wal_bytes)} after a checkpoint",
            f"≤ {size(SIZE_GOAL_BYTES)}",
            status(final <= SIZE_GOAL_BYTES),
            note=(
                f"{shortcut} Where the bytes go (tables with their indexes): {where}. Store.prune took "
                f"{median(result.prune_seconds) * 1000:,.0f} ms at the median, {max(result.prune_seconds):,.1f} s "
                "at the longest (each of its statements holds the write lock while it runs)."
            ),
            values={
                "coins": coins,
                "days": spec.days,
                "bytes": final,
                "seconds": result.seconds,
                "raw_events": result.raw_events,
                "prune_max_s": max(result.prune_seconds),
                "tables": dict(result.tables),
            },
        ),
        Row(
            "10",
            f"store growth per day at steady state · {coins} coins",
            f"{signed(growth)} per day ({signed(growth / max(coins, 1))} per coin)",
            f"{signed(growth * 365)} a year",
            "report",
            INFO,
            note=(
                "The file after each of the last simulated days: "
                + ", ".join(f"day {d + 1} {size(b)}" for d, b in last)
                + f"; growth = (day {last[-1][0] + 1} − day {last[0][0] + 1}) / {last[-1][0] - last[0][0]}. "
                "Only what Store.prune keeps past the raw window can grow (hourly liquidation roll-ups, open "
                "interest, funding, long/short and top-trader points, 1h candles, macro, global stats: for 120 "
                "days; 1d bars and closes: for 800 days); the raw events, minute roll-ups and every-minute "
                "points stay at their window, so the day-to-day difference follows the liquidation volume of "
                "the day entering and the day leaving the raw window (each day's log-normal factor, the bursts): "
                "over a few days it is noise around zero, not a trend."
            ),
            values={"coins": coins, "bytes_per_day": growth, "sizes": {str(d + 1): b for d, b in last}},
        ),
    ]


def run_year(sizes: Sizes, workdir: Path, symbols: tuple[str, ...]) -> list[Row]:
    spec = YearSpec(
        workdir / "store-year.db",
        symbols[: sizes.max_coins],
        days=sizes.year_days,
        liq_rate_per_s=sizes.liq_rate,
    )
    progress(f"simulating {spec.days} days at {len(spec.symbols)} coins through the store's write paths")
    return year_rows(simulate_year(spec, progress))
