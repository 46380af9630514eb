"""Row 2: liquidation ingest through ``Store.insert_liquidations`` against raw
``sqlite3.executemany`` of the same rows, in the same run.

The store is a copy of a generated one (so the roll-up refresh works on a populated current
hour, as it would in a running bot). Events arrive as the streams hand them over: batches of
``batch_size`` (``flush_max_events``), each covering one minute of a cascade across the tracked
coins and three venues, about 10 % of each batch repeating events already seen (a reconnect
replaying its last frames), which ``INSERT OR IGNORE`` on (venue, event_id) drops.

The peer is a bare table with the same columns and primary key in a fresh file with the same
pragmas (WAL, ``synchronous=NORMAL``), fed the same rows as tuples with ``INSERT OR IGNORE``,
one transaction per batch — no secondary indexes, no roll-ups, no model-to-tuple conversion.
"""

from __future__ import annotations

import os
import random
import shutil
import sqlite3
import time
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from bench.common import Sizes, Stores, progress
from bench.report import Row, median, rate, ratio, status
from bench.store_gen import GenResult, coin_price, floor_minute
from bot.clock import to_ms
from bot.models import Liquidation
from bot.store import Store

RATIO_GOAL = 0.5
DUPLICATE_SHARE = 0.10
VENUES = ("binance", "bybit", "okx")

BARE_TABLE = """
CREATE TABLE liquidations (
    venue TEXT NOT NULL, event_id TEXT NOT NULL, coin TEXT NOT NULL, side TEXT NOT NULL,
    price REAL NOT NULL, qty REAL NOT NULL, usd REAL NOT NULL,
    ts_ms INTEGER NOT NULL, minute_ms INTEGER NOT NULL,
    PRIMARY KEY (venue, event_id)
)
"""
RAW_INSERT = (
    "INSERT OR IGNORE INTO liquidations (venue, event_id, coin, side, price, qty, usd, ts_ms, minute_ms) "
    "VALUES (?,?,?,?,?,?,?,?,?)"
)


@dataclass(frozen=True)
class IngestRun:
    store_s: float
    raw_s: float
    events: int
    new_store: int
    new_raw: int

    @property
    def store_rate(self) -> float:
        return self.events / self.store_s

    @property
    def raw_rate(self) -> float:
        return self.events / self.raw_s


def make_batches(store: GenResult, sizes: Sizes, run: int) -> list[list[Liquidation]]:
    """``ingest_batches`` batches in consecutive minutes after the store's "now" (later runs
    later still), each with ~10 % repeats of the previous batch (of its own first part, for the
    first batch)."""
    rng = random.Random(run)
    base = floor_minute(store.now) + timedelta(minutes=1 + run * (sizes.ingest_batches + 1))
    symbols = store.symbols
    weights = [1.0 / (1 + i) ** 0.9 for i in range(len(symbols))]
    batches: list[list[Liquidation]] = []
    previous: list[Liquidation] = []
    for b in range(sizes.ingest_batches):
        minute = base + timedelta(minutes=b)
        fresh_count = sizes.batch_size - int(sizes.batch_size * DUPLICATE_SHARE)
        fresh: list[Liquidation] = []
        for k in range(fresh_count):
            c = rng.choices(range(len(symbols)), weights)[0]
            price = coin_price(c) * (1 + rng.gauss(0, 0.01))
            usd = 20_000.0 * rng.lognormvariate(0, 1.1)
            ts = minute + timedelta(milliseconds=rng.randrange(60_000))
            fresh.append(
                Liquidation(
                    venue=rng.choice(VENUES),
                    coin=symbols[c],
                    side="long" if rng.random() < 0.55 else "short",
                    price=price,
                    qty=usd / price,
                    usd=usd,
                    ts=ts,
                    event_id=f"{symbols[c]}USDT:{to_ms(ts)}:{run}:{b}:{k}",
                )
            )
        pool = previous or fresh
        repeats = [rng.choice(pool) for _ in range(sizes.batch_size - fresh_count)]
        batch = fresh + repeats
        rng.shuffle(batch)
        batches.append(batch)
        previous = fresh
    return batches


def as_rows(batch: list[Liquidation]) -> list[tuple[object, ...]]:
    """What ``Store.insert_liquidations`` builds, for the raw peer (built before timing)."""
    return [
        (
            e.venue,
            e.event_id,
            e.coin,
            e.side,
            e.price,
            e.qty,
            e.usd,
            to_ms(e.ts),
            to_ms(e.ts) // 60_000 * 60_000,
        )
        for e in batch
    ]


def one_run(store_path: Path, raw_path: Path, batches: list[list[Liquidation]]) -> IngestRun:
    rows = [as_rows(b) for b in batches]
    events = sum(len(b) for b in batches)

    store = Store(store_path)
    try:
        start = time.perf_counter()
        new_store = sum(store.insert_liquidations(b) for b in batches)
        store_s = time.perf_counter() - start
    finally:
        store.close()

    raw = sqlite3.connect(raw_path)
    try:
        raw.execute("PRAGMA journal_mode=WAL")
        raw.execute("PRAGMA synchronous=NORMAL")
        new_raw = 0
        start = time.perf_counter()
        for batch_rows in rows:
            with raw:
                before = raw.total_changes
                raw.executemany(RAW_INSERT, batch_rows)
                new_raw += raw.total_changes - before
        raw_s = time.perf_counter() - start
    finally:
        raw.close()
    return IngestRun(store_s, raw_s, events, new_store, new_raw)


def run_ingest(stores: Stores, sizes: Sizes, workdir: Path) -> list[Row]:
    """At the most coins, into copies of the shortest- and the longest-history store."""
    rows: list[Row] = []
    for days in sorted({min(sizes.days), max(sizes.days)}):
        rows.append(_ingest_row(stores.get(sizes.max_coins, days), sizes, workdir))
    return rows


def _flush(path: Path) -> None:
    """Put the copy on disk before timing: otherwise the store's first checkpoint (an fsync)
    pays for writing out the whole copied file, which is the bench's work, not the ingest's."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _ingest_row(source: GenResult, sizes: Sizes, workdir: Path) -> Row:
    progress(
        f"ingest into the {source.coins} coins × {source.days} d store: "
        f"{sizes.ingest_batches} batches of {sizes.batch_size} × {sizes.repeat} runs"
    )
    store_path = workdir / "ingest-store.db"
    shutil.copyfile(source.path, store_path)
    _flush(store_path)
    runs: list[IngestRun] = []
    try:
        for run in range(sizes.repeat):
            raw_path = workdir / f"ingest-raw-{run}.db"
            raw_path.unlink(missing_ok=True)
            raw = sqlite3.connect(raw_path)
            raw.execute(BARE_TABLE)
            raw.close()
            runs.append(one_run(store_path, raw_path, make_batches(source, sizes, run)))
    finally:
        for leftover in workdir.glob("ingest-*"):
            leftover.unlink()
    store_rate = median([r.store_rate for r in runs])
    raw_rate = median([r.raw_rate for r in runs])
    r = median([r.store_rate / r.raw_rate for r in runs])
    same = all(x.new_store == x.new_raw for x in runs)
    events = runs[0].events
    dup = 1 - runs[0].new_store / events
    note = (
        f"Store.insert_liquidations: {events:,} events per run in {sizes.ingest_batches} batches of {sizes.batch_size} "
        f"({dup:.0%} repeats dropped by both sides{'' if same else ' — NEW COUNTS DIFFER'}), into a copy of "
        f"the {source.coins}-coin × {source.days}-day store; each batch spans one minute of events across "
        f"{source.coins} coins and 3 venues. Besides the insert, the store maintains 2 secondary indexes and "
        "adds the new events to the per-minute and hourly roll-ups (set-based SQL from a staging table); "
        "its b-trees are keyed coin first, so a batch dirties pages across every coin of a large file."
    )
    return Row(
        "2",
        f"liquidation ingest · {source.coins} coins · {source.days} d store",
        f"{rate(store_rate)} events",
        f"raw executemany {rate(raw_rate)} → {ratio(r)}",
        f"≥ {RATIO_GOAL}× raw",
        status(r >= RATIO_GOAL and same),
        note=note,
        values={
            "coins": source.coins,
            "days": source.days,
            "store_events_per_s": store_rate,
            "raw_events_per_s": raw_rate,
            "ratio": r,
            "events_per_run": events,
            "duplicate_share": dup,
            "new_counts_match": same,
            "runs": len(runs),
        },
    )
