"""Scheduling: evaluate alerts after each refresh job (and on an interval), look for due briefs."""

from __future__ import annotations

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
    scheduler.add_job(
        alerts.run_cycle,
        "interval",
        seconds=settings.jobs.tickers_seconds,
        id=ALERTS_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=now + timedelta(seconds=settings.jobs.tickers_seconds),
        replace_existing=True,
    )
    scheduler.add_job(  # the tail of a cascade, once its channel's minute is over
        alerts.run_large,
        "interval",
        seconds=LARGE_SECONDS,
        id=LARGE_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=now + timedelta(seconds=LARGE_SECONDS),
        replace_existing=True,
    )
    scheduler.add_job(
        alerts.run_briefs,
        "interval",
        seconds=60,
        id=BRIEFS_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=now + timedelta(seconds=30),
        replace_existing=True,
    )

    scheduler.add_job(  # messages another process queued (or this one could not post yet)
        alerts.drain_soon,
        "interval",
        seconds=DRAIN_SECONDS,
        id=OUTBOX_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=now + timedelta(seconds=DRAIN_SECONDS),
        replace_existing=True,
    )

    def after_refresh(event: JobExecutionEvent) -> None:
        if event.job_id in REFRESH_JOBS:
            job = scheduler.get_job(ALERTS_JOB)
            if job is not None:
                job.modify(next_run_time=alerts.market.clock())

    scheduler.add_listener(after_refresh, EVENT_JOB_EXECUTED)
