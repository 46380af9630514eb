"""The scheduler's jobs: each collector dataset on its own interval, with jitter,
``max_instances=1`` and coalescing, so a slow venue never stacks up overlapping runs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.collector import Collector
from bot.job_ids import TICKERS_JOB
from bot.settings import Settings
from bot.tracking import Tracker

DELAYED = {"track-market": 30, "track-backfill": 45}  # seconds after start


def job_table(
    collector: Collector, settings: Settings
) -> list[tuple[str, Callable[[], Awaitable[Any]], int]]:
    jobs = settings.jobs
    table: list[tuple[str, Callable[[], Awaitable[Any]], int]] = [
        (TICKERS_JOB, collector.refresh_tickers, jobs.tickers_seconds),
        ("refresh-markets", collector.refresh_markets, jobs.markets_seconds),
        ("refresh-candles", collector.refresh_candles, jobs.candles_seconds),
        ("refresh-derivatives", collector.refresh_derivatives, jobs.derivatives_seconds),
        ("refresh-macro", collector.refresh_macro, jobs.macro_seconds),
        ("refresh-sentiment", collector.refresh_sentiment, jobs.sentiment_seconds),
        ("prune", collector.prune, 6 * 3600),
    ]
    if collector.tracked.follows_market:
        # hourly check, daily choice (tracking.refresh_hours); the backfill of coins that entered
        tracker = Tracker(collector, collector.tracked)
        table += [
            ("track-market", tracker.refresh, 3600),
            ("track-backfill", tracker.backfill, settings.tracking.backfill_seconds),
        ]
    return table


def register_warming(scheduler: AsyncIOScheduler, warm: Callable[[], None]) -> None:
    """Call ``warm`` after every tickers refresh (the answers most asked are computed then)."""
    from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

    def after(event: JobExecutionEvent) -> None:
        if event.job_id == TICKERS_JOB:
            warm()

    scheduler.add_listener(after, EVENT_JOB_EXECUTED)


def register_jobs(scheduler: AsyncIOScheduler, collector: Collector, settings: Settings) -> None:
    for job_id, func, seconds in job_table(collector, settings):
        # Collectors run at start, then every interval; housekeeping waits its first interval;
        # the tracked set's jobs wait for the start-up collection (and its answers) to settle.
        first = collector.clock() + timedelta(
            seconds=DELAYED.get(job_id, 0) if job_id != "prune" else seconds
        )
        scheduler.add_job(
            func,
            "interval",
            seconds=seconds,
            jitter=settings.jobs.jitter_seconds,
            id=job_id,
            max_instances=1,
            coalesce=True,
            next_run_time=first,
            replace_existing=True,
        )
