"""The live market beside an interactive session: the collector jobs on a scheduler and the
liquidation streams, in the caller's event loop, stopped cleanly when the session ends.

``tapewatch console`` uses it so a newcomer sees liquidations as they stream instead of "no
liquidation data" until they restart with the bot (issue 11)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import App, streams_for
from bot.collector import Collector
from bot.jobs import DELAYED, register_jobs
from bot.streams.manager import StreamManager


@asynccontextmanager
async def live_background(
    app: App, collector: Collector, *, collected: bool = True
) -> AsyncIterator[StreamManager]:
    """Start the streams and the scheduled collectors; ``collected``: a pass just ran, so each
    job's first run waits one interval instead of fetching everything again at once."""
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_jobs(scheduler, collector, app.settings)
    if collected:
        now = collector.clock()
        for job in scheduler.get_jobs():
            if job.id in DELAYED:  # the pass does not choose the tracked set: keep the short wait
                continue
            interval = getattr(job.trigger, "interval", None)
            if isinstance(interval, timedelta) and job.next_run_time is not None:
                job.modify(next_run_time=max(job.next_run_time, now + interval))
    scheduler.start()
    streams = streams_for(app, collector)
    await streams.start()
    try:
        yield streams
    finally:
        await streams.stop()
        scheduler.shutdown(wait=False)
