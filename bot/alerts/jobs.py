"""Scheduling: evaluate alerts after each refresh job (and on an interval), look for due briefs."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from bot.alerts.outbox import DRAIN_SECONDS, OUTBOX_JOB
from bot.alerts.service import ALERTS_JOB, BRIEFS_JOB, LARGE_JOB, REFRESH_JOBS, AlertsService

if TYPE_CHECKING:
    from apscheduler.events import JobExecutionEvent
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.settings import Settings


LARGE_SECONDS = 15  # a batch waiting for its minute goes out at most this late

# -- scheduling --------------------------------------------------------------------------------


def register_alert_jobs(scheduler: AsyncIOScheduler, alerts: AlertsService, settings: Settings) -> None:
    """Evaluate alerts right after each refresh job (and every ``jobs.tickers_seconds`` as a
    fallback), post the tails of large-liquidation cascades every 15 s, look for due daily
    briefs every minute, and post what the outbox holds for this process every 2 s."""
    from apscheduler.events import EVENT_JOB_EXECUTED

    now = alerts.market.clock()
    every = settings.jobs.tickers_seconds
    # (the job, its id, every how many seconds, its first run in seconds)
    jobs: list[tuple[Callable[[], Awaitable[object]], str, int, int]] = [
        (alerts.run_cycle, ALERTS_JOB, every, every),
        (alerts.run_large, LARGE_JOB, LARGE_SECONDS, LARGE_SECONDS),  # a cascade's tail, its minute over
        (alerts.run_briefs, BRIEFS_JOB, 60, 30),
        (alerts.drain_soon, OUTBOX_JOB, DRAIN_SECONDS, DRAIN_SECONDS),  # what another process queued
    ]
    for fn, job_id, seconds, first in jobs:
        scheduler.add_job(
            fn,
            "interval",
            seconds=seconds,
            id=job_id,
            max_instances=1,
            coalesce=True,
            next_run_time=now + timedelta(seconds=first),
            replace_existing=True,
        )

    def after_refresh(event: JobExecutionEvent) -> None:
        if event.job_id in REFRESH_JOBS:
            job = scheduler.get_job(ALERTS_JOB)
            if job is not None:
                job.modify(next_run_time=alerts.market.clock())

    scheduler.add_listener(after_refresh, EVENT_JOB_EXECUTED)
