"""Runs every benchmark in order and prints the table (sections numbered as in issue 8):

1. ``/why``, ``/liquidations``, ``/levels`` handler times vs raw SQL, and vs older history
   (``bench.handlers``)
2. liquidation ingest vs raw ``executemany`` (``bench.ingest``)
3. requests per refresh cycle per venue (``bench.refresh``)
4. concurrent interactions through discord.py, and event-loop lag (``bench.concurrency``)
5. chart render time and cache (``bench.charts``)
6. ``/liquidations`` at the longest history and the most coins (``bench.handlers``)
7. store size per coin per day, peak RSS of a run-like process (``bench.footprint``)
8. alerts: liquidation stream event to the channel post, fan-out to 1,000 channels (``bench.alerts``);
   a large-liquidation pass over a cascade (``bench.large_liq``)
9. bursts and sustained load through discord.py against Discord's 3 s deadline (``bench.burst``)
10. the store after a simulated year at the most coins: size and growth per day (``bench.year``)
11. the PostgreSQL store beside SQLite: migrate-store, handler times, ingest (``bench.postgres``)
12. alert fan-out by two shard dispatchers under Discord's global rate limit (``bench.fanout``)
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

from bench.alerts import run_alerts
from bench.burst import run_burst
from bench.charts import run_charts
from bench.common import Sizes, Stores, progress
from bench.concurrency import run_concurrency
from bench.fanout import run_fanout
from bench.footprint import run_rss, store_size_rows
from bench.handlers import history_rows, liquidations_30d_rows, row_for, run_handlers
from bench.ingest import run_ingest
from bench.large_liq import run_large_liq
from bench.postgres import run_postgres
from bench.refresh import run_refresh, run_tracking
from bench.report import MISS, Row, Value, header, machine, table, write_json
from bench.store_gen import GenSpec, bench_now, generate_store
from bench.year import run_year

SECTIONS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12")
NEED_STORES = set(SECTIONS) - {"10", "12"}  # sections 10 and 12 need no generated store


def sizes_from(args: argparse.Namespace, coins: tuple[int, ...]) -> Sizes:
    quick = bool(args.quick)
    return Sizes(
        coins=coins,
        days=args.days or ((1, 2) if quick else (7, 30)),
        repeat=args.repeat or (1 if quick else 3),
        calls=args.calls or (2 if quick else 30),
        budget_s=args.budget if args.budget is not None else (0.2 if quick else 2.5),
        cap_s=args.cap if args.cap is not None else (3.0 if quick else 5.0),
        liq_rate=args.liq_rate if args.liq_rate is not None else 1.0,
        ingest_batches=3 if quick else 30,
        batch_size=500,
        interactions=args.interactions or (10 if quick else 100),
        renders=1 if quick else 4,
        burst=50,
        child_seconds=args.child_seconds or (4.0 if quick else 20.0),
        child_rss_ceiling_mb=4096,
        year_days=args.year_days or (40 if quick else 365),
        quick=quick,
    )


def generate(sizes: Sizes, workdir: Path, settings_path: Path, symbols: tuple[str, ...]) -> Stores:
    """Every (coins, days) store, one after another: on a 2-core machine two generators in
    parallel were slower than in turn (both are bound by writing the file)."""
    now = bench_now()
    specs = sorted(
        (
            GenSpec(workdir / f"store-{c}c-{d}d.db", symbols[:c], d, now, liq_rate_per_s=sizes.liq_rate)
            for c in sizes.coins
            for d in sizes.days
        ),
        key=lambda s: len(s.symbols) * s.days,
    )
    progress(f"generating {len(specs)} stores ({', '.join(f'{len(s.symbols)}c×{s.days}d' for s in specs)})")
    stores = Stores(settings_path, symbols)
    for spec in specs:
        r = generate_store(spec)
        stores.by_shape[(r.coins, r.days)] = r
        progress(f"  {r.coins} coins × {r.days} d: {r.bytes / 1e6:,.0f} MB in {r.seconds:.1f} s")
    return stores


async def run_all(
    sizes: Sizes, workdir: Path, stores: Stores, only: tuple[str, ...] | None = None
) -> list[Row]:
    def wanted(*sections: str) -> bool:
        return only is None or any(s in only for s in sections)

    rows: list[Row] = []
    if wanted("7"):
        rows += store_size_rows(stores, sizes)  # before anything writes to the stores
    if wanted("1", "6"):
        measured = await run_handlers(stores, sizes)
        rows += [row_for(m, sizes) for m in measured]
        rows += history_rows(measured, sizes)
        rows += liquidations_30d_rows(measured, sizes)
    if wanted("2"):
        rows += run_ingest(stores, sizes, workdir)
    if wanted("11"):
        rows += await run_postgres(stores, sizes, workdir)
    if wanted("3"):
        rows += await run_refresh(stores, sizes)
        rows += await run_tracking(stores, sizes)
    if wanted("4"):
        rows += await run_concurrency(stores, sizes)
    if wanted("9"):
        rows += await run_burst(stores, sizes)
    if wanted("5"):
        rows += await run_charts(stores, sizes)
    if wanted("8"):
        rows += await run_alerts(stores, sizes, workdir)
        rows += run_large_liq(sizes, workdir / "large-liq")
    if wanted("12"):
        rows += await run_fanout(sizes)
    if wanted("7"):
        rows += await run_rss(stores, sizes)  # last: the child's collector writes into its store
    if wanted("10"):
        rows += run_year(sizes, workdir, stores.symbols)
    order = {s: i for i, s in enumerate(SECTIONS)}
    return sorted(rows, key=lambda r: order.get(r.section, len(order)))  # stable within a section


def run(
    sizes: Sizes,
    workdir: Path,
    settings_path: Path,
    symbols: tuple[str, ...],
    json_path: Path | None,
    only: tuple[str, ...] | None = None,
) -> int:
    info = machine()
    args: dict[str, Value] = {
        "coins": ",".join(map(str, sizes.coins)),
        "days": ",".join(map(str, sizes.days)),
        "repeat": sizes.repeat,
        "calls": sizes.calls,
        "budget_s": sizes.budget_s,
        "cap_s": sizes.cap_s,
        "liq_rate_per_s_at_100_coins": sizes.liq_rate,
        "year_days": sizes.year_days,
        "quick": sizes.quick,
    }
    print(header(info, args), flush=True)
    if only is None or NEED_STORES & set(only):
        stores = generate(sizes, workdir, settings_path, symbols)
    else:
        stores = Stores(settings_path, symbols)
    rows = asyncio.run(run_all(sizes, workdir, stores, only))
    print()
    print(table(rows))
    misses = [r for r in rows if r.status == MISS]
    print()
    print(
        f"{len(rows)} figures, {len(misses)} MISS"
        + (": goals not met are marked MISS above." if misses else ".")
    )
    if json_path is not None:
        write_json(json_path, info, args, rows)
        print(f"JSON: {json_path}")
    return 0
