"""What a venue plugs into the runner: its :class:`VenueAdapter` (URL, subscribe messages,
keep-alive, frame parser), the runner's :class:`StreamConfig`, the :class:`StreamHooks` it
calls and the :class:`StreamStats` it keeps."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from bot.models import Liquidation, Venue

if TYPE_CHECKING:
    from bot.store import AsyncStore


Sink = Callable[[list[Liquidation]], Awaitable[int]]
"""Stores a batch; returns how many events were new (``Store.insert_liquidations``)."""
SessionHook = Callable[[str, datetime], Awaitable[None]]
"""``(venue, at)``: a connection was established (subscribed) or ended."""
EventsHook = Callable[[list[Liquidation]], Awaitable[None]]
"""Called with each batch right after the sink stored it (alerts)."""


# -- configuration and hooks -------------------------------------------------------------------


@dataclass(frozen=True)
class StreamConfig:
    """Timings and limits of one stream. Seconds unless stated; tiny values make tests fast.

    ``ping_interval``: send the adapter's ping payload this often (``None``: the client never
    pings; e.g. Binance, where the server pings and we answer with pongs). With an adapter
    that pings only when idle (OKX), it is the idle time before a ping.
    ``idle_timeout``: reconnect when nothing at all (data, pong, ping frame) arrived this long.
    ``max_connection_age``: reconnect proactively after this long (Binance: 24 h limit).
    ``stable_after``: a connection that lived this long resets the backoff.
    ``flush_interval`` / ``flush_max_events``: hand buffered events to the sink when the oldest
    waited this long, or when this many are buffered.
    ``max_buffer``: events kept while the sink keeps failing; the oldest are dropped beyond it.
    ``recent_ids``: how many event ids the in-memory de-duplication remembers.
    """

    ping_interval: float | None = None
    idle_timeout: float = 120.0
    max_connection_age: float | None = None
    connect_timeout: float = 15.0
    close_timeout: float = 5.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0
    backoff_jitter: float = 0.5
    stable_after: float = 60.0
    flush_interval: float = 1.0
    flush_max_events: int = 500
    max_buffer: int = 50_000
    recent_ids: int = 20_000
    max_msg_size: int = 4 * 1024 * 1024

    def __post_init__(self) -> None:
        positive = {
            "idle_timeout": self.idle_timeout,
            "connect_timeout": self.connect_timeout,
            "close_timeout": self.close_timeout,
            "backoff_initial": self.backoff_initial,
            "backoff_max": self.backoff_max,
            "flush_interval": self.flush_interval,
        }
        if self.ping_interval is not None:
            positive["ping_interval"] = self.ping_interval
        if self.max_connection_age is not None:
            positive["max_connection_age"] = self.max_connection_age
        for name, value in positive.items():
            if not value > 0:
                raise ValueError(f"StreamConfig.{name} must be > 0, got {value!r}")
        if not 0 <= self.backoff_jitter <= 1:
            raise ValueError(f"StreamConfig.backoff_jitter must be in [0, 1], got {self.backoff_jitter!r}")
        if self.stable_after < 0:
            raise ValueError("StreamConfig.stable_after must be >= 0")
        for name in ("flush_max_events", "max_buffer", "recent_ids", "max_msg_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"StreamConfig.{name} must be >= 1")


@dataclass(frozen=True)
class StreamHooks:
    """What the runner calls: ``sink`` stores a batch, ``on_connect``/``on_disconnect`` record
    coverage, ``on_events`` (optional) sees each stored batch within ``flush_interval``."""

    sink: Sink
    on_connect: SessionHook
    on_disconnect: SessionHook
    on_events: EventsHook | None = None

    @classmethod
    def for_store(cls, store: AsyncStore, on_events: EventsHook | None = None) -> StreamHooks:
        """Hooks writing to ``store`` (each call in a worker thread)."""
        sync = store.sync

        async def sink(events: list[Liquidation]) -> int:
            return await store.run(sync.insert_liquidations, events)

        async def on_connect(venue: str, at: datetime) -> None:
            await store.run(sync.open_stream_session, venue, at)

        async def on_disconnect(venue: str, at: datetime) -> None:
            await store.run(sync.close_stream_session, venue, at)

        return cls(sink=sink, on_connect=on_connect, on_disconnect=on_disconnect, on_events=on_events)


@dataclass
class StreamStats:
    """Counters for a status command; ``events`` counts events after in-memory de-duplication."""

    connects: int = 0
    disconnects: int = 0
    connect_failures: int = 0
    frames: int = 0
    bad_frames: int = 0
    events: int = 0
    duplicates: int = 0
    stored: int = 0
    dropped: int = 0
    sink_failures: int = 0
    pings_sent: int = 0
    last_connected_at: datetime | None = None
    last_disconnected_at: datetime | None = None
    last_event_at: datetime | None = None
    last_error: str | None = None


# -- venue adapters ----------------------------------------------------------------------------


class VenueAdapter(ABC):
    """What differs between venues: the URL, subscribe messages, ping rules and the parser.

    ``ping_payload`` is sent as a text frame every ``StreamConfig.ping_interval`` seconds, or,
    when ``ping_when_idle`` is set, only after that long without receiving anything.
    """

    venue: Venue
    url: str
    default_config: StreamConfig = StreamConfig()
    ping_payload: str | None = None
    ping_when_idle: bool = False

    def subscribe_messages(self) -> list[str]:
        """Text frames to send after every (re)connect."""
        return []

    def is_pong(self, text: str) -> bool:
        """True for a non-JSON keepalive reply (OKX's ``pong``)."""
        return False

    @abstractmethod
    def parse(self, frame: Any) -> list[Liquidation]:
        """Events in one decoded JSON frame; ``[]`` for other frames. Must not raise."""
