"""Row 3: requests per refresh cycle per venue at the most coins.

``Collector.refresh_tickers`` and ``refresh_markets`` run against the loopback
``FakeExchange(venue_routes(...))`` of the tests, which answers every venue for the tracked
coins (synthetic ones included: the bench's registry is the one ``venue_routes`` loads). Each
provider's ``VenueClient.requests`` counts what it sent; the fake's own hit list is the check.
The first cycle is cold (Binance's funding-interval list is fetched then cached for an hour);
the next ones are the steady state.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from bench.common import Sizes, Stores, progress
from bench.report import Row, status
from bot.app import build_app, collector_for
from bot.collector import Collector
from bot.providers.http import VenueClient
from bot.settings import load_settings
from tests.fake_venues import venue_routes
from tests.helpers import FakeExchange, every_venue_at

GOAL = 10


def venue_clients(collector: Collector) -> dict[str, list[VenueClient]]:
    return {
        "binance": [collector.binance.spot, collector.binance.futures],
        "bybit": [collector.bybit.rest],
        "okx": [collector.okx.rest],
        "coingecko": [collector.coingecko.rest],
    }


def _venue_of(path: str) -> str:
    if path.startswith(("/api/v3/coins", "/api/v3/global")):
        return "coingecko"
    if path.startswith(("/api/v3", "/fapi", "/futures")):
        return "binance"
    if path.startswith("/v5/"):
        return "bybit"
    if path.startswith("/api/v5/"):
        return "okx"
    return "other"


async def run_refresh(stores: Stores, sizes: Sizes) -> list[Row]:
    coins = sizes.max_coins
    symbols = list(stores.symbols[:coins])
    progress(f"requests per refresh cycle at {coins} coins")
    fake = FakeExchange(venue_routes(symbols))
    url = await fake.start()
    cycles: list[dict[str, int]] = []
    hits: list[Counter[str]] = []
    failures: list[str] = []
    try:
        with tempfile.TemporaryDirectory(prefix="tapewatch-bench-refresh-") as tmp:
            providers: dict[str, dict[str, object]] = {k: dict(v) for k, v in every_venue_at(url).items()}
            # the per-venue budget only paces; the bench counts requests, it does not wait for
            # CoinGecko's keyless 10/minute
            providers["coingecko"]["requests_per_minute"] = 600
            settings = load_settings(
                stores.settings_path, db=Path(tmp) / "refresh.db", coins=symbols, providers=providers
            )
            app = build_app(settings)
            try:
                async with collector_for(app) as collector:
                    clients = venue_clients(collector)
                    for _ in range(max(2, min(sizes.repeat, 3))):
                        before = {v: sum(c.requests for c in cs) for v, cs in clients.items()}
                        seen = len(fake.hits)
                        report = await collector.refresh_tickers()
                        report += await collector.refresh_markets()
                        failures += [s.line() for s in report.sources if s.error]
                        cycles.append(
                            {v: sum(c.requests for c in cs) - before[v] for v, cs in clients.items()}
                        )
                        hits.append(Counter(_venue_of(p) for p in fake.hits[seen:]))
            finally:
                app.close()
    finally:
        await fake.close()

    rows: list[Row] = []
    cold, warm = cycles[0], cycles[1:]
    for venue in cold:
        steady = max(c[venue] for c in warm)
        worst = max(cold[venue], steady)
        agrees = all(h[venue] == c[venue] for h, c in zip(hits, cycles, strict=True))
        note = ""
        if venue == "binance":
            note = (
                "Binance counts spot + USDⓈ-M hosts together. A cycle is refresh_tickers + refresh_markets; "
                "counted by VenueClient.requests and checked against the loopback fake's hits"
                + ("" if agrees else " (THE FAKE SAW A DIFFERENT NUMBER)")
                + (f"; failures: {'; '.join(failures)}" if failures else "; every source answered ok")
                + ". Per-coin jobs (candles, OI history, long/short) are not batch endpoints and not counted here."
            )
        rows.append(
            Row(
                "3",
                f"requests per refresh cycle · {venue} · {coins} coins",
                f"{cold[venue]} cold, {steady} steady",
                f"fake exchange saw {hits[0][venue]} / {hits[-1][venue]}",
                f"≤ {GOAL}",
                status(worst <= GOAL, agrees and not failures),
                note=note,
                values={
                    "venue": venue,
                    "coins": coins,
                    "cold": cold[venue],
                    "steady": steady,
                    "fake_agrees": agrees,
                },
            )
        )
    return rows


async def run_tracking(stores: Stores, sizes: Sizes) -> list[Row]:
    """The tracked set following the market at the most coins: the daily discovery's requests,
    the refresh cycle over the set it chose (the ≤ 10 goal), and one new coin's backfill."""
    from bot.tracking import Tracker  # after the bench's config is in place, like the rest

    coins = sizes.max_coins
    symbols = list(stores.symbols[:coins])
    progress(f"tracked set following the market at {coins} coins")
    fake = FakeExchange(venue_routes(symbols))
    url = await fake.start()
    measured: dict[str, dict[str, int]] = {}
    failures: list[str] = []
    chosen = 0
    try:
        with tempfile.TemporaryDirectory(prefix="tapewatch-bench-tracking-") as tmp:
            providers: dict[str, dict[str, object]] = {k: dict(v) for k, v in every_venue_at(url).items()}
            providers["coingecko"]["requests_per_minute"] = 600
            settings = load_settings(
                stores.settings_path,
                db=Path(tmp) / "tracking.db",
                coins=symbols[:2],  # the rest comes from discovery
                providers=providers,
                tracking={"size": coins, "backfill_coins_per_run": 1},
            )
            app = build_app(settings)
            try:
                async with collector_for(app) as collector:
                    clients = venue_clients(collector)
                    tracker = Tracker(collector, app.tracked)

                    async def count(step: str, work: Any) -> None:
                        before = {v: sum(c.requests for c in cs) for v, cs in clients.items()}
                        report = await work()
                        nonlocal failures
                        failures += [s.line() for s in report.sources if s.error]
                        measured[step] = {
                            v: sum(c.requests for c in cs) - before[v] for v, cs in clients.items()
                        }

                    await count("discovery", lambda: tracker.refresh(force=True))
                    chosen = len(app.tracked.symbols)
                    await count("warm-up cycle", collector.refresh_tickers)  # Binance's funding intervals
                    await count("cycle", lambda: _cycle(collector))
                    await count("backfill", tracker.backfill)
            finally:
                app.close()
    finally:
        await fake.close()
    rows: list[Row] = []
    for venue in measured.get("cycle", {}):
        cycle = measured["cycle"][venue]
        rows.append(
            Row(
                "3",
                f"tracked set following the market · {venue} · {chosen} coins",
                f"cycle {cycle}",
                f"discovery {measured['discovery'][venue]} a day; backfill {measured['backfill'][venue]} per new coin",
                f"cycle ≤ {GOAL}",
                status(chosen == coins and cycle <= GOAL, not failures),
                note=(
                    "The set chosen by the daily discovery (CoinGecko ranking + instrument lists on the loopback fake), "
                    "then one refresh_tickers + refresh_markets cycle over it, then one new coin's backfill "
                    "(candles, OI history, long/short, top traders, funding history: one-time, paced by "
                    "tracking.backfill_coins_per_run)"
                    + (f"; failures: {'; '.join(failures)}" if failures else "; every source answered ok")
                )
                if venue == "binance"
                else "",
                values={
                    "venue": venue,
                    "coins": chosen,
                    "discovery": measured["discovery"][venue],
                    "cycle": cycle,
                    "backfill_per_coin": measured["backfill"][venue],
                },
            )
        )
    return rows


async def _cycle(collector: Collector) -> Any:
    report = await collector.refresh_tickers()
    report += await collector.refresh_markets()
    return report
