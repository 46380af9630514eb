"""A generated store shaped like one a ``tapewatch run`` would hold after ``days`` days with
``coins`` tracked coins, written in bulk (raw SQL) into the store's own schema.

What the collectors and streams write, at their cadence:

- tickers: 5 per coin (Binance spot and perp, Bybit, OKX, CoinGecko), seconds old;
- open interest: every minute from the Bybit and OKX batch tickers (``refresh_tickers`` stores
  a new point per venue per run, stamped with the venue's response time) plus the hourly and
  daily history of ``refresh_derivatives`` from all three venues;
- funding: every minute from Binance ``premiumIndex``, Bybit tickers and OKX ``funding-rate``;
- long/short account ratios: hourly, three venues;
- candles: Binance spot 1h for 35 + ``days`` days (the 35-day backfill, then appended) and 1d
  for 400 + ``days`` days, a fat-tailed random walk per coin;
- liquidations: Poisson events per coin and minute (``liq_rate_per_s`` for the whole market at
  100 coins, scaled by the number of coins), on three venues, kept raw (retention is 35 days)
  with the per-minute and hourly roll-ups computed by the store's own aggregate SQL;
- stream sessions with a short daily reconnect per venue; macro series; CoinGecko breadth and
  global stats; a ``source_health`` row per source.

Series are generated backwards from ``now`` with fixed seeds, so a 7-day store is exactly the
last 7 days of the 30-day one: a handler reading both differs only by the older history.
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from bot.clock import to_ms
from bot.providers.yahoo import SERIES
from bot.store import Store

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
HOURLY_BACKFILL_DAYS = 35  # bot.collector.BACKFILL["1h"]
DAILY_BACKFILL_DAYS = 400  # bot.collector.BACKFILL["1d"]
LIQ_VENUES = ("binance", "bybit", "okx")
LIQ_VENUE_SHARE = (0.45, 0.35, 0.20)
# per-minute points from the tickers job: (venue, ms after the minute, share of the coin's OI)
OI_MINUTE_VENUES = (("bybit", 137, 0.62), ("okx", 412, 0.38))
FUNDING_MINUTE_VENUES = (("binance", 58, 8.0), ("bybit", 137, 8.0), ("okx", 412, 8.0))


@dataclass(frozen=True)
class GenSpec:
    path: Path
    symbols: tuple[str, ...]
    days: int
    now: datetime
    liq_rate_per_s: float = 1.0  # market-wide events per second at 100 tracked coins
    seed: int = 20_260_310


@dataclass(frozen=True)
class GenResult:
    path: Path
    symbols: tuple[str, ...]
    days: int
    now: datetime
    seconds: float
    rows: dict[str, int]
    bytes: int

    @property
    def coins(self) -> int:
        return len(self.symbols)


def floor_minute(t: datetime) -> datetime:
    return t.replace(second=0, microsecond=0)


def coin_price(index: int) -> float:
    return 90_000.0 / math.pow(1 + index, 2.2)


def coin_oi(index: int) -> float:
    return 9.5e9 / math.pow(1 + index, 1.3)


def liq_weight(index: int) -> float:
    return 1.0 / math.pow(1 + index, 0.9)


def generate_store(spec: GenSpec) -> GenResult:
    started = time.perf_counter()
    if spec.path.exists():
        spec.path.unlink()
    Store(spec.path).close()  # the schema, by the store's own migrations
    conn = sqlite3.connect(spec.path)
    conn.execute("PRAGMA journal_mode=DELETE")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-262144")
    conn.execute("PRAGMA temp_store=MEMORY")
    try:
        with conn:
            _coins_table(conn, spec)
            _candles(conn, spec)
            _tickers(conn, spec)
            _per_minute(conn, spec)
            _hourly_derivatives(conn, spec)
            _liquidations(conn, spec)
            _sessions(conn, spec)
            _market(conn, spec)
            _health(conn, spec)
            conn.execute("DROP TABLE temp.bench_coins")
        rows = {
            table: conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]
            for table in (
                "candles",
                "open_interest",
                "funding",
                "long_short",
                "liquidations",
                "liq_minute",
                "liq_hour",
            )
        }
        conn.execute("PRAGMA journal_mode=WAL")  # as the store runs it
    finally:
        conn.close()
    return GenResult(
        spec.path,
        spec.symbols,
        spec.days,
        spec.now,
        time.perf_counter() - started,
        rows,
        spec.path.stat().st_size,
    )


def _coins_table(conn: sqlite3.Connection, spec: GenSpec) -> None:
    conn.execute(
        "CREATE TEMP TABLE bench_coins (coin TEXT PRIMARY KEY, k INTEGER, price REAL, oi REAL) WITHOUT ROWID"
    )
    conn.executemany(
        "INSERT INTO temp.bench_coins VALUES (?, ?, ?, ?)",
        [(c, i, coin_price(i), coin_oi(i)) for i, c in enumerate(spec.symbols)],
    )


def _walk(rng: np.random.Generator, n: int, last: float, vol: float) -> np.ndarray:
    """``n`` closes ending at ``last``, drawn backwards (the first draws are the newest bars)."""
    steps = rng.standard_t(4, n) * vol / math.sqrt(2.0)
    back = np.concatenate(([0.0], np.cumsum(steps[: n - 1])))
    closes: np.ndarray = last * np.exp(-back)[::-1]
    return closes


def _bars(
    rng: np.random.Generator, closes: np.ndarray, vol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    opens = np.concatenate(([closes[0]], closes[:-1]))
    wick = np.abs(rng.standard_normal((2, len(closes)))) * vol * 0.6
    highs = np.maximum(opens, closes) * (1 + wick[0])
    lows = np.minimum(opens, closes) * (1 - wick[1])
    return opens, highs, lows


def _candles(conn: sqlite3.Connection, spec: GenSpec) -> None:
    now_ms = to_ms(spec.now)
    hour0 = now_ms // HOUR_MS * HOUR_MS
    day0 = now_ms // DAY_MS * DAY_MS
    rows: list[tuple[object, ...]] = []
    for i, coin in enumerate(spec.symbols):
        price = coin_price(i)
        for interval, step, count, vol in (
            ("1h", HOUR_MS, (HOURLY_BACKFILL_DAYS + spec.days) * 24, 0.0065),
            ("1d", DAY_MS, DAILY_BACKFILL_DAYS + spec.days, 0.032),
        ):
            rng = np.random.default_rng((spec.seed, i, step))
            closes = _walk(rng, count, price, vol)
            opens, highs, lows = _bars(rng, closes, vol)
            volume = np.abs(rng.standard_normal(count)) * 1e6 / price + 1.0
            last = hour0 if interval == "1h" else day0
            first = last - (count - 1) * step
            for k in range(count):
                qv = float(volume[k] * closes[k])
                rows.append(
                    (
                        coin,
                        "binance",
                        "spot",
                        interval,
                        first + k * step,
                        float(opens[k]),
                        float(highs[k]),
                        float(lows[k]),
                        float(closes[k]),
                        float(volume[k]),
                        qv,
                        qv * 0.5,
                    )
                )
    conn.executemany("INSERT INTO candles VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def _tickers(conn: sqlite3.Connection, spec: GenSpec) -> None:
    ts = to_ms(spec.now) - 20_000
    fetched = to_ms(spec.now) - 15_000
    rows: list[tuple[object, ...]] = []
    for i, coin in enumerate(spec.symbols):
        price = coin_price(i)
        change = 3.0 * math.sin(i * 1.7) - 1.0
        for venue, market in (
            ("binance", "spot"),
            ("binance", "perp"),
            ("bybit", "perp"),
            ("okx", "perp"),
            ("coingecko", "spot"),
        ):
            cap = price * 1e9 / (1 + i) if venue == "coingecko" else None
            rows.append(
                (
                    coin,
                    venue,
                    market,
                    price,
                    change,
                    change * 2.1 if venue in ("binance", "coingecko") and market == "spot" else None,
                    price * 1.03,
                    price * 0.96,
                    2e9 / (1 + i),
                    cap,
                    ts,
                    fetched,
                )
            )
    conn.executemany("INSERT INTO tickers VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)


def _per_minute(conn: sqlite3.Connection, spec: GenSpec) -> None:
    """Open interest and funding at the tickers job's cadence, generated inside SQLite (tens of
    millions of rows at 100 coins × 30 days) in primary-key order (coin, venue, time)."""
    minutes = spec.days * 1440
    start = to_ms(spec.now) // MINUTE_MS * MINUTE_MS - (minutes - 1) * MINUTE_MS
    # waves of t = minutes before now, so every store agrees on its newest days; a coin's phase
    # k enters through sin(a + k) = sin a cos k + cos a sin k, keeping the row loop arithmetic
    conn.execute(
        "CREATE TEMP TABLE bench_minutes (i INTEGER PRIMARY KEY, s1 REAL, c1 REAL, s2 REAL, c2 REAL)"
    )
    conn.execute(
        "WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < ?) "
        "INSERT INTO temp.bench_minutes SELECT i, sin((? - i) / 2900.0), cos((? - i) / 2900.0), "
        "sin((? - i) / 17.0), cos((? - i) / 17.0) FROM m",
        (minutes - 1, minutes, minutes, minutes, minutes),
    )
    conn.execute("ALTER TABLE temp.bench_coins ADD COLUMN sk REAL")
    conn.execute("ALTER TABLE temp.bench_coins ADD COLUMN ck REAL")
    conn.execute("UPDATE temp.bench_coins SET sk = sin(k), ck = cos(k)")
    conn.execute(
        "CREATE TEMP TABLE bench_venues (venue TEXT PRIMARY KEY, off INTEGER, share REAL) WITHOUT ROWID"
    )
    conn.executemany("INSERT INTO temp.bench_venues VALUES (?,?,?)", OI_MINUTE_VENUES)
    conn.execute(
        "INSERT INTO open_interest (coin, venue, ts_ms, oi_usd, oi_coin) "
        "SELECT c.coin, v.venue, ? + m.i * 60000 + v.off, "
        "c.oi * v.share * (1 + 0.06 * (m.s1 * c.ck + m.c1 * c.sk) + 0.004 * (m.s2 * c.ck + m.c2 * c.sk)), "
        "c.oi * v.share / c.price "
        "FROM temp.bench_coins c CROSS JOIN temp.bench_venues v CROSS JOIN temp.bench_minutes m "
        "ORDER BY c.coin, v.venue, m.i",
        (start,),
    )
    conn.execute("DELETE FROM temp.bench_venues")
    conn.executemany("INSERT INTO temp.bench_venues VALUES (?,?,?)", FUNDING_MINUTE_VENUES)
    conn.execute(
        "INSERT INTO funding (coin, venue, ts_ms, rate, interval_hours) "
        "SELECT c.coin, v.venue, ? + m.i * 60000 + v.off, 0.0001 * (1 + 0.8 * (m.s1 * c.ck + m.c1 * c.sk)), "
        "v.share FROM temp.bench_coins c CROSS JOIN temp.bench_venues v CROSS JOIN temp.bench_minutes m "
        "ORDER BY c.coin, v.venue, m.i",
        (start,),
    )
    conn.execute("DROP TABLE temp.bench_minutes")
    conn.execute("DROP TABLE temp.bench_venues")


def _hourly_derivatives(conn: sqlite3.Connection, spec: GenSpec) -> None:
    """``refresh_derivatives``: hourly OI history and long/short ratios (48 and 30 points per
    fetch, accumulating), daily OI history (31 points per fetch), on all three venues."""
    hour0 = to_ms(spec.now) // HOUR_MS * HOUR_MS
    day0 = to_ms(spec.now) // DAY_MS * DAY_MS
    oi: list[tuple[object, ...]] = []
    ls: list[tuple[object, ...]] = []
    hours = spec.days * 24 + 48
    for i, coin in enumerate(spec.symbols):
        base, price = coin_oi(i), coin_price(i)
        for v, venue in enumerate(LIQ_VENUES):
            share = (1.0, 0.62, 0.38)[v]
            for h in range(hours - 1, -1, -1):
                ts = hour0 - h * HOUR_MS
                value = base * share * (1 + 0.06 * math.sin(h / 48.0 + i))
                oi.append((coin, venue, ts, value, value / price))
                ls.append((coin, venue, ts, 0.5 + 0.12 * math.sin(h / 30.0 + i + v)))
            for d in range(spec.days + 31 - 1, -1, -1):
                value = base * share * (1 + 0.1 * math.sin(d / 9.0 + i))
                oi.append((coin, venue, day0 - d * DAY_MS, value, value / price))
    conn.executemany("INSERT OR REPLACE INTO open_interest VALUES (?,?,?,?,?)", oi)
    conn.executemany("INSERT OR REPLACE INTO long_short VALUES (?,?,?,?)", ls)


def _liquidations(conn: sqlite3.Connection, spec: GenSpec) -> None:
    """Raw events day by day (newest first, one seed per day), inserted in time order as the
    streams deliver them, then the per-minute and hourly roll-ups (what
    ``Store.insert_liquidations`` and migration 3 compute: sum, count and max per coin, bucket,
    side and venue; hourly also for the whole market, coin ``*``). The secondary indexes are
    dropped for the bulk load and rebuilt from the schema's own statements."""
    n = len(spec.symbols)
    now_ms = to_ms(spec.now)
    last_minute = now_ms // MINUTE_MS * MINUTE_MS
    weights = np.array([liq_weight(i) for i in range(n)])
    per_minute = weights / weights.sum() * spec.liq_rate_per_s * 60.0 * (n / 100.0)
    prices = np.array([coin_price(i) for i in range(n)])
    median_usd = np.array([25_000.0 / (1 + i) ** 0.5 for i in range(n)])
    parts: list[dict[str, np.ndarray]] = []
    for day in range(spec.days):
        rng = np.random.default_rng((spec.seed, 7, day))
        counts = rng.poisson(np.repeat(per_minute[:, None], 1440, axis=1))  # coin × minute of the day
        coin_idx, minute_idx = np.nonzero(counts)
        reps = counts[coin_idx, minute_idx]
        total = int(reps.sum())
        coin = np.repeat(coin_idx, reps)
        minute = last_minute - (day * 1440 + np.repeat(minute_idx, reps)) * MINUTE_MS
        usd = median_usd[coin] * np.exp(rng.standard_normal(total) * 1.1)
        price = prices[coin] * (1 + rng.standard_normal(total) * 0.01)
        parts.append(
            {
                "coin": coin,
                "minute": minute,
                "ts": minute + rng.integers(0, MINUTE_MS, total),
                "venue": rng.choice(3, total, p=LIQ_VENUE_SHARE),
                "short": (rng.random(total) >= 0.55).astype(np.int64),
                "usd": usd,
                "price": price,
            }
        )
    ev = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    keep = ev["ts"] <= now_ms
    order = np.argsort(ev["ts"][keep], kind="stable")
    ev = {key: value[keep][order] for key, value in ev.items()}

    indexes = conn.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
        "AND tbl_name IN ('liquidations', 'liq_minute') AND sql IS NOT NULL"
    ).fetchall()
    for name, _sql in indexes:
        conn.execute(f"DROP INDEX {name}")
    symbols = spec.symbols
    sides = ("long", "short")
    words = ("SELL", "BUY")
    conn.executemany(
        "INSERT INTO liquidations (venue, event_id, coin, side, price, qty, usd, ts_ms, minute_ms) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        (
            (
                LIQ_VENUES[v],
                f"{symbols[c]}USDT:{t}:{words[s]}:{k}",
                symbols[c],
                sides[s],
                p,
                u / p,
                u,
                t,
                m,
            )
            for k, (v, c, s, p, u, t, m) in enumerate(
                zip(
                    ev["venue"].tolist(),
                    ev["coin"].tolist(),
                    ev["short"].tolist(),
                    ev["price"].tolist(),
                    ev["usd"].tolist(),
                    ev["ts"].tolist(),
                    ev["minute"].tolist(),
                    strict=True,
                )
            )
        ),
    )
    # roll-ups, keyed in each table's primary-key order (coins by symbol, long < short,
    # binance < bybit < okx), so the inserts append
    rank = np.argsort(np.argsort(np.array(symbols, dtype=object)))
    buckets = spec.days * 1440 + 2
    first_minute = last_minute - (buckets - 1) * MINUTE_MS

    def rollup(
        coin_rank: np.ndarray,
        bucket: np.ndarray,
        side: np.ndarray,
        venue: np.ndarray,
        weights: dict[str, np.ndarray],
    ) -> tuple[np.ndarray, np.ndarray]:
        """(index of each group's first row, [usd sum, event count, max usd] per group)."""
        key = ((coin_rank * buckets + bucket) * 2 + side) * 3 + venue
        order = np.argsort(key, kind="stable")
        key = key[order]
        starts = np.flatnonzero(np.concatenate(([True], key[1:] != key[:-1])))
        usd = np.add.reduceat(weights["usd"][order], starts)
        events = np.add.reduceat(weights["events"][order], starts)
        biggest = np.maximum.reduceat(weights["max"][order], starts)
        return order[starts], np.stack([usd, events.astype(np.float64), biggest])

    minute_bucket = (ev["minute"] - first_minute) // MINUTE_MS
    ones = np.ones(len(ev["usd"]), dtype=np.int64)
    first, (m_usd, m_events, m_max) = rollup(
        rank[ev["coin"]],
        minute_bucket,
        ev["short"],
        ev["venue"],
        {"usd": ev["usd"], "events": ones, "max": ev["usd"]},
    )
    m_coin, m_minute, m_side, m_venue = (
        ev["coin"][first],
        ev["minute"][first],
        ev["short"][first],
        ev["venue"][first],
    )
    conn.executemany(
        "INSERT INTO liq_minute (coin, minute_ms, side, venue, usd, events, max_usd) VALUES (?,?,?,?,?,?,?)",
        zip(
            [symbols[c] for c in m_coin.tolist()],
            m_minute.tolist(),
            [sides[s] for s in m_side.tolist()],
            [LIQ_VENUES[v] for v in m_venue.tolist()],
            m_usd.tolist(),
            m_events.astype(np.int64).tolist(),
            m_max.tolist(),
            strict=True,
        ),
    )
    for _name, sql in indexes:
        conn.execute(sql)
    m_hour = m_minute // HOUR_MS * HOUR_MS
    hour_bucket = (m_hour - first_minute // HOUR_MS * HOUR_MS) // HOUR_MS
    per_coin = rank[m_coin]
    market = np.full(len(m_coin), -1)  # '*' sorts before every symbol
    for coin_key, label in ((per_coin, None), (market, "*")):
        first, (h_usd, h_events, h_max) = rollup(
            coin_key + 1, hour_bucket, m_side, m_venue, {"usd": m_usd, "events": m_events, "max": m_max}
        )
        names = ["*"] * len(first) if label else [symbols[c] for c in m_coin[first].tolist()]
        conn.executemany(
            "INSERT INTO liq_hour (coin, hour_ms, side, venue, usd, events, max_usd) VALUES (?,?,?,?,?,?,?)",
            zip(
                names,
                m_hour[first].tolist(),
                [sides[s] for s in m_side[first].tolist()],
                [LIQ_VENUES[v] for v in m_venue[first].tolist()],
                h_usd.tolist(),
                h_events.astype(np.int64).tolist(),
                h_max.tolist(),
                strict=True,
            ),
        )


def _sessions(conn: sqlite3.Connection, spec: GenSpec) -> None:
    """Each venue streamed since the start, reconnecting once a day after a 2-9 minute gap."""
    start = to_ms(spec.now) - spec.days * DAY_MS
    rows: list[tuple[str, int, int | None]] = []
    for v, venue in enumerate(LIQ_VENUES):
        connected = start
        for day in range(spec.days):
            drop = start + day * DAY_MS + (3 + 7 * v) * HOUR_MS
            if drop <= connected:
                continue
            rows.append((venue, connected, drop))
            connected = drop + (2 + (day * 3 + v) % 8) * MINUTE_MS
        rows.append((venue, connected, None))
    conn.executemany("INSERT INTO stream_sessions VALUES (?,?,?)", rows)


def _market(conn: sqlite3.Connection, spec: GenSpec) -> None:
    now_ms = to_ms(spec.now)
    day0 = now_ms // DAY_MS * DAY_MS
    hour0 = now_ms // HOUR_MS * HOUR_MS
    macro: list[tuple[object, ...]] = []
    for s, (series, symbol) in enumerate(SERIES.items()):
        level = (5000.0, 18000.0, 4900.0, 19000.0, 104.0, 4.2, 16.0)[s]
        for d in range(90 + spec.days - 1, -1, -1):
            macro.append(
                (series, "1d", day0 - d * DAY_MS, symbol, "yahoo", level * (1 + 0.01 * math.sin(d + s)))
            )
        for h in range((5 + spec.days) * 24 - 1, -1, -1):
            macro.append(
                (
                    series,
                    "1h",
                    hour0 - h * HOUR_MS,
                    symbol,
                    "yahoo",
                    level * (1 + 0.004 * math.sin(h / 5 + s)),
                )
            )
    conn.executemany("INSERT INTO macro VALUES (?,?,?,?,?,?)", macro)
    stats = [
        ("coingecko", now_ms - k * 300_000, 3.1e12 * (1 + 0.01 * math.sin(k / 50)), -1.2, 57.0, 11.5)
        for k in range(spec.days * 288)
    ]
    conn.executemany("INSERT INTO global_stats VALUES (?,?,?,?,?,?)", stats)
    breadth = [
        (f"cg-{c.lower()}", c, 3.0 * math.sin(i * 1.7) - 1.0, coin_price(i) * 1e9 / (1 + i), now_ms - 60_000)
        for i, c in enumerate(spec.symbols[:100])
    ]
    breadth += [
        (f"other-{k}", f"OTH{k}", math.sin(k) * 2.0, 1e9 / (1 + k), now_ms - 60_000)
        for k in range(100 - len(breadth))
    ]
    conn.executemany("INSERT INTO market_breadth VALUES (?,?,?,?,?)", breadth)


def _health(conn: sqlite3.Connection, spec: GenSpec) -> None:
    at = to_ms(spec.now) - 30_000
    sources = [
        "binance/spot-tickers",
        "binance/perp-tickers",
        "binance/funding",
        "bybit/linear",
        "okx/tickers",
        "okx/open-interest",
        "okx/funding",
        "coingecko/markets",
        "coingecko/global",
        "binance/candles-1h",
        "binance/candles-1d",
        "yahoo/daily",
        "yahoo/intraday",
    ]
    conn.executemany(
        "INSERT INTO source_health (source, last_success_ms, consecutive_failures, detail) VALUES (?, ?, 0, ?)",
        [(s, at, "bench") for s in sources],
    )


def bench_now() -> datetime:
    """The generated stores' "now": the current minute, so a child process on the system clock
    reads them as fresh."""
    return floor_minute(datetime.now(UTC)) - timedelta(minutes=1)
