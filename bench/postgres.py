"""Row 11: the PostgreSQL store beside SQLite, in the same run, on the same data.

A throwaway cluster is started on loopback (``tools.pg_cluster``, fsync on and commits
asynchronous: the durability of SQLite's WAL with ``synchronous=NORMAL``); the generated store
of the most coins and the shortest history is moved into it with ``migrate-store``'s code
(timed). Then the handlers of row 1 are called on both apps alternately, call by call, and
the liquidation batches of row 2 are ingested into a copy of the SQLite store and into the
PostgreSQL one. With no PostgreSQL installed (or no way to start it), the section prints one
row saying so.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from bench.common import Sizes, Stores, progress
from bench.handlers import HANDLERS, Handler, call_handler
from bench.ingest import make_batches
from bench.report import INFO, NA, Row, median, ms, percentile, rate, ratio
from bench.store_gen import GenResult
from bot.app import App, build_app
from bot.clock import FrozenClock
from bot.settings import load_settings
from bot.store import Store
from bot.store.copy import copy_store
from tests.helpers import every_venue_at
from tools.pg_cluster import Cluster, NoCluster

NOWHERE = "http://127.0.0.1:9"


async def run_postgres(stores: Stores, sizes: Sizes, workdir: Path) -> list[Row]:
    source = stores.get(sizes.max_coins, min(sizes.days))
    cluster = Cluster()
    try:
        progress("postgres: starting a throwaway cluster on loopback")
        cluster.start(durable=True)
    except NoCluster as exc:
        cluster.stop()
        progress(f"postgres: section skipped ({exc})")
        return [Row("11", "PostgreSQL store beside SQLite", "skipped", str(exc), "—", NA)]
    try:
        url = cluster.new_database()
        rows = [_migrate_row(source, url)]
        rows += await _handler_rows(stores, source, url, sizes)
        rows.append(_ingest_row(source, url, sizes, workdir))
        return rows
    finally:
        cluster.stop()


def _shape(source: GenResult) -> str:
    return f"{source.coins} coins · {source.days} d"


def _migrate_row(source: GenResult, url: str) -> Row:
    progress(f"postgres: migrate-store of the {_shape(source)} store")
    src, dst = Store(source.path), Store(url)
    try:
        report = copy_store(src, dst)
    finally:
        src.close()
        dst.close()
    return Row(
        "11",
        f"migrate-store SQLite → PostgreSQL · {_shape(source)}",
        f"{rate(report.total / report.seconds)} rows",
        f"{report.total:,} rows in {report.seconds:.1f} s, one transaction",
        "—",
        INFO,
        note="every table copied as is: COPY into the target in one transaction, then ANALYZE",
        values={"rows": report.total, "seconds": report.seconds},
    )


def _cold_app(stores: Stores, source: GenResult, db: str) -> App:
    """The app on ``db`` with the answer cache off: every call computes (the backends'
    difference is in the reads, which a cached answer skips)."""
    settings = load_settings(
        stores.settings_path,
        db=db,
        coins=list(source.symbols),
        providers=every_venue_at(NOWHERE),
        answers={"cache_size": 0},
    )
    return build_app(settings, clock=FrozenClock(source.now))


async def _handler_rows(stores: Stores, source: GenResult, url: str, sizes: Sizes) -> list[Row]:
    apps = {
        "sqlite": _cold_app(stores, source, str(source.path)),
        "postgresql": _cold_app(stores, source, url),
    }
    rows: list[Row] = []
    try:
        for handler in HANDLERS:
            progress(f"postgres: {handler.label} on both backends")
            times = await _alternate(apps, handler, source, sizes)
            rows.append(_handler_row(handler, source, times))
    finally:
        for app in apps.values():
            app.close()
    return rows


async def _alternate(
    apps: dict[str, App], handler: Handler, source: GenResult, sizes: Sizes
) -> dict[str, list[float]]:
    registry = apps["sqlite"].registry
    coins = [registry.get(s) for s in source.symbols] if handler.per_coin else [None]
    times: dict[str, list[float]] = {name: [] for name in apps}
    for app in apps.values():
        await call_handler(app, handler.key, coins[0])  # warm-up
    deadline = time.perf_counter() + sizes.budget_s * 2
    for index in range(sizes.calls * sizes.repeat):
        order = list(apps.items()) if index % 2 == 0 else list(apps.items())[::-1]
        for name, app in order:
            start = time.perf_counter()
            await call_handler(app, handler.key, coins[index % len(coins)])
            times[name].append(time.perf_counter() - start)
        if time.perf_counter() > deadline:
            break
    return times


def _handler_row(handler: Handler, source: GenResult, times: dict[str, list[float]]) -> Row:
    pg, lite = times["postgresql"], times["sqlite"]
    p50, p99 = percentile(pg, 50), percentile(pg, 99)
    s50, s99 = percentile(lite, 50), percentile(lite, 99)
    return Row(
        "11",
        f"{handler.label} on PostgreSQL · {_shape(source)}",
        f"p50 {ms(p50)} · p99 {ms(p99)}",
        f"SQLite p50 {ms(s50)} · p99 {ms(s99)} → {ratio(p50 / s50)}",
        "—",
        INFO,
        note=(
            f"{len(pg)} calls each, alternating backends call by call, answer cache off (every call computes); "
            "PostgreSQL reads over loopback TCP from a pool"
        ),
        values={"pg_p50_s": p50, "pg_p99_s": p99, "sqlite_p50_s": s50, "sqlite_p99_s": s99, "calls": len(pg)},
    )


def _ingest_row(source: GenResult, url: str, sizes: Sizes, workdir: Path) -> Row:
    progress(f"postgres: ingest {sizes.ingest_batches} batches of {sizes.batch_size} on both backends")
    copy = workdir / "pg-bench-sqlite.db"
    shutil.copyfile(source.path, copy)
    rates: dict[str, list[float]] = {"sqlite": [], "postgresql": []}
    news: dict[str, int] = {"sqlite": 0, "postgresql": 0}
    try:
        for run in range(sizes.repeat):
            batches = make_batches(source, sizes, run)
            events = sum(len(b) for b in batches)
            for name, target in (("sqlite", str(copy)), ("postgresql", url)):
                store = Store(target)
                try:
                    start = time.perf_counter()
                    news[name] += sum(store.insert_liquidations(b) for b in batches)
                    rates[name].append(events / (time.perf_counter() - start))
                finally:
                    store.close()
    finally:
        for leftover in workdir.glob("pg-bench-sqlite.db*"):
            leftover.unlink()
    pg, lite = median(rates["postgresql"]), median(rates["sqlite"])
    same = news["sqlite"] == news["postgresql"]
    return Row(
        "11",
        f"liquidation ingest on PostgreSQL · {_shape(source)}",
        f"{rate(pg)} events",
        f"SQLite {rate(lite)} → {ratio(pg / lite)}{'' if same else ' — NEW COUNTS DIFFER'}",
        "—",
        INFO,
        note=(
            "the batches of row 2 (≈10 % repeats), Store.insert_liquidations on each backend: staged, "
            "deduplicated and rolled up in SQL, one transaction per batch"
        ),
        values={"pg_events_per_s": pg, "sqlite_events_per_s": lite, "new_counts_match": same},
    )
