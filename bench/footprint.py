"""Row 7: store size per tracked coin per day, and the peak memory of a ``tapewatch run``-like
process at the most coins (``bench.run_child``, against the parent's loopback fake exchange)."""

from __future__ import annotations

import asyncio
import json
import resource
import sqlite3
import sys
import tempfile
from collections import defaultdict

from bench.common import Sizes, Stores, progress
from bench.config import PROJECT_ROOT
from bench.report import INFO, MISS, Row, ms, size, status
from bench.store_gen import GenResult
from tests.fake_venues import venue_routes
from tests.helpers import FakeExchange

RSS_GOAL_MB = 250


def table_sizes(store: GenResult) -> dict[str, int]:
    """Bytes per table, its indexes included (SQLite's ``dbstat``)."""
    conn = sqlite3.connect(store.path)
    try:
        owner = dict(
            conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type IN ('table', 'index')")
        )
        out: dict[str, int] = defaultdict(int)
        for name, pages in conn.execute("SELECT name, SUM(pgsize) FROM dbstat GROUP BY name"):
            out[owner.get(name, name)] += int(pages)
        return dict(out)
    except sqlite3.OperationalError:  # SQLite built without dbstat
        return {}
    finally:
        conn.close()


def store_size_rows(stores: Stores, sizes: Sizes) -> list[Row]:
    rows: list[Row] = []
    for (coins, days), store in sorted(stores.by_shape.items()):
        per = store.bytes / (coins * days)
        rows.append(
            Row(
                "7",
                f"store size · {coins} coins · {days} d",
                f"{size(store.bytes)} → {size(per)} per coin per day",
                f"generated in {store.seconds:.0f} s",
                "report",
                INFO,
                values={"coins": coins, "days": days, "bytes": store.bytes, "bytes_per_coin_day": per},
            )
        )
    short, long = min(sizes.days), max(sizes.days)
    if long > short:
        coins = sizes.max_coins
        a, b = stores.get(coins, long), stores.get(coins, short)
        growth = (a.bytes - b.bytes) / (coins * (long - short))
        biggest = table_sizes(a)
        total = sum(biggest.values()) or 1
        shares = ", ".join(
            f"{name} {value / total:.0%}"
            for name, value in sorted(biggest.items(), key=lambda kv: -kv[1])[:5]
        )
        per_minute = a.rows.get("open_interest", 0) + a.rows.get("funding", 0)
        rows.append(
            Row(
                "7",
                f"store growth per tracked coin per day ({coins} coins, {short} → {long} d)",
                f"{size(growth)} per coin per day",
                f"{size(growth * coins * 365)}/year at {coins} coins",
                "report",
                INFO,
                note=(
                    f"Largest tables in the {coins}-coin × {long}-day store (with their indexes): {shares}. "
                    f"open_interest + funding hold {per_minute:,} rows: the tickers job stores a new point per "
                    "venue every minute (Bybit/OKX OI, Binance/Bybit/OKX funding), and nothing prunes them. "
                    f"Raw liquidations ({a.rows.get('liquidations', 0):,} events at the generated rate) are "
                    "pruned after 35 days; their roll-ups are kept."
                ),
                values={"coins": coins, "bytes_per_coin_day": growth, "tables": dict(biggest)},
            )
        )
    return rows


async def run_rss(stores: Stores, sizes: Sizes) -> list[Row]:
    store = stores.get(sizes.max_coins, max(sizes.days))
    progress(
        f"peak RSS of a run-like child at {store.coins} coins × {store.days} d ({sizes.child_seconds:.0f} s)"
    )
    fake = FakeExchange(venue_routes(list(store.symbols)))
    url = await fake.start()
    try:
        cmd = [
            sys.executable,
            "-m",
            "bench.run_child",
            "--db",
            str(store.path),
            "--coins",
            str(store.coins),
            "--exchange",
            url,
            "--seconds",
            str(sizes.child_seconds),
            "--settle",
            str(min(8.0, sizes.child_seconds / 3)),
            "--ceiling-mb",
            str(sizes.child_rss_ceiling_mb),
        ]
        # files, not pipes: nothing reads the child's output until it has exited
        with tempfile.TemporaryFile() as out_f, tempfile.TemporaryFile() as err_f:
            proc = await asyncio.create_subprocess_exec(*cmd, cwd=PROJECT_ROOT, stdout=out_f, stderr=err_f)
            try:
                code = await asyncio.wait_for(proc.wait(), sizes.child_seconds + 90)
            except TimeoutError:
                proc.kill()
                code = await proc.wait()
            out_f.seek(0)
            err_f.seek(0)
            out = out_f.read().decode(errors="replace")
            err = err_f.read().decode(errors="replace")
    finally:
        hits = len(fake.hits)
        await fake.close()
    # the largest resident set of ANY child this process waited for (kept only as a fallback:
    # it also counts other children of the bench, so the child's own VmHWM is the figure)
    maxrss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # kB on Linux
    try:
        result = json.loads(out.strip().splitlines()[-1])
    except (IndexError, json.JSONDecodeError):
        return [
            Row(
                "7",
                f"peak RSS, run-like process · {store.coins} coins",
                f"{maxrss_mb:,.0f} MB (child failed, status {code})",
                "—",
                f"≤ {RSS_GOAL_MB} MB",
                MISS,
                note="the child printed no result: "
                + (err.strip().splitlines() or ["(no stderr)"])[-1][:300],
                values={"maxrss_mb": maxrss_mb},
            )
        ]
    phases: dict[str, dict[str, int]] = result["phases"]
    hwm_mb = max(p.get("VmHWM", 0) for p in phases.values()) / 1024
    peak = hwm_mb or maxrss_mb
    answered: dict[str, float | None] = result["answered"]
    done = [f"{t} {ms(v)}" for t, v in answered.items() if v is not None]
    pending = [t for t, v in answered.items() if v is None]
    steady = phases.get("collecting", {}).get("VmHWM", 0) / 1024
    note = (
        "tapewatch run needs a Discord gateway, which the loopback fake lacks: the child runs the same objects "
        "(build_app, collector_for + register_jobs on AsyncIOScheduler, TapewatchBot with its cogs) logged in over "
        "REST to an in-process FakeDiscordServer, liquidation streams off, REST jobs against the bench's loopback "
        f"fake exchange ({hits:,} requests served), on the {store.coins}-coin × {store.days}-day store, for "
        f"{result['seconds']:.0f} s. High-water mark after login and the first collector runs: {steady:,.0f} MB. "
        f"Then one of each command was sent at once — answered: {'; '.join(done) or 'none'}"
        + (f"; still running at the deadline: {', '.join(pending)}" if pending else "")
        + (f"; answered with an error: {', '.join(result['errors'])}" if result["errors"] else "")
        + (" (the child stopped itself at its memory ceiling)" if "ceiling" in phases else "")
        + f". Peak = the child's own VmHWM (its high-water mark, read from /proc at each phase) = {peak:,.0f} MB; "
        + f"ru_maxrss over all of the bench's children was {maxrss_mb:,.0f} MB."
    )
    return [
        Row(
            "7",
            f"peak RSS, run-like process · {store.coins} coins · {store.days} d store",
            f"{peak:,.0f} MB (after start-up and collecting: {steady:,.0f} MB)",
            f"{len(done)}/{len(answered)} commands answered in {sizes.child_seconds:.0f} s",
            f"≤ {RSS_GOAL_MB} MB",
            status(peak <= RSS_GOAL_MB),
            note=note,
            values={
                "peak_mb": peak,
                "steady_mb": steady,
                "vmhwm_mb": hwm_mb,
                "maxrss_mb": maxrss_mb,
                "answered": len(done),
                "commands": len(answered),
            },
        )
    ]
