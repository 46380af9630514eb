"""The first collection pass (the first run's backfill) reported source by source as each
completes, through :class:`bot.progress.Progress`: for ``collect --once`` and the console, which
run one pass before anything else, and for ``collect`` and ``run``, whose scheduler starts every
job at once (the report ends when each collection job has run once).

Under JSON logs nothing is drawn: ``collect --once`` and the console print each source's line as
they always did (their output), ``collect`` and ``run`` add nothing to the log stream."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from typing import Any, TextIO

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.base import BaseScheduler

from bot.collector import Collector
from bot.collector_report import SourceReport
from bot.progress import ClearBeforeLogs, Progress, mode_for
from bot.settings import Settings

TITLE = "collecting"
COLLECTOR_LOG = "bot.collector"


def json_logs(settings: Settings) -> bool:
    """Logs as JSON objects (the setting or the environment): no progress drawn among them."""
    env = os.environ.get("TAPEWATCH_LOG_FORMAT", "").strip().lower()
    return settings.log_format == "json" or env == "json"


class SourceProgress:
    """Call it with each :class:`SourceReport`; :meth:`finish` prints the summary line."""

    def __init__(
        self,
        collector: Collector,
        stream: TextIO,
        *,
        json_logs: bool = False,
        indent: str = "",
        clock: Callable[[], float] | None = None,
    ) -> None:
        mode = mode_for(stream, json_logs=json_logs)
        kwargs = {"clock": clock} if clock is not None else {}
        self.progress = Progress(TITLE, collector.planned_sources(), stream=stream, mode=mode, **kwargs)
        self.stream = stream
        self.indent = indent
        self.reports: list[SourceReport] = []
        self._filters: list[tuple[logging.Handler, ClearBeforeLogs]] = []

    @property
    def drawing(self) -> bool:
        return self.progress.mode != "off"

    def start(self) -> None:
        if self.progress.mode == "bar":  # log lines on the same terminal must not land after the bar
            for handler in logging.getLogger().handlers:
                stream = getattr(handler, "stream", None)
                if stream is self.stream or mode_for(stream) == "bar":
                    f = ClearBeforeLogs(self.progress)
                    handler.addFilter(f)
                    self._filters.append((handler, f))
        self.progress.start()

    def __call__(self, report: SourceReport) -> None:
        self.reports.append(report)
        if self.drawing:
            self.progress.step(self.indent + report.line())

    def summary(self) -> str:
        ok = sum(1 for r in self.reports if r.error is None)
        return f"{self.indent}{ok} of {len(self.reports)} sources ok in {self.progress.elapsed:.0f} s"

    def finish(self) -> None:
        for handler, f in self._filters:
            handler.removeFilter(f)
        self._filters.clear()
        self.progress.finish(self.summary())


def collection_job_ids(table: list[tuple[str, Callable[..., Any], int]], collector: Collector) -> list[str]:
    """The scheduler's ids of the collector's own datasets (``Collector.jobs``): not housekeeping
    (prune) nor any later job that runs on its own clock."""
    datasets = collector.jobs()
    return [job_id for job_id, func, _seconds in table if func in datasets]


def watch_first_pass(
    scheduler: BaseScheduler, collector: Collector, job_ids: list[str], report: SourceProgress
) -> Callable[[], None]:
    """Report each source to ``report`` until every one of ``job_ids`` has run once, then
    finish it. The collector's own warnings are held back meanwhile: each failure is already a
    line of the report (saying it twice was issue 15's complaint). Returns the function that
    ends the watch early (the process stopping first); ending twice does nothing."""
    pending = set(job_ids)
    logger = logging.getLogger(COLLECTOR_LOG)
    level = logger.level
    logger.setLevel(logging.ERROR)
    collector.on_source = report
    report.start()

    def end() -> None:
        if collector.on_source is not report:
            return
        collector.on_source = None
        logger.setLevel(level)
        scheduler.remove_listener(after)
        if pending:
            report.progress.clear()  # stopped before the pass ended: no bar left behind
        else:
            report.finish()

    def after(event: JobExecutionEvent) -> None:
        pending.discard(event.job_id)
        if not pending:
            end()

    scheduler.add_listener(after, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
    return end
