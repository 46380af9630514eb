"""Row 5: chart render time, and the cache under a burst of identical requests.

Render time is ``render_chart`` on the chart specs the cogs build (``/levels`` for the first
coin, ``/liquidations`` for the market) from a generated store, one render after another. The
burst is ``burst`` requests for the same chart and key spread evenly over one second through a
fresh ``ChartRenderer`` (what the cogs share): it should render once and answer the rest from
the in-flight render or the cache, without blocking the event loop.
"""

from __future__ import annotations

import asyncio
import time

from bench.common import Sizes, Stores, lag_monitor, open_app, progress
from bench.report import Row, median, ms, percentile, status
from bot.render.charts import ChartRenderer, ChartSpec, render_chart
from bot.render.levels import levels_chart
from bot.render.liquidations import liquidations_chart

LAG_GOAL = 0.050


async def chart_specs(stores: Stores, sizes: Sizes) -> dict[str, ChartSpec]:
    store = stores.get(sizes.max_coins, min(sizes.days))
    app = open_app(stores, store)
    try:
        coin = app.registry.get(store.symbols[0])
        levels = levels_chart(await app.services.levels.levels(coin))
        liq = liquidations_chart(await app.services.liquidations.liquidations(None, None))
    finally:
        app.close()
    specs = {"/levels": levels}
    if liq is not None:
        specs["/liquidations"] = liq
    return specs


async def burst(spec: ChartSpec, count: int) -> dict[str, float]:
    renderer = ChartRenderer()
    stop = asyncio.Event()
    overshoots: list[float] = []
    monitor = asyncio.create_task(lag_monitor(stop, overshoots))
    latencies: list[float] = []

    async def one(delay: float) -> None:
        await asyncio.sleep(delay)
        start = time.perf_counter()
        await renderer.render(spec, "bench:levels:202601010000")
        latencies.append(time.perf_counter() - start)

    try:
        start = time.perf_counter()
        await asyncio.gather(*(one(i / count) for i in range(count)))
        wall = time.perf_counter() - start
    finally:
        stop.set()
        await monitor
        renderer.close()
    return {
        "renders": renderer.renders,
        "hits": renderer.hits,
        "coalesced": renderer.coalesced,
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "lag": max(overshoots, default=0.0),
        "wall": wall,
    }


async def run_charts(stores: Stores, sizes: Sizes) -> list[Row]:
    progress("charts: render times and a burst of identical requests")
    specs = await chart_specs(stores, sizes)
    rows: list[Row] = []
    for kind, spec in specs.items():
        render_chart(spec)  # warm-up: fonts, caches
        p50s, p99s, sizes_b = [], [], 0
        for _ in range(sizes.repeat):
            times = []
            for _ in range(sizes.renders):
                start = time.perf_counter()
                png = render_chart(spec)
                times.append(time.perf_counter() - start)
                sizes_b = len(png)
            p50s.append(percentile(times, 50))
            p99s.append(percentile(times, 99))
        p50, p99 = median(p50s), median(p99s)
        rows.append(
            Row(
                "5",
                f"chart render {kind} ({spec.width_px}×{spec.height_px}, {len(spec.candles)} bars)",
                f"p50 {ms(p50)} · p99 {ms(p99)} (n={sizes.renders * sizes.repeat})",
                f"PNG {sizes_b / 1000:.0f} kB",
                "report (runs off the loop)",
                "—",
                values={"kind": kind, "p50_s": p50, "p99_s": p99, "png_bytes": sizes_b},
            )
        )
    spec = specs["/levels"]
    bursts = [await burst(spec, sizes.burst) for _ in range(sizes.repeat)]
    renders = max(int(b["renders"]) for b in bursts)
    hits = min(int(b["hits"]) for b in bursts)
    coalesced = median([b["coalesced"] for b in bursts])
    lag = median([b["lag"] for b in bursts])
    rows.append(
        Row(
            "5",
            f"chart cache: {sizes.burst} identical /levels requests within 1 s",
            f"{renders} render(s), {hits} hits ({coalesced:.0f} joined the render in flight)",
            f"latency p50 {ms(median([b['p50'] for b in bursts]))} · p99 {ms(median([b['p99'] for b in bursts]))}",
            "1 render",
            status(renders == 1 and hits == sizes.burst - 1),
            values={"requests": sizes.burst, "renders": renders, "hits": hits, "coalesced": coalesced},
        )
    )
    rows.append(
        Row(
            "5",
            "event-loop lag during the chart burst",
            ms(lag),
            "—",
            f"≤ {LAG_GOAL * 1000:.0f} ms",
            status(lag <= LAG_GOAL),
            values={"max_lag_s": lag},
        )
    )
    return rows
