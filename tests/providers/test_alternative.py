"""alternative.me's Fear & Greed index: the parser on a payload hand-written in the documented
shape (tests/fixtures/documented-shape/alternative-me, no recorded sample exists), its edge
cases, the provider's request, and the collector storing it with its health."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App, build_app
from bot.clock import FrozenClock
from bot.collector import Collector
from bot.jobs import register_jobs
from bot.providers.alternative import AlternativeProvider, parse_fng
from bot.providers.http import BadPayload, HttpClient
from bot.settings import AlternativeSettings, Settings, load_settings
from tests.helpers import every_venue_at

from .conftest import FakeVenue, ok

FIXTURE = (
    Path(__file__).resolve().parents[1]
    / "fixtures"
    / "documented-shape"
    / "alternative-me"
    / "fng-limit-10.json"
)
NOW = datetime(2024, 6, 22, 9, 0, tzinfo=UTC)


def body() -> Any:
    return json.loads(FIXTURE.read_text(encoding="utf-8"))


def day(d: int) -> datetime:
    return datetime(2024, 6, d, tzinfo=UTC)


def test_the_documented_shape_parses_oldest_first() -> None:
    points = parse_fng(body())
    assert [p.ts for p in points] == [day(d) for d in range(13, 23)]
    newest = points[-1]
    assert (newest.value, newest.label, newest.source) == (23, "Extreme Fear", "alternative.me")
    assert [p.value for p in points[:3]] == [65, 71, 78]


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"name": "Fear and Greed Index", "metadata": {"error": None}}, "no data list"),
        ([], "no data list"),
        ({"data": [], "metadata": {"error": "Invalid limit"}}, "Invalid limit"),
        ({"data": [{"value": "x", "value_classification": "Fear", "timestamp": "1"}]}, "none usable"),
    ],
)
def test_a_body_that_is_not_the_index_is_a_bad_payload(payload: Any, message: str) -> None:
    with pytest.raises(BadPayload, match=message):
        parse_fng(payload)


def test_unusable_entries_are_skipped() -> None:
    good = {"value": "40", "value_classification": "Fear", "timestamp": str(int(day(20).timestamp()))}
    entries = [
        good,
        {**good, "value": "101", "timestamp": str(int(day(19).timestamp()))},  # out of range
        {**good, "value": "40.5", "timestamp": str(int(day(18).timestamp()))},  # not a whole number
        {**good, "value_classification": "", "timestamp": str(int(day(17).timestamp()))},
        {"value": "40", "value_classification": "Fear"},  # no timestamp
        "40",
    ]
    assert [(p.ts, p.value) for p in parse_fng({"data": entries})] == [(day(20), 40)]
    assert parse_fng({"data": []}) == []


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return load_settings(
        db=tmp_path / "store.db", coins=["BTC"], providers=every_venue_at("http://127.0.0.1:9")
    )


@pytest.fixture
async def wired(settings: Settings, http: HttpClient) -> AsyncIterator[tuple[App, Collector]]:
    clock = FrozenClock(NOW)
    app = build_app(settings, clock=clock)
    yield app, Collector(settings, app.store, http, app.registry, clock)
    app.close()


async def test_the_provider_asks_for_a_month(fake: FakeVenue, http: HttpClient) -> None:
    fake.on("/fng/", ok(body()))
    points = await AlternativeProvider(http, AlternativeSettings()).fear_greed()
    assert len(points) == 10
    assert fake.requests[0].url.host == "api.alternative.me"
    assert fake.params() == {"limit": "30"}


async def test_the_collector_stores_the_readings_and_their_health(
    wired: tuple[App, Collector], fake: FakeVenue
) -> None:
    app, collector = wired
    fake.on("/fng/", ok(body()))
    report = await collector.refresh_sentiment()
    assert [(s.source, s.stored, s.error) for s in report.sources] == [("alternative/fear-greed", 10, None)]
    latest = app.store.sync.fear_greed_latest(NOW)
    assert latest is not None
    assert (latest.ts, latest.value, latest.label) == (day(22), 23, "Extreme Fear")
    assert app.store.sync.fear_greed_latest(day(21)) is not None
    assert app.store.sync.fear_greed_latest(day(12)) is None
    [health] = [h for h in app.store.sync.source_health() if h.source == "alternative/fear-greed"]
    assert health.last_error is None
    # a refetch the next day replaces what it repeats, adds what is new
    fake.on(
        "/fng/",
        ok(
            {
                "data": [
                    {
                        "value": "30",
                        "value_classification": "Fear",
                        "timestamp": str(int(day(22).timestamp())),
                    }
                ]
            }
        ),
    )
    await collector.refresh_sentiment()
    latest = app.store.sync.fear_greed_latest(NOW + timedelta(days=1))
    assert latest is not None
    assert (latest.value, latest.label) == (30, "Fear")


async def test_a_failure_is_recorded_and_stores_nothing(
    wired: tuple[App, Collector], fake: FakeVenue
) -> None:
    app, collector = wired
    fake.on("/fng/", httpx.Response(200, text="<html>maintenance</html>"))
    report = await collector.refresh_sentiment()
    assert report.sources[0].error is not None
    assert app.store.sync.fear_greed_latest(NOW) is None
    [health] = [h for h in app.store.sync.source_health() if h.source == "alternative/fear-greed"]
    assert health.consecutive_failures == 1


def test_a_daily_job_that_runs_at_start(settings: Settings, wired: tuple[App, Collector]) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_jobs(scheduler, wired[1], settings)
    job = scheduler.get_job("refresh-sentiment")
    assert job.trigger.interval == timedelta(hours=6)
    assert job.next_run_time == NOW  # at first start, then every 6 h
