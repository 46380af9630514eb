"""One answer, many readers: answers cached by what they read, computed once however many ask.

An answer is a pure function of (command, subject, window) and the store's contents, so it is
cached under that key plus the store's data version (which changes on every commit, by this
process or another). Concurrent identical requests wait on one computation (single-flight).
Computations run at most ``workers`` at a time so the event loop keeps the GIL often enough to
acknowledge every interaction; past ``max_wait`` of queued work a request is told when to come
back instead of waiting for an interaction that would expire.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar, cast

from bot.clock import Clock
from bot.errors import Busy
from bot.views.answers import CacheStats

T = TypeVar("T")
Version = Callable[[], Hashable]


@dataclass(frozen=True)
class _Entry:
    value: Any
    version: Hashable
    at: datetime  # the injected clock's time of the computation: the answer's ages are as of then
    wall: float  # monotonic time of the computation: how long liquidations may lag under load


class Workload:
    """At most ``workers`` computations at once; the rest queue, and past ``max_wait`` seconds
    of estimated queueing a new one is refused with :class:`Busy`."""

    def __init__(self, workers: int, max_wait: float) -> None:
        self.workers = max(1, workers)
        self.max_wait = max_wait
        self._slots = asyncio.Semaphore(self.workers)
        self.queued = 0
        self.running = 0
        self._mean = 0.1  # seconds per computation, an exponential moving average

    @property
    def busy(self) -> bool:
        """Every worker is computing and more wait: the moment to serve what is at hand."""
        return self.running >= self.workers or self.queued > 0

    def estimated_wait(self) -> float:
        return (self.queued + self.running) * self._mean / self.workers

    def admit(self) -> None:
        wait = self.estimated_wait()
        if wait > self.max_wait:
            raise Busy(wait)

    def submit(self, compute: Callable[[], Awaitable[T]]) -> asyncio.Future[T]:
        """Queue ``compute``; counted at once, so a burst arriving together is admitted (or
        refused) by the queue it really makes, not the empty one it found."""
        self.queued += 1
        return asyncio.ensure_future(self._run(compute))

    async def _run(self, compute: Callable[[], Awaitable[T]]) -> T:
        try:
            await self._slots.acquire()
        finally:
            self.queued -= 1
        self.running += 1
        started = time.perf_counter()
        try:
            return await compute()
        finally:
            self.running -= 1
            self._slots.release()
            self._mean = 0.8 * self._mean + 0.2 * (time.perf_counter() - started)


class AnswerCache:
    """The latest answer of each key, valid while the data version it was computed under is the
    store's and for ``max_age`` of the injected clock (its ages are as of its computation);
    least recently used keys evicted past ``size``. While the workload is busy, an answer whose
    only change is newer liquidations is still served for ``liquidation_grace`` (seconds): a
    cascade writes every second, and recomputing every answer each second is what would fail
    the burst."""

    def __init__(
        self,
        version: Version,
        clock: Clock,
        *,
        size: int = 512,
        max_age: timedelta = timedelta(seconds=30),
        liquidation_grace: float = 10.0,
        workload: Workload | None = None,
    ) -> None:
        self.version = version
        self.clock = clock
        self.size = size
        self.max_age = max_age
        self.liquidation_grace = liquidation_grace
        self.workload = workload or Workload(workers=2, max_wait=20.0)
        self.stats = CacheStats()
        self._entries: OrderedDict[Hashable, _Entry] = OrderedDict()
        self._inflight: dict[tuple[Hashable, Hashable], asyncio.Future[Any]] = {}

    def _usable(self, key: Hashable, version: Hashable) -> _Entry | None:
        entry = self._entries.get(key)
        if entry is None or not timedelta(0) <= self.clock() - entry.at <= self.max_age:
            return None
        if entry.version != version and not self._liquidations_only(entry, version):
            return None
        self._entries.move_to_end(key)
        return entry

    def _liquidations_only(self, entry: _Entry, version: Hashable) -> bool:
        """Under load, an answer behind only on liquidations (version part 1) for a few seconds."""
        if not (isinstance(entry.version, tuple) and isinstance(version, tuple) and len(version) == 2):
            return False
        if entry.version[0] != version[0] or not self.workload.busy:
            return False
        if time.monotonic() - entry.wall > self.liquidation_grace:
            return False
        self.stats.lagging += 1
        return True

    async def get(
        self,
        key: Hashable,
        compute: Callable[[], Awaitable[T]],
        *,
        subject: Hashable = None,
        warm: bool = False,
    ) -> T:
        """The answer for ``key``: from the cache, from a computation already running, or computed
        now (through the workload gate). ``warm`` requests (precomputation) are neither counted
        as asked nor refused."""
        version = self.version()
        if not warm:
            self.stats.asked[subject if subject is not None else key] += 1
        entry = self._usable(key, version)
        if entry is not None:
            if not warm:
                self.stats.hits += 1
            return cast(T, entry.value)
        running = self._inflight.get((key, version))
        if running is not None:
            if not warm:
                self.stats.coalesced += 1
            return cast(T, await asyncio.shield(running))
        if not warm:
            try:
                self.workload.admit()
            except Busy:
                self.stats.refused += 1
                raise
            self.stats.misses += 1
        at, wall = self.clock(), time.monotonic()
        task = self.workload.submit(compute)
        self._inflight[(key, version)] = task
        try:
            value = await asyncio.shield(task)
        finally:
            self._inflight.pop((key, version), None)
        current = self._entries.get(key)
        if current is None or current.wall <= wall:  # never replace a newer answer with an older one
            self._entries[key] = _Entry(value, version, at, wall)
            self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)
            self.stats.evicted += 1
        return value

    def most_asked(self, n: int) -> list[Hashable]:
        return [subject for subject, _ in self.stats.asked.most_common(n)]
