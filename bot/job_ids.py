"""The scheduler's job ids that several layers name (the collector registers them; alerts, the
watch job and the answer warm-up run after them)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

TICKERS_JOB = "refresh-tickers"


def run_after_tickers(
    scheduler: Any,
    job_id: str,
    func: Callable[[], Awaitable[object]],
    seconds: int,
    first_run: datetime,
    clock: Callable[[], datetime],
) -> None:
    """Run ``func`` right after every tickers refresh (its job pulled forward, so two refreshes
    never run it twice at once), and every ``seconds`` as a fallback from ``first_run``: the
    presence and the personal watches follow the newest prices this way."""
    from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent

    scheduler.add_job(
        func,
        "interval",
        seconds=seconds,
        id=job_id,
        max_instances=1,
        coalesce=True,
        next_run_time=first_run,
        replace_existing=True,
    )

    def after_tickers(event: JobExecutionEvent) -> None:
        job = scheduler.get_job(job_id)
        if event.job_id == TICKERS_JOB and job is not None:
            job.modify(next_run_time=clock())

    scheduler.add_listener(after_tickers, EVENT_JOB_EXECUTED)
