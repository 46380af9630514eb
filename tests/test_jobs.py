"""The ticker job against a loopback fake exchange serving recorded payloads, and its faults."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App, build_app
from bot.clock import FrozenClock
from bot.collector import Collector
from bot.collector_report import CycleReport
from bot.job_ids import TICKERS_JOB
from bot.jobs import register_jobs
from bot.providers.http import HttpClient
from bot.settings import Settings, load_settings
from tests.helpers import BINANCE_ROUTES, FakeExchange, every_venue_at


def binance(report: CycleReport) -> list[tuple[str, int, str | None]]:
    """The Binance ticker datasets of a cycle (the other venues have no routes here: 404)."""
    return [
        (s.source, s.stored, s.error)
        for s in report.sources
        if s.source.endswith("-tickers") and s.source.startswith("binance")
    ]


@pytest.fixture
async def exchange() -> AsyncIterator[FakeExchange]:
    fake = FakeExchange(dict(BINANCE_ROUTES))
    await fake.start()
    yield fake
    await fake.close()


@pytest.fixture
def pointed(tmp_path: Any, exchange: FakeExchange) -> Settings:
    return load_settings(
        db=tmp_path / "s.db",
        coins=["BTC", "ETH", "SOL"],
        providers=every_venue_at(exchange.url),
        http={"retries": 2, "backoff_base_seconds": 0.0, "backoff_max_seconds": 0.01, "timeout_seconds": 2},
    )


@pytest.fixture
async def wired(pointed: Settings, clock: FrozenClock) -> AsyncIterator[tuple[App, Collector]]:
    app = build_app(pointed, clock=clock)
    http = HttpClient(pointed.http)
    yield app, Collector(pointed, app.store, http, app.registry, clock)
    await http.aclose()
    app.close()


async def test_refresh_stores_tickers_from_both_markets(
    wired: tuple[App, Collector], exchange: FakeExchange
) -> None:
    app, collector = wired
    report = await collector.refresh_tickers()
    assert binance(report) == [("binance/spot-tickers", 2, None), ("binance/perp-tickers", 1, None)]
    btc = {(t.venue, t.market): t for t in app.store.sync.tickers("BTC")}
    assert btc[("binance", "perp")].price == 4.000002  # the recorded USDⓈ-M row
    assert btc[("binance", "perp")].change_24h_pct == -95.96
    assert app.store.sync.tickers("ETH")[0].price == 3012.5
    assert exchange.hits.count("/api/v3/ticker/24hr") == 1  # one batch request per market


async def test_fault_keeps_last_good_rows_and_marks_source(
    wired: tuple[App, Collector], exchange: FakeExchange
) -> None:
    app, collector = wired
    await collector.refresh_tickers()
    before = app.store.sync.tickers()
    exchange.routes["/fapi/v1/ticker/24hr"] = lambda _r: (503, {"msg": "maintenance"})
    exchange.routes["/api/v3/ticker/24hr"] = lambda _r: (200, "{not json")
    report = await collector.refresh_tickers()
    assert [error is not None for _, _, error in binance(report)] == [True, True]
    assert app.store.sync.tickers() == before
    health = {h.source: h for h in app.store.sync.source_health()}
    assert health["binance/perp-tickers"].consecutive_failures == 1
    assert "503" in (health["binance/perp-tickers"].last_error or "")
    assert "malformed JSON" in (health["binance/spot-tickers"].last_error or "")
    assert exchange.hits.count("/fapi/v1/ticker/24hr") == 1 + 3  # first run + 1 try + 2 retries


async def test_drifted_payload_is_rejected_not_stored(
    wired: tuple[App, Collector], exchange: FakeExchange
) -> None:
    app, collector = wired
    exchange.routes["/fapi/v1/ticker/24hr"] = lambda _r: (200, [{"symbol": "BTCUSDT", "last_price": "1"}])
    exchange.routes["/api/v3/ticker/24hr"] = lambda _r: (
        200,
        [
            {
                "symbol": "BTCUSDT",
                "lastPrice": "0",
                "priceChangePercent": "1",
                "highPrice": "1",
                "lowPrice": "1",
                "quoteVolume": "1",
                "closeTime": 1,
            }
        ],
    )
    report = await collector.refresh_tickers()
    assert all(error and "no row validated" in error for _, _, error in binance(report))
    assert app.store.sync.count("tickers") == 0


async def test_geo_block_disables_source_once(wired: tuple[App, Collector], exchange: FakeExchange) -> None:
    app, collector = wired
    exchange.routes["/fapi/v1/ticker/24hr"] = lambda _r: (451, {"msg": "restricted location"})
    await collector.refresh_tickers()
    hits = exchange.hits.count("/fapi/v1/ticker/24hr")
    report = await collector.refresh_tickers()
    assert hits == 1  # no retry on 451
    assert exchange.hits.count("/fapi/v1/ticker/24hr") == 1  # not asked again while disabled
    assert all((error or "").startswith("disabled") for _, _, error in binance(report))  # the whole venue
    [h] = [h for h in app.store.sync.source_health() if h.source == "binance/perp-tickers"]
    assert h.disabled_reason is not None


async def test_jobs_registered_without_overlap(pointed: Settings, wired: tuple[App, Collector]) -> None:
    _, collector = wired
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_jobs(scheduler, collector, pointed)
    job = scheduler.get_job(TICKERS_JOB)
    assert job.trigger.interval.total_seconds() == pointed.jobs.tickers_seconds
    assert {j.id for j in scheduler.get_jobs()} == {
        TICKERS_JOB,
        "refresh-markets",
        "refresh-candles",
        "refresh-derivatives",
        "refresh-macro",
        "refresh-sentiment",
        "prune",
    }
    for j in scheduler.get_jobs():
        assert j.max_instances == 1
        assert j.coalesce is True
        assert j.trigger.jitter == pointed.jobs.jitter_seconds


async def test_future_timestamps_are_dropped(wired: tuple[App, Collector], exchange: FakeExchange) -> None:
    app, collector = wired
    far_future_ms = 4_102_444_800_000  # 2100-01-01
    row = {
        "symbol": "BTCUSDT",
        "lastPrice": "5",
        "priceChangePercent": "1",
        "highPrice": "6",
        "lowPrice": "4",
        "quoteVolume": "1",
        "closeTime": far_future_ms,
    }
    exchange.routes["/fapi/v1/ticker/24hr"] = lambda _r: (200, [row])
    await collector.refresh_tickers()
    assert [t.market for t in app.store.sync.tickers("BTC")] == ["spot"]


async def test_spot_symbol_list_refused_falls_back_to_all_symbols(
    wired: tuple[App, Collector], exchange: FakeExchange
) -> None:
    _app, collector = wired
    spot_all = BINANCE_ROUTES["/api/v3/ticker/24hr"]

    def route(request: Any) -> tuple[int, Any]:
        if "symbols" in request.query:
            return 400, {"code": -1121, "msg": "Invalid symbol."}
        return spot_all(request)  # type: ignore[operator, no-any-return]

    exchange.routes["/api/v3/ticker/24hr"] = route
    report = await collector.refresh_tickers()
    assert binance(report)[0][1] == 2
    assert exchange.hits.count("/api/v3/ticker/24hr") == 2


async def test_unreachable_venue_is_skipped_for_the_rest_of_the_cycle(
    tmp_path: Any, clock: FrozenClock
) -> None:
    settings = load_settings(
        db=tmp_path / "u.db",
        coins=["BTC"],
        providers=every_venue_at("http://127.0.0.1:9"),  # nothing listens there: connection refused
        http={"retries": 0, "timeout_seconds": 2},
    )
    app = build_app(settings, clock=clock)
    http = HttpClient(settings.http)
    try:
        collector = Collector(settings, app.store, http, app.registry, clock)
        report = await collector.run_once()
        first: dict[str, Any] = {}
        for s in report.sources:
            first.setdefault(s.source.split("/")[0], s)
        assert all((s.error or "").startswith("cannot connect") for s in first.values())
        skipped = [s for s in report.sources if (s.error or "").startswith("skipped:")]
        assert len(skipped) == len(report.sources) - len(first)
        requests = sum(v.requests for v in (collector.binance.spot, collector.binance.futures))
        assert requests == 1  # one refused connection, then Binance's other datasets wait for the next cycle
    finally:
        await http.aclose()
        app.close()
