"""A process that does not collect evaluates liquidation spikes as another process's events
land (:mod:`bot.alerts.liq_watch`), on both backends: a second store handle on the same target
stands in for the collector process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Iterator
from datetime import timedelta
from typing import Any

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.alerts.config import RuleName
from bot.alerts.liq_watch import WATCH_JOB, LiquidationWatch, register_liquidation_watch
from bot.alerts.state import AlertCycleReport
from bot.app import App
from bot.clock import FrozenClock
from bot.models import Ticker
from bot.settings import Settings
from bot.store import Store
from tests.alerts.conftest import (
    CH_A,
    ShapedSession,
    channel_posts,
    liquidation,
    seed_flat_market,
    seed_liquidation_baseline,
)
from tests.alerts.test_engine import subscribe
from tests.conftest import NOW


@pytest.fixture
def settings(settings: Settings, db: str) -> Settings:
    return settings.model_copy(update={"db": db})


@pytest.fixture
def collector(settings: Settings) -> Iterator[Store]:
    """The collector process's store handle: its own connections, its commits another's."""
    store = Store(settings.db)
    yield store
    store.close()


Cycles = list[tuple[tuple[RuleName, ...] | None, frozenset[str] | None]]


@pytest.fixture
def cycles(app: App, monkeypatch: pytest.MonkeyPatch) -> Cycles:
    """Every evaluation the alerts service runs: (rules, coins), then the real cycle."""
    alerts = app.services.alerts
    seen: Cycles = []
    real = alerts.run_cycle

    async def recording(
        *, rules: Collection[RuleName] | None = None, coins: Collection[str] | None = None
    ) -> AlertCycleReport:
        seen.append((None if rules is None else tuple(rules), None if coins is None else frozenset(coins)))
        return await real(rules=rules, coins=coins)

    monkeypatch.setattr(alerts, "run_cycle", recording)
    return seen


async def seen_by(app: App, before: tuple[int, int]) -> None:
    """Wait until another connection's commit reached this store's data version (within 0.1 s
    on both backends: SQLite's PRAGMA, PostgreSQL's counter rows read by a thread)."""
    for _ in range(250):
        if app.store.sync.data_version() != before:
            return
        await asyncio.sleep(0.02)
    raise AssertionError("another connection's commit never changed the data version")


async def test_another_process_s_spike_is_evaluated_for_exactly_its_coins(
    app: App, clock: FrozenClock, shaped: ShapedSession, collector: Store, cycles: Cycles, store_backend: str
) -> None:
    seed_flat_market(app)
    seed_liquidation_baseline(app, "ETH")  # $10K an hour: $2.5K per 15 min
    await subscribe(app, CH_A, coins=("ETH", "BTC"), rules=("liquidations",))
    alerts = app.services.alerts
    clock.now = NOW + timedelta(seconds=30)
    before = app.store.sync.data_version()
    collector.insert_liquidations([liquidation("BTC", 50.0, NOW, 1)])  # before the watcher starts
    await seen_by(app, before)
    watch = LiquidationWatch(alerts)
    assert await watch.look() == frozenset()  # the first look starts from now: no replay
    assert watch.reads == 1

    before = app.store.sync.data_version()
    batch = [liquidation("ETH", 400_000.0, NOW + timedelta(seconds=k), 1000 + k) for k in range(3)]
    collector.insert_liquidations(batch)
    await seen_by(app, before)
    assert await watch.look() == {"ETH"}
    await alerts.idle()
    assert cycles == [(("liquidations",), frozenset({"ETH"}))]
    [post] = channel_posts(shaped.fake.requests, CH_A)
    assert post.json["embeds"][0]["title"] == "💥 ETH liquidation spike: $1.20M in 15m"

    # the evaluation's own commits (alert states) change SQLite's version: read, nothing new
    assert await watch.look() == frozenset()
    # nothing committed since: the store is not even read
    reads = watch.reads
    assert await watch.look() == frozenset()
    assert watch.reads == reads

    # other data committed: SQLite cannot tell it from liquidations (read, nothing evaluated),
    # PostgreSQL can (not read)
    before = app.store.sync.data_version()
    ticker = Ticker(coin="BTC", venue="binance", market="spot", price=101.0, ts=clock.now)
    collector.upsert_tickers([ticker], clock.now)
    await seen_by(app, before)
    assert await watch.look() == frozenset()
    assert watch.reads == reads + {"sqlite": 1, "postgresql": 0}[store_backend]
    # a replayed event is no new event
    before = app.store.sync.data_version()
    collector.insert_liquidations(batch[:1])
    newer = ticker.model_copy(update={"ts": clock.now + timedelta(seconds=1)})
    collector.upsert_tickers([newer], clock.now)  # a commit the version shows on both backends
    await seen_by(app, before)
    assert await watch.look() == frozenset()
    await alerts.idle()
    assert len(cycles) == 1
    assert len(channel_posts(shaped.fake.requests, CH_A)) == 1


async def test_a_failed_look_is_logged_and_retried(
    app: App, clock: FrozenClock, collector: Store, cycles: Cycles, caplog: pytest.LogCaptureFixture
) -> None:
    store = app.store.sync
    watch = LiquidationWatch(app.services.alerts)
    assert await watch.look() == frozenset()
    real = store.liq_minute_events

    def failing(*args: Any) -> Any:
        raise OSError("disk I/O error")

    before = store.data_version()
    collector.insert_liquidations([liquidation("SOL", 1000.0, NOW, 1)])
    await seen_by(app, before)
    store.liq_minute_events = failing  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="bot.alerts.liq_watch"):
        assert await watch.look() == frozenset()
    assert "watching the store for liquidations failed" in caplog.text
    store.liq_minute_events = real  # type: ignore[method-assign]
    assert await watch.look() == {"SOL"}  # the same commit, looked at again
    await app.services.alerts.idle()
    assert cycles == [(("liquidations",), frozenset({"SOL"}))]


async def test_the_job_looks_every_second_one_look_at_a_time(app: App) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    watch = register_liquidation_watch(scheduler, app.services.alerts)
    job = scheduler.get_job(WATCH_JOB)
    assert job.trigger.interval == timedelta(seconds=1)
    await watch.tick()
    first = watch._task
    await watch.tick()  # the first look is still running: no second one
    assert watch._task is first
    assert first is not None
    assert await first == frozenset()
    await watch.tick()
    assert watch._task is not first
    await watch._task
