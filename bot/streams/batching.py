"""The buffer between a stream's frames and its sink: events not seen before are batched and
handed to the sink every ``flush_interval`` (or ``flush_max_events``), a failed batch is put
back and retried, and a full buffer drops its oldest events, loudly. Mixed into
:class:`bot.streams.runner.LiquidationStream`, which owns the attributes declared here."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from bot.models import Liquidation, Venue
from bot.streams.adapter import StreamConfig, StreamHooks, StreamStats, VenueAdapter
from bot.streams.dedupe import RecentIds

log = logging.getLogger("bot.streams.runner")  # one logger for the stream, as before the split


class Batching:
    """Deduplicate, buffer and deliver a stream's events (the runner's state, declared)."""

    adapter: VenueAdapter
    hooks: StreamHooks
    config: StreamConfig
    stats: StreamStats
    _recent: RecentIds
    _buffer: list[Liquidation]
    _buffer_since: float
    _wake: asyncio.Event
    _deliveries: set[asyncio.Task[None]]

    @property
    def venue(self) -> Venue:
        return self.adapter.venue

    def _accept(self, events: list[Liquidation]) -> None:
        fresh = []
        for event in events:
            if self._recent.add(event.event_id):
                fresh.append(event)
            else:
                self.stats.duplicates += 1
        if not fresh:
            return
        if not self._buffer:
            self._buffer_since = asyncio.get_running_loop().time()
        self._buffer.extend(fresh)
        self.stats.events += len(fresh)
        newest = max(e.ts for e in fresh)
        if self.stats.last_event_at is None or newest > self.stats.last_event_at:
            self.stats.last_event_at = newest
        self._trim_buffer()
        self._wake.set()

    def _trim_buffer(self) -> None:
        excess = len(self._buffer) - self.config.max_buffer
        if excess > 0:
            del self._buffer[:excess]
            self.stats.dropped += excess
            log.error("%s liquidations: buffer full, dropped the %d oldest events", self.venue, excess)

    async def _flush_loop(self) -> None:
        loop = asyncio.get_running_loop()
        cfg = self.config
        while True:
            self._wake.clear()
            if not self._buffer:
                await self._wake.wait()
                continue
            remaining = self._buffer_since + cfg.flush_interval - loop.time()
            if remaining > 0 and len(self._buffer) < cfg.flush_max_events:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(remaining):
                        await self._wake.wait()
                continue
            await self._flush()

    async def _flush(self) -> None:
        """Hand the buffer to the sink. The delivery is shielded: cancelling the caller does
        not abandon a batch half-way (run() waits for pending deliveries before returning)."""
        if not self._buffer:
            return
        batch, self._buffer = self._buffer, []
        delivery = asyncio.ensure_future(self._deliver(batch))
        self._deliveries.add(delivery)
        delivery.add_done_callback(self._deliveries.discard)
        await asyncio.shield(delivery)

    async def _deliver(self, batch: list[Liquidation]) -> None:
        try:
            new = await self.hooks.sink(batch)
        except Exception:
            self.stats.sink_failures += 1
            log.exception("%s liquidations: storing %d events failed; will retry", self.venue, len(batch))
            self._buffer[:0] = batch
            self._buffer_since = asyncio.get_running_loop().time()  # retry after flush_interval
            self._trim_buffer()
            self._wake.set()
            return
        self.stats.stored += new
        if self.hooks.on_events is not None:
            await self._call_hook("on_events", self.hooks.on_events, batch)

    async def _call_hook(self, name: str, hook: Callable[..., Awaitable[None]], *args: Any) -> None:
        try:
            await hook(*args)
        except Exception:
            log.exception("%s liquidations: %s hook failed", self.venue, name)
