"""One reusable websocket runner for the liquidation streams.

:class:`LiquidationStream` owns one websocket connection at a time (aiohttp): it connects,
sends the venue's subscribe messages, keeps the connection alive the venue's way, parses each
frame with the venue's :class:`VenueAdapter`, drops events it has already seen and hands the
rest in batches to an injected async ``sink``. When the connection ends it reconnects with
exponential backoff and jitter, and it reports every connect/disconnect through
``on_connect``/``on_disconnect`` so coverage (and its gaps) can be stated honestly.

The runner does not know the store: :meth:`StreamHooks.for_store` is the glue for
:class:`bot.store.AsyncStore`.

Time: intervals use the event loop's monotonic clock; every *recorded* time (session start
and end) comes from the injected :data:`bot.clock.Clock`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from bot.clock import Clock, system_clock
from bot.models import Liquidation
from bot.streams.adapter import (
    StreamConfig,
    StreamHooks,
    StreamStats,
    VenueAdapter,
)
from bot.streams.batching import Batching
from bot.streams.dedupe import RecentIds
from bot.streams.frames import log_malformed

log = logging.getLogger(__name__)


# -- the runner --------------------------------------------------------------------------------


class StreamClosed(Exception):
    """The current connection ended; the message says why."""


class StreamStalled(StreamClosed):
    """Nothing was received for ``idle_timeout`` seconds."""


class StreamRotated(StreamClosed):
    """Proactive reconnect before the venue's connection age limit."""


@dataclass(frozen=True)
class _Outcome:
    reason: str
    lived: float = 0.0
    connected: bool = False
    rotated: bool = False


async def _cancel_and_wait(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel ``tasks`` and wait for them; retrieves their exceptions. A cancellation of the
    caller itself still propagates (gather re-raises it)."""
    pending = list(tasks)
    for task in pending:
        task.cancel()
    if pending:
        await asyncio.gather(*pending, return_exceptions=True)


def _describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


@dataclass
class _Connection:
    ws: aiohttp.ClientWebSocketResponse
    started: float
    last_rx: float
    last_ping: float


class LiquidationStream(Batching):
    """Runs one venue's liquidation stream until :meth:`stop` (or cancellation).

    ``await stream.run()`` never returns on its own: connection failures are logged and
    retried with backoff. ``asyncio.CancelledError`` is never swallowed. A stopped stream
    cannot be restarted; build a new one.
    """

    def __init__(
        self,
        adapter: VenueAdapter,
        hooks: StreamHooks,
        *,
        config: StreamConfig | None = None,
        clock: Clock = system_clock,
        session: aiohttp.ClientSession | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        self.adapter = adapter
        self.hooks = hooks
        self.config = config or adapter.default_config
        self.clock = clock
        self.stats = StreamStats()
        self._session = session
        self._rng = rng
        self._stop = asyncio.Event()
        self._done = asyncio.Event()
        self._running = False
        self._task: asyncio.Task[Any] | None = None
        self._conn: _Connection | None = None
        self._recent = RecentIds(self.config.recent_ids)
        self._buffer: list[Liquidation] = []
        self._buffer_since = 0.0
        self._wake = asyncio.Event()
        self._deliveries: set[asyncio.Task[None]] = set()

    @property
    def connected(self) -> bool:
        return self._conn is not None

    @property
    def running(self) -> bool:
        return self._running

    # -- lifecycle -----------------------------------------------------------------------------

    async def run(self) -> None:
        if self._running:
            raise RuntimeError(f"{self.venue} stream is already running")
        self._running = True
        self._done.clear()
        self._task = asyncio.current_task()
        http = self._session or aiohttp.ClientSession()
        flusher = asyncio.create_task(self._flush_loop(), name=f"{self.venue}-liquidations-flush")
        attempt = 0
        try:
            while not self._stop.is_set():
                outcome = await self._connect_once(http)
                if self._stop.is_set():
                    break
                if outcome.rotated:
                    attempt, delay = 0, 0.0
                else:
                    if outcome.connected and outcome.lived >= self.config.stable_after:
                        attempt = 0
                    delay = self._backoff(attempt)
                    attempt += 1
                    self.stats.last_error = outcome.reason
                log.log(
                    logging.INFO if outcome.rotated else logging.WARNING,
                    "%s liquidations: %s; reconnecting in %.2fs",
                    self.venue,
                    outcome.reason,
                    delay,
                )
                if delay > 0:
                    await self._sleep_unless_stopped(delay)
        finally:
            await _cancel_and_wait([flusher])
            await self._flush()
            if self._deliveries:
                await asyncio.gather(*self._deliveries, return_exceptions=True)
            if self._buffer:  # the sink failed on the last attempt too
                self.stats.dropped += len(self._buffer)
                log.error("%s liquidations: %d events not stored at shutdown", self.venue, len(self._buffer))
                self._buffer = []
            if self._session is None:
                await http.close()
            self._running = False
            self._task = None
            self._done.set()

    async def stop(self) -> None:
        """Close the connection (flushing buffered events and recording the disconnect) and
        make :meth:`run` return. Waits for that unless called from inside the run task."""
        self._stop.set()
        if self._running and asyncio.current_task() is not self._task:
            await self._done.wait()

    # -- one connection ------------------------------------------------------------------------

    async def send(self, messages: Sequence[str]) -> bool:
        """Send ``messages`` on the live connection (subscriptions to coins tracked since it
        opened); False when there is none (the next connection subscribes to them anyway)."""
        conn = self._conn
        if conn is None:
            return False
        for message in messages:
            await conn.ws.send_str(message)
        return True

    async def _connect_once(self, http: aiohttp.ClientSession) -> _Outcome:
        loop = asyncio.get_running_loop()
        try:
            ws = await self._open(http)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.stats.connect_failures += 1
            return _Outcome(reason=f"connect failed: {_describe(exc)}")
        if ws is None:
            return _Outcome(reason="stopped")
        conn = _Connection(ws=ws, started=loop.time(), last_rx=loop.time(), last_ping=loop.time())
        opened = False
        rotated = False
        try:
            for message in self.adapter.subscribe_messages():
                await ws.send_str(message)
            self._conn = conn
            opened = True
            at = self.clock()
            self.stats.connects += 1
            self.stats.last_connected_at = at
            log.info("%s liquidations: connected to %s", self.venue, self.adapter.url)
            await self._call_hook("on_connect", self.hooks.on_connect, self.venue, at)
            reason = await self._pump(conn)
        except StreamRotated as exc:
            reason, rotated = str(exc), True
        except StreamClosed as exc:
            reason = str(exc)
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            reason = f"connection error: {_describe(exc)}"
        except Exception as exc:
            log.exception("%s liquidations: unexpected error", self.venue)
            reason = f"unexpected error: {_describe(exc)}"
        finally:
            self._conn = None
            await self._close_ws(ws)
            await self._flush()
            if opened:
                at = self.clock()
                self.stats.disconnects += 1
                self.stats.last_disconnected_at = at
                await self._call_hook("on_disconnect", self.hooks.on_disconnect, self.venue, at)
        return _Outcome(reason=reason, lived=loop.time() - conn.started, connected=True, rotated=rotated)

    async def _open(self, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse | None:
        """Connect, unless :meth:`stop` is called first (then None)."""
        connect = asyncio.ensure_future(self._ws_connect(http))
        stopper = asyncio.ensure_future(self._stop.wait())
        try:
            await asyncio.wait({connect, stopper}, return_when=asyncio.FIRST_COMPLETED)
        except BaseException:
            await self._discard(connect)
            raise
        finally:
            await _cancel_and_wait([stopper])
        if not connect.done() or self._stop.is_set():
            await self._discard(connect)
            return None
        return connect.result()

    async def _ws_connect(self, http: aiohttp.ClientSession) -> aiohttp.ClientWebSocketResponse:
        async with asyncio.timeout(self.config.connect_timeout):
            return await http.ws_connect(
                self.adapter.url,
                autoping=False,  # we answer pings ourselves, so a server ping counts as life
                autoclose=True,
                heartbeat=None,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=self.config.close_timeout),
                max_msg_size=self.config.max_msg_size,
            )

    async def _discard(self, connect: asyncio.Future[aiohttp.ClientWebSocketResponse]) -> None:
        await _cancel_and_wait([connect])
        if not connect.cancelled() and connect.exception() is None:
            await self._close_ws(connect.result())

    async def _close_ws(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        if ws.closed:
            return
        try:
            async with asyncio.timeout(self.config.close_timeout):
                await ws.close()
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            log.debug("%s liquidations: close failed: %s", self.venue, _describe(exc))

    async def _pump(self, conn: _Connection) -> str:
        tasks: list[asyncio.Task[str]] = [
            asyncio.create_task(self._read(conn)),
            asyncio.create_task(self._keepalive(conn)),
            asyncio.create_task(self._until_stopped()),
        ]
        if self.config.max_connection_age is not None:
            tasks.append(asyncio.create_task(self._expire(self.config.max_connection_age)))
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            await _cancel_and_wait(tasks)
        first = next(t for t in tasks if t in done)
        return first.result()  # raises the task's StreamClosed

    async def _until_stopped(self) -> str:
        await self._stop.wait()
        return "stopped"

    async def _expire(self, age: float) -> str:
        await asyncio.sleep(age)
        raise StreamRotated(f"rotating the connection after {age:.0f}s (venue connection age limit)")

    async def _read(self, conn: _Connection) -> str:
        ws = conn.ws
        loop = asyncio.get_running_loop()
        while True:
            msg = await ws.receive()
            conn.last_rx = loop.time()
            if msg.type is aiohttp.WSMsgType.TEXT:
                self._on_text(msg.data)
            elif msg.type is aiohttp.WSMsgType.BINARY:
                try:
                    self._on_text(bytes(msg.data).decode("utf-8"))
                except UnicodeDecodeError:
                    self.stats.bad_frames += 1
                    log_malformed(log, self.venue, "binary frame", msg.data[:100])
            elif msg.type is aiohttp.WSMsgType.PING:
                await ws.pong(msg.data)
            elif msg.type is aiohttp.WSMsgType.PONG:
                pass
            elif msg.type is aiohttp.WSMsgType.ERROR:
                error = ws.exception()
                return f"websocket error: {_describe(error) if error else 'unknown'}"
            else:  # CLOSE, CLOSING, CLOSED
                return f"closed by the server (code {ws.close_code})"

    async def _keepalive(self, conn: _Connection) -> str:
        """Send the venue's pings and give up on a silent connection."""
        loop = asyncio.get_running_loop()
        cfg = self.config
        payload = self.adapter.ping_payload if cfg.ping_interval is not None else None
        while True:
            now = loop.time()
            silent = now - conn.last_rx
            if silent >= cfg.idle_timeout:
                raise StreamStalled(f"nothing received for {silent:.1f}s")
            wake = conn.last_rx + cfg.idle_timeout
            if payload is not None and cfg.ping_interval is not None:
                since = max(conn.last_rx, conn.last_ping) if self.adapter.ping_when_idle else conn.last_ping
                due = since + cfg.ping_interval
                if now >= due:
                    await conn.ws.send_str(payload)
                    conn.last_ping = now
                    self.stats.pings_sent += 1
                    continue
                wake = min(wake, due)
            await asyncio.sleep(max(wake - now, 0.0))

    # -- frames and events ---------------------------------------------------------------------

    def _on_text(self, text: str) -> None:
        if self.adapter.is_pong(text):
            return
        try:
            frame = json.loads(text)
        except ValueError:
            self.stats.bad_frames += 1
            log_malformed(log, self.venue, "non-JSON frame", text)
            return
        self.stats.frames += 1
        try:
            events = self.adapter.parse(frame)
        except Exception:  # parsers must not raise; one bad frame must not end the stream
            self.stats.bad_frames += 1
            log.exception("%s liquidations: parser failed on %.300r", self.venue, frame)
            return
        self._accept(events)

    # -- helpers -------------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        cfg = self.config
        base = min(cfg.backoff_max, cfg.backoff_initial * 2.0 ** min(attempt, 30))
        return base * (1.0 - cfg.backoff_jitter * self._rng())

    async def _sleep_unless_stopped(self, delay: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._stop.wait()
