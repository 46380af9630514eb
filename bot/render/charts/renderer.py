"""The chart service the cogs call: renders in worker threads, caches finished PNGs and
coalesces identical requests in flight."""

from __future__ import annotations

import asyncio
import multiprocessing
import multiprocessing.connection
import os
import threading
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from bot.render.charts.draw import render_chart
from bot.render.charts.spec import ChartSpec


def exit_with_parent() -> None:
    """A chart worker's initializer: the worker ends when the bot process does, however it
    ended. Killed outright (SIGKILL, the OOM killer), the bot cannot stop its pool, and each
    worker would wait on its call queue forever (it holds the queue's write end itself),
    keeping the forkserver alive with it and the bot's stdout and stderr open."""
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def watch() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(0)

    threading.Thread(target=watch, name="exit-with-parent", daemon=True).start()


# ---------------------------------------------------------------------------------------------
# async renderer


class ChartRenderer:
    """Renders in worker threads with an LRU of finished PNGs and coalescing of in-flight work.

    A burst of identical requests (everyone running /levels BTC in the same minute) renders once:
    the first request starts the render, later ones await the same future, and afterwards the
    cache answers. ``renders`` counts real renders; ``hits`` counts requests answered without one
    (cache or joined in-flight render), so ``renders + hits`` is the number of successful requests.
    """

    def __init__(
        self,
        *,
        max_workers: int = 2,
        cache_size: int = 64,
        render_fn: Callable[[ChartSpec], bytes] = render_chart,  # swappable for tests and benchmarks
        processes: bool = False,
    ) -> None:
        if max_workers < 1 or cache_size < 0:
            raise ValueError("max_workers must be ≥ 1 and cache_size ≥ 0")
        # Drawing is CPU-bound Python: in threads it holds the GIL the event loop needs to
        # acknowledge interactions, so ``tapewatch run`` renders in processes of their own
        # (started on first use, from a clean forkserver: the bot's threads are not forked).
        self._executor: Executor = (
            ProcessPoolExecutor(
                max_workers=max_workers,
                mp_context=multiprocessing.get_context("forkserver"),
                initializer=exit_with_parent,
            )
            if processes
            else ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="chart")
        )
        self._cache: OrderedDict[str, bytes] = OrderedDict()
        self._cache_size = cache_size
        self._render_fn = render_fn
        self._inflight: dict[str, asyncio.Future[bytes]] = {}
        self.renders = 0
        self.hits = 0
        self.coalesced = 0  # the part of ``hits`` that joined a render already running

    async def render(self, spec: ChartSpec, key: str) -> bytes:
        """PNG for ``spec``; ``key`` (e.g. "BTC:levels:2026-11-26T12:00") must identify its content."""
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            self.hits += 1
            return cached
        pending = self._inflight.get(key)
        if pending is None:
            if not spec.candles:  # fail fast, without a thread hop
                raise ValueError("cannot chart without candles")
            self.renders += 1
            loop = asyncio.get_running_loop()
            pending = loop.run_in_executor(self._executor, self._render_fn, spec)
            self._inflight[key] = pending
            pending.add_done_callback(lambda fut: self._finish(key, fut))
        else:
            self.hits += 1
            self.coalesced += 1
        # shield: one caller timing out must not cancel the render the others are waiting for
        return await asyncio.shield(pending)

    def _finish(self, key: str, fut: asyncio.Future[bytes]) -> None:
        if self._inflight.get(key) is fut:
            del self._inflight[key]
        if fut.cancelled() or fut.exception() is not None:  # .exception() marks it retrieved
            return
        if self._cache_size:
            self._cache[key] = fut.result()
            self._cache.move_to_end(key)
            while len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)

    def clear(self) -> None:
        """Drop cached PNGs (renders in flight still finish and are cached)."""
        self._cache.clear()

    def close(self) -> None:
        """Stop the worker threads; renders already running finish in the background."""
        self._executor.shutdown(wait=False, cancel_futures=True)
