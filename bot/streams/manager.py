"""Runs the three liquidation streams inside the bot's (or the collector's) event loop.

Owns their tasks: started once the loop runs, stopped on close. OKX needs each swap's contract
value before its sizes mean anything, so its stream waits for ``/public/instruments`` (retried
in the background; the other venues do not wait for it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

from bot.clock import Clock
from bot.coins import CoinRegistry
from bot.providers.http import HttpClient, ProviderError
from bot.providers.okx import OkxProvider
from bot.settings import Settings
from bot.store import AsyncStore
from bot.streams.adapter import EventsHook, StreamHooks
from bot.streams.binance import binance_stream
from bot.streams.bybit import bybit_stream
from bot.streams.bybit import subscribe_messages as bybit_subscribe
from bot.streams.bybit import topics as bybit_topics
from bot.streams.okx import okx_stream
from bot.streams.runner import LiquidationStream
from bot.universe import TrackedCoins

log = logging.getLogger(__name__)


class StreamManager:
    def __init__(
        self,
        settings: Settings,
        store: AsyncStore,
        registry: CoinRegistry,
        http: HttpClient,
        clock: Clock,
        on_events: EventsHook | None = None,
        *,
        tracked: TrackedCoins | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.clock = clock
        # Only the tracked coins are recorded (and subscribed on Bybit). The set can change
        # while the streams run (it follows the market): this registry follows it in place, so
        # Binance's and OKX's all-market streams record a new coin from its first event; Bybit's
        # per-symbol topics take it at their next (re)connection.
        self.tracked = tracked if tracked is not None else TrackedCoins(settings.coins)
        self._all = registry
        self.registry = CoinRegistry(registry.get(s) for s in self.tracked.symbols if s in registry)
        self._following: set[asyncio.Task[None]] = set()
        self.tracked.on_change(self.follow)
        self.http = http
        self.hooks = StreamHooks.for_store(store, on_events=on_events)
        self.streams: list[LiquidationStream] = []
        self.tasks: list[asyncio.Task[None]] = []
        self.okx_retry_seconds = 60.0

    def follow(self) -> None:
        """Record liquidations of exactly the tracked coins from now on; Bybit's live
        connection subscribes to the topics of coins that entered."""
        before = set(bybit_topics(self.registry))
        self.registry.set_coins(self._all.get(s) for s in self.tracked.symbols if s in self._all)
        added = [t for t in bybit_topics(self.registry) if t not in before]
        for stream in self.streams:
            if stream.venue == "bybit" and added:
                task = asyncio.create_task(self._subscribe(stream, added), name="liq-bybit-follow")
                self._following.add(task)
                task.add_done_callback(self._following.discard)

    async def _subscribe(self, stream: LiquidationStream, topics: list[str]) -> None:
        try:
            if await stream.send(bybit_subscribe(topics)):
                log.info(
                    "bybit liquidations: subscribed to %d coins that entered the tracked set", len(topics)
                )
        except (ConnectionError, RuntimeError) as exc:  # the connection went: the next one subscribes
            log.info("bybit liquidations: subscribing new coins waits for the next connection (%s)", exc)

    async def start(self) -> None:
        # A crash leaves sessions open; close them where they last saw data so the downtime is
        # a gap in coverage rather than silently "covered".
        await self.store.run(self.store.sync.close_dangling_sessions)
        p = self.settings.providers
        if p.binance.enabled:
            self._launch(binance_stream(p.binance, self.registry, self.hooks, clock=self.clock))
        if p.bybit.enabled:
            self._launch(bybit_stream(p.bybit, self.registry, self.hooks, clock=self.clock))
        if p.okx.enabled:
            self.tasks.append(asyncio.create_task(self._start_okx(), name="liq-okx-setup"))

    def _launch(self, stream: LiquidationStream) -> None:
        self.streams.append(stream)
        self.tasks.append(asyncio.create_task(stream.run(), name=f"liq-{stream.venue}"))

    async def _start_okx(self) -> None:
        provider = OkxProvider(self.http, self.settings.providers.okx, self.registry)
        while True:
            try:
                ct_val = await provider.contract_values()
                break
            except ProviderError as exc:
                log.warning(
                    "okx instruments unavailable (%s); liquidation stream waits %ss",
                    exc.reason,
                    self.okx_retry_seconds,
                )
                await asyncio.sleep(self.okx_retry_seconds)
        stream = okx_stream(self.settings.providers.okx, self.registry, ct_val, self.hooks, clock=self.clock)
        self.streams.append(stream)
        await stream.run()

    @property
    def connected(self) -> Sequence[str]:
        return [s.venue for s in self.streams if s.connected]

    async def stop(self) -> None:
        await asyncio.gather(*(s.stop() for s in self.streams), return_exceptions=True)
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        self.tasks.clear()
        self.streams.clear()
