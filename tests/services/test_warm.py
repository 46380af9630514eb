"""Warming: after a tickers refresh the market answer of every window and the most-asked coins
are computed, so the next reader is served from the cache (a counter, not a clock)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App
from bot.job_ids import TICKERS_JOB
from bot.jobs import register_warming
from bot.services.warm import Warmer
from tests.helpers import open_scenario


@pytest.fixture
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


async def test_warming_serves_the_next_readers_from_the_cache(selloff: App) -> None:
    why, market = selloff.services.why, selloff.services.market
    sol = market.resolve("SOL")
    await why.why(sol, "4h")
    await why.why(sol, "1h")
    assert Warmer(why).coins() == ["SOL"]
    stats = market.answers.stats
    misses = stats.misses
    assert await Warmer(why).warm() == 5  # the market over 4 windows, and SOL over 24h
    assert stats.misses == misses  # warming is not counted as asked
    for window in ("1h", "4h", "24h", "7d"):
        await why.why(None, window)
    await why.why(sol, "24h")
    assert stats.misses == misses
    assert stats.hits == 5


async def test_warming_runs_after_each_tickers_refresh_only() -> None:
    calls: list[str] = []
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_warming(scheduler, lambda: calls.append("warm"))
    now = datetime(2026, 12, 5, tzinfo=UTC)
    scheduler._dispatch_event(JobExecutionEvent(EVENT_JOB_EXECUTED, "refresh-candles", "default", now))
    assert calls == []
    scheduler._dispatch_event(JobExecutionEvent(EVENT_JOB_EXECUTED, TICKERS_JOB, "default", now))
    assert calls == ["warm"]
