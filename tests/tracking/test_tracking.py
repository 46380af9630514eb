"""The tracked set following the market, against the loopback fake venues (tests/fake_venues.py):
the daily refresh adding a coin starts its backfill, every answer about it says it is loading
(venues counted from the recorded progress) until its history is in, and a restart without the
network knows the set and the progress from the store."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from bot.alerts_cli import tracked_coins
from bot.app import App, build_app, collector_for
from bot.client import TapewatchBot
from bot.clock import FrozenClock
from bot.jobs import job_table
from bot.offline import OfflineSession, message_payload
from bot.settings import Settings, load_settings
from bot.tracking import Tracker
from bot.universe import Overrides
from tests.conftest import NOW
from tests.fake_venues import venue_routes
from tests.helpers import FakeExchange, every_venue_at, sample

OKX_OI_HISTORY = "/api/v5/rubik/stat/contracts/open-interest-history"


@pytest.fixture
async def exchange() -> AsyncIterator[FakeExchange]:
    fake = FakeExchange(venue_routes(["BTC", "ETH"]))
    await fake.start()
    yield fake
    await fake.close()


def settings_for(url: str, db: Path, **tracking: Any) -> Settings:
    providers: dict[str, dict[str, Any]] = {k: dict(v) for k, v in every_venue_at(url).items()}
    for venue in ("binance", "bybit", "okx", "coingecko"):
        providers[venue]["requests_per_minute"] = 60_000
    return load_settings(
        db=db,
        coins=["BTC", "ETH"],
        providers=providers,
        http={"retries": 0},
        tracking={"size": 3, **tracking},
    )


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def app(exchange: FakeExchange, tmp_path: Path, clock: FrozenClock) -> Iterator[App]:
    built = build_app(settings_for(exchange.url, tmp_path / "store.db"), clock=clock)
    yield built
    built.close()


async def ask(app: App, text: str) -> dict[str, Any]:
    async with OfflineSession(TapewatchBot(services=app.services)) as session:
        requests = await session.invoke(text)
        assert session.fake.refused == []
    replies = [r for r in requests if "/callback" in r.path or r.path.startswith("/webhooks/")]
    return message_payload(replies[-1])


def refusing_sol(routes: dict[str, Any]) -> Any:
    """OKX's OI history refusing SOL (a venue error code), answering the others as before."""
    served = routes[OKX_OI_HISTORY]

    def handle(request: web.Request) -> tuple[int, Any]:
        if request.query.get("instId") == "SOL-USDT-SWAP":
            return 200, {"code": "51001", "msg": "Instrument ID does not exist", "data": []}
        result: tuple[int, Any] = served(request)
        return result

    return handle


async def test_a_coin_entering_loads_its_history_before_it_is_answered(
    app: App, exchange: FakeExchange, clock: FrozenClock
) -> None:
    async with collector_for(app) as collector:
        tracker = Tracker(collector, app.tracked)
        await tracker.refresh()
        assert app.tracked.symbols == ["BTC", "ETH"]  # the fake lists only these today
        assert app.tracked.all_loading == []

        # a day later SOL trades and ranks: it enters the set
        routes = venue_routes(["BTC", "ETH", "SOL"])
        routes[OKX_OI_HISTORY] = refusing_sol(routes)
        exchange.routes = routes
        clock.advance(hours=25)
        await tracker.refresh()
        assert app.tracked.symbols == ["BTC", "ETH", "SOL"]
        assert "SOL" in [c.symbol for c in collector.coins]  # collected from now on
        payload = await ask(app, "/price coin:sol")
        assert payload["flags"] == 64
        assert payload["embeds"][0]["description"].startswith(
            "SOL history loading: 0 of 3 venues done (Binance, Bybit, OKX to come)."
        )

        await tracker.backfill()
        assert app.store.sync.backfill_progress()["SOL"] == {
            "binance": clock(),
            "bybit": clock(),
            "okx": None,  # refused: still loading
        }
        assert app.store.sync.count("candles") > 0
        for text in ("/price coin:sol", "/why coin:SOL", "/derivatives coin:sol", '/price coin:"btc sol"'):
            payload = await ask(app, text)
            assert payload["embeds"][0]["description"].startswith(
                "SOL history loading: 2 of 3 venues done (Binance, Bybit; OKX to come)."
            ), text
        assert "SOL" not in app.market.tracked  # not in market-wide answers either
        status = (await ask(app, "/status"))["embeds"][0]["description"]
        assert "History loading for 1 new coin(s) (venues done): SOL 2/3." in status

        exchange.routes = venue_routes(["BTC", "ETH", "SOL"])
        await collector.refresh_tickers()
        await tracker.backfill()
        assert app.tracked.loading("SOL") is None
        payload = await ask(app, "/price coin:sol")
        assert payload["embeds"][0]["title"].startswith("SOL $")
        assert not payload.get("flags")


async def test_restart_without_network_uses_the_persisted_set(
    app: App, exchange: FakeExchange, clock: FrozenClock, tmp_path: Path
) -> None:
    exchange.routes = venue_routes(["BTC", "ETH", "SOL"])
    async with collector_for(app) as collector:
        tracker = Tracker(collector, app.tracked)
        await tracker.refresh()
        await collector.refresh_tickers()
    assert app.tracked.symbols == ["BTC", "ETH", "SOL"]
    app.close()

    offline = settings_for("http://127.0.0.1:9", tmp_path / "store.db")
    restarted = build_app(offline, clock=clock)
    try:
        assert restarted.tracked.symbols == ["BTC", "ETH", "SOL"]
        assert restarted.registry.get("SOL").okx == "SOL-USDT-SWAP"
        loading = restarted.tracked.loading("SOL")
        assert loading is not None
        assert loading.done == ()  # the progress persisted too
        payload = await ask(restarted, "/price coin:SOL")
        assert payload["embeds"][0]["description"].startswith("SOL history loading: 0 of 3 venues done")
        async with collector_for(restarted) as collector:
            # not due: no request at all within tracking.refresh_hours
            report = await Tracker(collector, restarted.tracked).refresh()
            assert report.sources == []
            assert [c.symbol for c in collector.coins] == ["BTC", "ETH", "SOL"]
    finally:
        restarted.close()


async def test_a_failing_list_keeps_the_set(app: App, exchange: FakeExchange) -> None:
    async with collector_for(app) as collector:
        tracker = Tracker(collector, app.tracked)
        await tracker.refresh()
        routes = venue_routes(["BTC", "ETH", "SOL"])
        del routes["/v5/market/instruments-info"]  # Bybit's list answers 404
        exchange.routes = routes
        report = await tracker.refresh(force=True)
    assert app.tracked.symbols == ["BTC", "ETH"]
    failed = [s.source for s in report.sources if s.error]
    assert failed == ["bybit/instruments"]


async def test_coins_others_ask_for_join_and_load(app: App, exchange: FakeExchange) -> None:
    exchange.routes = venue_routes(["BTC", "ETH", "INJ"])
    app.tracked.set_extra("guild:1", ["INJ"])
    async with collector_for(app) as collector:
        await Tracker(collector, app.tracked).backfill()
    assert app.tracked.symbols == ["BTC", "ETH", "INJ"]
    assert app.tracked.loading("INJ") is None  # its three venues answered
    assert [c.symbol for c in app.store.sync.tracked_coins()] == ["BTC", "ETH", "INJ"]


def test_fixed_mode_keeps_the_config_list(exchange: FakeExchange, tmp_path: Path, clock: FrozenClock) -> None:
    built = build_app(settings_for(exchange.url, tmp_path / "fixed.db", mode="fixed"), clock=clock)
    try:
        assert built.tracked.symbols == ["BTC", "ETH"]
        assert not built.tracked.follows_market
    finally:
        built.close()


async def test_jobs_follow_the_mode(app: App) -> None:
    async with collector_for(app) as collector:
        ids = [job_id for job_id, _f, _s in job_table(collector, app.settings)]
    assert ids[-2:] == ["track-market", "track-backfill"]


async def test_a_discovered_1000x_contract_is_priced_per_coin(app: App, exchange: FakeExchange) -> None:
    """PEPE found on the venues' lists (no registry row consulted): 1000PEPEUSDT on Binance and
    Bybit, quoted per 1,000 PEPE, is stored per PEPE."""
    exchange.routes = venue_routes(["BTC", "ETH", "PEPE"])
    async with collector_for(app) as collector:
        await Tracker(collector, app.tracked, overrides=Overrides()).refresh()
        pepe = app.registry.get("PEPE")
        assert (pepe.binance_perp, pepe.bybit, pepe.okx, pepe.perp_multiplier) == (
            "1000PEPEUSDT",
            "1000PEPEUSDT",
            "PEPE-USDT-SWAP",
            1000,
        )
        await collector.refresh_tickers()
    [binance_row] = sample("binance-usdm/ticker-24hr-all-symbols.json")
    bybit_row = sample("bybit-v5/ws-tickers-linear-snapshot.json")["data"]
    prices = {(t.venue, t.market): t.price for t in app.store.sync.tickers("PEPE")}
    assert prices[("binance", "perp")] == pytest.approx(float(binance_row["lastPrice"]) / 1000)
    assert prices[("bybit", "perp")] == pytest.approx(float(bybit_row["lastPrice"]) / 1000)


async def test_coins_below_the_cut_are_known_and_a_new_size_chooses_again(
    app: App, exchange: FakeExchange, tmp_path: Path, clock: FrozenClock
) -> None:
    exchange.routes = venue_routes(["BTC", "ETH", "SOL", "XRP"])
    async with collector_for(app) as collector:
        await Tracker(collector, app.tracked).refresh()
    assert app.tracked.symbols == ["BTC", "ETH", "SOL"]
    assert [c.symbol for c in app.store.sync.tracked_coins(known=True)] == ["BTC", "ETH", "SOL", "XRP"]
    payload = await ask(app, "/price coin:xrp")
    assert payload["embeds"][0]["description"].startswith("XRP (XRP) is not tracked on this bot.")
    app.close()

    bigger = build_app(settings_for(exchange.url, tmp_path / "store.db", size=4), clock=clock)
    try:
        async with collector_for(bigger) as collector:
            report = await Tracker(collector, bigger.tracked).refresh()  # within the day, but size changed
        assert report.sources != []
        assert bigger.tracked.symbols == ["BTC", "ETH", "SOL", "XRP"]
        assert [p.symbol for p in bigger.tracked.all_loading] == ["SOL", "XRP"]  # SOL: still loading
    finally:
        bigger.close()


async def test_a_venue_failing_for_hours_stops_holding_the_coin_back(
    app: App, exchange: FakeExchange, clock: FrozenClock, tmp_path: Path
) -> None:
    routes = venue_routes(["BTC", "ETH", "SOL"])
    routes[OKX_OI_HISTORY] = refusing_sol(routes)
    exchange.routes = routes
    async with collector_for(app) as collector:
        tracker = Tracker(collector, app.tracked)
        await tracker.refresh()
        await tracker.backfill()
        clock.advance(hours=5)
        await tracker.backfill()
        progress = app.tracked.loading("SOL")
        assert progress is not None
        assert progress.done == ("binance", "bybit")
        clock.advance(hours=2)  # past GIVE_UP since the first failure
        await tracker.backfill()
    assert app.tracked.loading("SOL") is None
    assert "SOL" in app.market.tracked
    with sqlite3.connect(tmp_path / "store.db") as conn:
        [(error,)] = conn.execute("SELECT error FROM coin_backfill WHERE symbol = 'SOL' AND venue = 'okx'")
    assert error.startswith("gave up after 6:00:00: code 51001")


async def test_a_venue_switched_off_is_not_waited_for(app: App, exchange: FakeExchange) -> None:
    exchange.routes = venue_routes(["BTC", "ETH", "SOL"])
    async with collector_for(app) as collector:
        tracker = Tracker(collector, app.tracked)
        await tracker.refresh()
        collector.disabled["okx"] = "HTTP 451 (refuses this location)"
        await tracker.backfill()
    assert app.tracked.loading("SOL") is None


def test_the_backtest_replays_the_stored_set(app: App) -> None:
    registry = app.registry
    app.store.sync.save_tracked([registry.get("BTC"), registry.get("INJ")], NOW, {})
    assert tracked_coins(app.settings) == ["BTC", "INJ", "ETH"]
    fixed = app.settings.model_copy(
        update={"tracking": app.settings.tracking.model_copy(update={"mode": "fixed"})}
    )
    assert tracked_coins(fixed) == ["BTC", "ETH"]
