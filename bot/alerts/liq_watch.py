"""Liquidation spikes within seconds in a process that does not collect.

A bot process run with ``--no-collect`` has no liquidation streams: another process (``tapewatch
collect``) stores the events, so the streams' hook (:meth:`AlertsService.on_liquidations`) never
runs here and spikes would wait for the interval evaluation, up to a minute late in a cascade.
The watcher looks every second instead:

1. the store's data version (:meth:`bot.store.Store.data_version`, read on the event loop as
   every answer reads it: at most one PRAGMA, never waiting for a write): unchanged means
   nothing new, and nothing is read. Which part to watch differs by
   backend: on PostgreSQL the collector's liquidation commits bump the liquidation part (a
   counter row per kind of data), but on SQLite another process's commit of any kind bumps the
   *other* part (``PRAGMA data_version`` cannot tell what was written), so there every commit
   (a ticker refresh, this process's alert states) is looked into
   (:attr:`Store.counts_others_liquidations`).
2. the per-minute event counts of the spike window (:meth:`Store.liq_minute_events`, off the
   loop): the ingest only adds to them, so a coin whose count grew in some minute since the
   last look got new events, and only those coins are handed to the streams' path
   (:meth:`AlertsService.on_liquidation_coins`). A commit of other data grows nothing and
   evaluates nothing.

The first look only records where things stand: the watcher starts from now, never replaying
history. Events stamped before the spike window (a venue's late delivery) cannot move a spike
now; the interval evaluation still reads them. A failed look is logged and retried on the next
tick: the watcher never takes the process down.
"""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

from bot.alerts.service import AlertsService

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

log = logging.getLogger(__name__)

WATCH_JOB = "alerts-liquidation-watch"
WATCH_SECONDS = 1.0

Counts = dict[tuple[str, int], int]


class LiquidationWatch:
    """Hands the coins another process stored liquidations for to the alerts service."""

    def __init__(self, alerts: AlertsService) -> None:
        self.alerts = alerts
        self._version: tuple[int, ...] | None = None
        self._counts: Counts | None = None  # None until the first look
        self._task: asyncio.Task[frozenset[str]] | None = None
        self.reads = 0  # looks that read the store (the rest found the data version unchanged)

    async def tick(self) -> None:
        """The scheduler's job: start a look unless one is still running (a slow read never
        piles up looks, nor makes the scheduler warn about skipped runs every second)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.look(), name=WATCH_JOB)

    async def look(self) -> frozenset[str]:
        """Look once; the coins handed on for evaluation (empty when nothing new)."""
        try:
            return await self._look()
        except Exception:
            log.exception("watching the store for liquidations failed; looking again in %gs", WATCH_SECONDS)
            return frozenset()

    async def _look(self) -> frozenset[str]:
        store = self.alerts.market.store
        # read before the counts: a commit landing after this is seen on the next look
        version: tuple[int, ...] = store.sync.data_version()
        if store.sync.counts_others_liquidations:
            version = version[1:]  # the liquidation part alone
        if version == self._version:
            return frozenset()
        since = self.alerts.market.clock() - self.alerts.config.liq_window
        counts: Counts = await store.run(store.sync.liq_minute_events, since)
        self.reads += 1
        before, self._counts, self._version = self._counts, counts, version
        if before is None:
            return frozenset()  # the first look: from now on
        coins = frozenset(coin for (coin, minute), n in counts.items() if n > before.get((coin, minute), 0))
        if coins:
            await self.alerts.on_liquidation_coins(coins)
        return coins


def register_liquidation_watch(scheduler: AsyncIOScheduler, alerts: AlertsService) -> LiquidationWatch:
    """Watch the store every second (a process that does not collect; see the module)."""
    watch = LiquidationWatch(alerts)
    scheduler.add_job(
        watch.tick,
        "interval",
        seconds=WATCH_SECONDS,
        id=WATCH_JOB,
        name=WATCH_JOB,
        max_instances=1,
        coalesce=True,
        replace_existing=True,
    )
    # with --verbose the scheduler logs two INFO lines per run: not for a job every second
    logging.getLogger("apscheduler.executors.default").addFilter(
        lambda r: r.levelno > logging.INFO or WATCH_JOB not in r.getMessage()
    )
    return watch
