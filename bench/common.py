"""What several benchmarks share: opening an app on a generated store, timing helpers."""

from __future__ import annotations

import asyncio
import gc
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.store_gen import GenResult
from bot.app import App, build_app
from bot.clock import FrozenClock
from bot.heap import freeze_startup_heap
from bot.settings import Settings, load_settings
from tests.helpers import every_venue_at

# A closed loopback port: nothing the bench builds can reach the internet by accident.
NOWHERE = "http://127.0.0.1:9"


@dataclass(frozen=True)
class Sizes:
    """What one bench run measures, and how hard."""

    coins: tuple[int, ...]
    days: tuple[int, ...]
    repeat: int  # runs per figure (the figure is their median)
    calls: int  # handler calls per run
    budget_s: float  # time per handler configuration, after which its runs stop early
    cap_s: float  # a single handler call is stopped (and reported as slower) past this
    liq_rate: float  # market-wide liquidation events per second at 100 coins
    ingest_batches: int
    batch_size: int
    interactions: int
    renders: int  # chart renders per run and kind
    burst: int  # identical chart requests within one second
    child_seconds: float  # how long the run-like child process lives
    child_rss_ceiling_mb: int  # the child stops itself past this much resident memory
    year_days: int = 365  # section 10's simulated year
    quick: bool = False

    @property
    def max_coins(self) -> int:
        return max(self.coins)


@dataclass
class Stores:
    """The generated stores by (coins, days)."""

    settings_path: Path
    symbols: tuple[str, ...]
    by_shape: dict[tuple[int, int], GenResult] = field(default_factory=dict)

    def get(self, coins: int, days: int) -> GenResult:
        return self.by_shape[(coins, days)]


def settings_for(stores: Stores, store: GenResult, exchange: str = NOWHERE) -> Settings:
    return load_settings(
        stores.settings_path, db=store.path, coins=list(store.symbols), providers=every_venue_at(exchange)
    )


def open_app(stores: Stores, store: GenResult) -> App:
    """The app ``tapewatch run`` builds (``build_app``), on ``store``, with the clock stopped at
    the store's "now" so every run reads the same windows; its start-up heap frozen, as
    ``tapewatch run`` freezes it (:func:`bot.heap.freeze_startup_heap`)."""
    app = build_app(settings_for(stores, store), clock=FrozenClock(store.now))
    freeze_startup_heap()
    return app


_STARTED = time.perf_counter()


def progress(message: str) -> None:
    """A progress line on stderr (stdout holds only the header and the table)."""
    print(f"[bench {time.perf_counter() - _STARTED:6.1f} s] {message}", file=sys.stderr, flush=True)


async def lag_monitor(stop: asyncio.Event, overshoots: list[float], tick: float = 0.005) -> None:
    """Sleep ``tick`` again and again, recording how late each wake-up is: the event loop's
    longest stall is the largest overshoot."""
    while not stop.is_set():
        start = time.perf_counter()
        await asyncio.sleep(tick)
        overshoots.append(time.perf_counter() - start - tick)


@dataclass
class GcPauses:
    """Garbage-collector pauses seen while it was installed (any thread's: a collection holds
    the GIL, so it stalls the event loop too)."""

    pauses: list[tuple[int, float]] = field(default_factory=list)  # (generation, seconds)
    _started: float = 0.0

    def _callback(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.perf_counter()
        else:
            self.pauses.append((info["generation"], time.perf_counter() - self._started))

    def __enter__(self) -> GcPauses:
        gc.callbacks.append(self._callback)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self._callback)

    @property
    def longest(self) -> float:
        return max((p for _, p in self.pauses), default=0.0)

    @property
    def total(self) -> float:
        return sum(p for _, p in self.pauses)

    @property
    def full(self) -> int:
        return sum(1 for g, _ in self.pauses if g == 2)
