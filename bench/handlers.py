"""Rows 1 and 6: ``/why``, ``/liquidations`` and ``/levels`` handler times, the ratio to a raw
SQL read of the same rows, and whether time grows with older history.

A handler call is what the cog does short of Discord: the service (store read in a worker
thread → analysis) and the render functions (embed; for ``/liquidations`` and ``/levels`` also
the chart spec, not the PNG). While it runs, the store connections' trace callback records
every statement with its parameters bound; the peer is those same statements replayed right
after on a plain ``sqlite3`` connection to the same file, fetching every row as tuples.

A call still running after ``cap_s`` is stopped through the connection's progress handler (the
next SQLite step raises) and reported as slower than the cap; no further calls are made for
that configuration.
"""

from __future__ import annotations

import math
import sqlite3
import time
from dataclasses import dataclass, field

from bench.common import Sizes, Stores, open_app, progress
from bench.report import MISS, NA, OK, Row, Value, median, ms, percentile, ratio, status
from bench.store_gen import GenResult
from bot.app import App
from bot.coins import Coin
from bot.render.levels import levels_chart, levels_embed
from bot.render.liquidations import liquidations_chart, liquidations_embed
from bot.render.why import why_embed

WHY_P99_GOAL = 0.025  # /why coin:…, cold (issue 13)
WHY_MARKET_P99_GOAL = 0.050  # the market /why reads every tracked coin, cold (issue 13)
RAW_RATIO_GOAL = 3.0
HISTORY_RATIO_GOAL = 1.3  # "does not grow with older history": within 30 % of the shorter store


@dataclass(frozen=True)
class Handler:
    key: str
    label: str
    per_coin: bool


HANDLERS = (
    Handler("why-coin", "/why coin:… 24h", True),
    Handler("why-market", "/why 24h (market)", False),
    Handler("liq-coin", "/liquidations coin:…", True),
    Handler("liq-market", "/liquidations (market)", False),
    Handler("levels", "/levels coin:…", True),
)


@dataclass
class Measured:
    handler: Handler
    coins: int
    days: int
    p50: float = math.nan
    p99: float = math.nan
    raw_p50: float = math.nan
    ratio: float = math.nan
    calls: int = 0
    runs: int = 0
    statements: int = 0
    rows: int = 0
    capped_after: float | None = None  # seconds, when a call hit the cap
    capped_rows: int = 0
    capped_statements: int = 0
    samples: list[float] = field(default_factory=list)
    # per run, aligned across the stores of one group (nan: no call finished in that run)
    round_p50s: list[float] = field(default_factory=list)
    round_p99s: list[float] = field(default_factory=list)
    round_raw_p50s: list[float] = field(default_factory=list)

    @property
    def capped(self) -> bool:
        return self.capped_after is not None


async def call_handler(app: App, key: str, coin: Coin | None) -> None:
    s = app.services
    if key.startswith("why"):
        why_embed(await s.why.why(coin, "24h"))
    elif key.startswith("liq"):
        view = await s.liquidations.liquidations(coin, None)
        liquidations_embed(view)
        liquidations_chart(view)
    else:
        assert coin is not None
        levels = await s.levels.levels(coin)
        levels_embed(levels, chart=bool(levels.hourly))
        if levels.hourly:
            levels_chart(levels)


async def timed_call(app: App, key: str, coin: Coin | None, cap: float) -> tuple[float, list[str], bool]:
    """(seconds, the statements run, whether the cap stopped it)."""
    store = app.store.sync
    statements: list[str] = []
    deadline = time.perf_counter() + cap
    # every connection the store reads through (its per-thread readers too)
    store.instrument(statements.append, lambda: 1 if time.perf_counter() > deadline else 0)
    start = time.perf_counter()
    capped = False
    try:
        await call_handler(app, key, coin)
    except sqlite3.OperationalError as exc:
        if "interrupt" not in str(exc):
            raise
        capped = True
    finally:
        store.instrument(None)
    return time.perf_counter() - start, statements, capped


def raw_read(raw: sqlite3.Connection, statements: list[str]) -> tuple[float, int, int]:
    """Replay the reads; (seconds, rows fetched, statements run)."""
    reads = [s for s in statements if s.lstrip()[:6].upper() in ("SELECT", "WITH  ")]
    start = time.perf_counter()
    rows = 0
    for sql in reads:
        rows += len(raw.execute(sql).fetchall())
    return time.perf_counter() - start, rows, len(reads)


@dataclass
class Target:
    """One store under test: the app on it and a plain connection for the raw peer."""

    store: GenResult
    app: App
    raw: sqlite3.Connection
    out: Measured
    times: list[float] = field(default_factory=list)  # this run's calls
    raws: list[float] = field(default_factory=list)
    rows: list[int] = field(default_factory=list)
    stmts: list[int] = field(default_factory=list)


def _stop(t: Target, elapsed: float, statements: list[str]) -> None:
    t.out.capped_after = elapsed
    _, t.out.capped_rows, t.out.capped_statements = raw_read(t.raw, statements)


async def measure_group(targets: list[Target], handler: Handler, sizes: Sizes) -> None:
    """Measure ``handler`` on stores of the same coins and different history, interleaved call
    by call (same coin on each store, alternating which goes first) so that the history ratio
    is measured within one run, under the same machine load."""
    symbols = targets[0].store.symbols
    registry = targets[0].app.registry
    coins: list[Coin | None] = [registry.get(s) for s in symbols] if handler.per_coin else [None]
    for t in targets:
        # warm-up (page cache, first-call imports); a call slower than the cap ends it here
        elapsed, statements, capped = await timed_call(t.app, handler.key, coins[0], sizes.cap_s)
        if capped:
            _stop(t, elapsed, statements)
        else:
            raw_read(t.raw, statements)
    budget = sizes.budget_s * len(targets)
    spent = time.perf_counter()
    index = 0
    for _ in range(sizes.repeat):
        for t in targets:
            t.times, t.raws = [], []
        for _ in range(sizes.calls):
            coin = coins[index % len(coins)]
            active = [t for t in targets if not t.out.capped]
            for t in active if index % 2 == 0 else active[::-1]:
                elapsed, statements, capped = await timed_call(t.app, handler.key, coin, sizes.cap_s)
                if capped:
                    _stop(t, elapsed, statements)
                    continue
                raw_s, n_rows, n_stmts = raw_read(t.raw, statements)
                t.times.append(elapsed)
                t.raws.append(raw_s)
                t.rows.append(n_rows)
                t.stmts.append(n_stmts)
            index += 1
            if not active or time.perf_counter() - spent > budget:
                break
        for t in targets:
            m = t.out
            m.samples += t.times
            m.round_p50s.append(percentile(t.times, 50))  # nan when none finished
            m.round_p99s.append(percentile(t.times, 99))
            m.round_raw_p50s.append(percentile(t.raws, 50))
        if all(t.out.capped for t in targets) or time.perf_counter() - spent > budget:
            break
    for t in targets:
        m = t.out
        m.p50, m.p99 = median(m.round_p50s), median(m.round_p99s)
        m.raw_p50 = median(m.round_raw_p50s)
        m.ratio = median([a / b for a, b in zip(m.round_p50s, m.round_raw_p50s, strict=True)])
        m.calls, m.runs = len(m.samples), sum(1 for p in m.round_p50s if not math.isnan(p))
        m.rows = int(median([float(r) for r in t.rows])) if t.rows else 0
        m.statements = int(median([float(s) for s in t.stmts])) if t.stmts else 0


async def run_handlers(stores: Stores, sizes: Sizes) -> list[Measured]:
    results: list[Measured] = []
    for coins in sizes.coins:
        targets: list[Target] = []
        try:
            for days in sizes.days:
                store = stores.get(coins, days)
                targets.append(
                    Target(
                        store,
                        open_app(stores, store),
                        sqlite3.connect(store.path),
                        Measured(HANDLERS[0], coins, days),
                    )
                )
            for handler in HANDLERS:
                progress(
                    f"handlers: {handler.label} at {coins} coins × {', '.join(f'{d} d' for d in sizes.days)}"
                )
                for t in targets:
                    t.out, t.rows, t.stmts = Measured(handler, coins, t.store.days), [], []
                await measure_group(targets, handler, sizes)
                results += [t.out for t in targets]
        finally:
            for t in targets:
                t.raw.close()
                t.app.close()
    return results


def _p99_goal(handler: Handler) -> float | None:
    if not handler.key.startswith("why"):
        return None
    return WHY_P99_GOAL if handler.per_coin else WHY_MARKET_P99_GOAL


def _goal(handler: Handler) -> str:
    p99 = _p99_goal(handler)
    if p99 is not None:
        return f"p99 ≤ {p99 * 1000:.0f} ms; ≤ {RAW_RATIO_GOAL:.0f}× raw"
    return f"≤ {RAW_RATIO_GOAL:.0f}× raw"


def row_for(m: Measured, sizes: Sizes, section: str = "1") -> Row:
    name = f"{m.handler.label} · {m.coins} coins · {m.days} d"
    values: dict[str, Value] = {
        "handler": m.handler.key,
        "coins": m.coins,
        "days": m.days,
        "p50_s": m.p50,
        "p99_s": m.p99,
        "raw_p50_s": m.raw_p50,
        "ratio_to_raw": m.ratio,
        "calls": m.calls,
        "runs": m.runs,
        "rows_per_call": m.rows,
        "statements_per_call": m.statements,
        "capped_after_s": m.capped_after,
    }
    if m.capped and not m.calls:
        return Row(
            section,
            name,
            f"> {ms(sizes.cap_s)} (stopped)",
            f"{m.capped_rows:,} rows / {m.capped_statements} queries read before the stop",
            _goal(m.handler),
            MISS,
            note=f"{name}: one call ran past the {ms(sizes.cap_s)} cap and was interrupted; no timing "
            "is shown because none finished. The row count is what it had read by then.",
            values=values,
        )
    p99_goal = _p99_goal(m.handler)
    p99_ok = m.p99 <= p99_goal if p99_goal is not None else None
    note = ""
    if m.capped:
        note = f"{name}: a later call passed the {ms(sizes.cap_s)} cap; figures are from the calls that finished."
    return Row(
        section,
        name,
        f"p50 {ms(m.p50)} · p99 {ms(m.p99)} (n={m.calls})",
        f"raw SQL {ms(m.raw_p50)} ({m.rows:,} rows/{m.statements} q) → {ratio(m.ratio)}",
        _goal(m.handler),
        status(p99_ok, m.ratio <= RAW_RATIO_GOAL, False if m.capped else None),
        note=note,
        values=values,
    )


def history_rows(results: list[Measured], sizes: Sizes) -> list[Row]:
    """Same handler, same coins, the longest vs the shortest history."""
    if len(sizes.days) < 2:
        return []
    short, long = min(sizes.days), max(sizes.days)
    by = {(m.handler.key, m.coins, m.days): m for m in results}
    rows: list[Row] = []
    for coins in sizes.coins:
        for handler in HANDLERS:
            a, b = by[(handler.key, coins, long)], by[(handler.key, coins, short)]
            name = f"{handler.label} · {coins} coins · {long} d vs {short} d history"
            values: dict[str, Value] = {
                "handler": handler.key,
                "coins": coins,
                "long_days": long,
                "short_days": short,
                "long_p50_s": a.p50,
                "short_p50_s": b.p50,
            }
            goal = f"≈ 1 (≤ {HISTORY_RATIO_GOAL}×)"
            if a.calls and b.calls:
                r = median([x / y for x, y in zip(a.round_p50s, b.round_p50s, strict=True)])
                values["ratio"] = r
                rows.append(
                    Row(
                        "1",
                        name,
                        f"p50 {ms(a.p50)} vs {ms(b.p50)}",
                        f"{ratio(r)} (rows {a.rows:,} vs {b.rows:,})",
                        goal,
                        OK if r <= HISTORY_RATIO_GOAL else MISS,
                        values=values,
                    )
                )
            elif b.calls and a.capped:
                bound = sizes.cap_s / b.p50
                values["ratio_at_least"] = bound
                rows.append(
                    Row(
                        "1",
                        name,
                        f"> {ms(sizes.cap_s)} vs p50 {ms(b.p50)}",
                        f"≥ {ratio(bound)}",
                        goal,
                        MISS if bound > HISTORY_RATIO_GOAL else NA,
                        values=values,
                    )
                )
            else:
                rows.append(
                    Row(
                        "1",
                        name,
                        f"both > {ms(sizes.cap_s)}" if a.capped and b.capped else "n/a",
                        "n/a",
                        goal,
                        NA,
                        note=f"{name}: neither store answered within the cap, so growth cannot be judged here; "
                        "the rows read before the stop are in the rows above.",
                        values=values,
                    )
                )
    return rows


def liquidations_30d_rows(results: list[Measured], sizes: Sizes) -> list[Row]:
    """Row 6: /liquidations at the longest history and the most coins."""
    coins, days = sizes.max_coins, max(sizes.days)
    rows = []
    for m in results:
        if m.handler.key.startswith("liq") and m.coins == coins and m.days == days:
            row = row_for(m, sizes, section="6")
            row.name = f"{m.handler.label} at {days} d of events · {coins} coins"
            rows.append(row)
    return rows
