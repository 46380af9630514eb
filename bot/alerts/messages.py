"""What the alerts engine emits, as data: an :class:`Observation` per rule that saw something,
and the posts (:class:`AlertPost`, :class:`BriefPost`, :class:`SamplePost`) a
:class:`Poster` delivers. Wording and embeds are the renderer's (``bot/render/alerts.py``)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.config import RuleName
from bot.alerts.models import Subscription
from bot.analysis.findings import LevelZone, LiqBasis
from bot.analysis.why import WhyAnswer
from bot.models import Liquidation
from bot.views.liquidations import LiquidationsView

AlertDirection = Literal["up", "down"]
Basis = Literal["threshold", "sigma", "baseline", "floor", "zone", "band", "open_interest", "fixed"]


# -- observations ------------------------------------------------------------------------------


class Observation(BaseModel):
    """What one rule saw for one coin: ``score`` is the value over its threshold (``> 1``: past
    it). ``value`` and ``threshold`` are in the rule's own unit (%, USD, %/8h); the rest are
    the figures an alert states."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule: RuleName
    coin: str
    at: datetime
    score: float = Field(ge=0)
    direction: AlertDirection
    window: str  # "1h", "24h", "15m"
    value: float
    threshold: float
    basis: Basis
    sigma: float | None = None  # the σ a sigma-based threshold used
    price: float | None = None
    baseline_usd: float | None = None
    baseline_days: float | None = None
    liq_basis: LiqBasis | None = None  # the rung a liquidation spike was measured on
    basis_ratio: float | None = None  # × the own average, or % of open interest / volume
    basis_bar: float | None = None  # the ratio that basis alerts from
    own_needed_days: float | None = None  # history the own baseline needs before it takes over
    long_share: float | None = None
    zone: LevelZone | None = None
    zone_was: Literal["support", "resistance"] | None = None
    close: float | None = None
    bar_time: datetime | None = None
    oi_usd: float | None = None

    @property
    def triggered(self) -> bool:
        return self.score > 1.0

    @property
    def multiple(self) -> float | None:
        """Liquidations: the window's total over the coin's baseline."""
        if self.baseline_usd:
            return self.value / self.baseline_usd
        return None


def why_window(o: Observation) -> str:
    """The /why window that explains an alert best."""
    if o.rule in ("move", "oi_flush") and o.window in ("1h", "24h"):
        return o.window
    if o.rule == "funding":
        return "24h"
    return "1h"


# -- posts -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AlertPost:
    """The alerts that fired for one channel in one cycle, each with its /why answer (None when
    there was none), posted as one message."""

    guild_id: int
    channel_id: int
    alerts: Sequence[tuple[Observation, WhyAnswer | None]]
    role_id: int | None = None  # ping this role (and no one else)
    nonce: str | None = None


@dataclass(frozen=True)
class BriefPost:
    """A daily brief: the market's /why and /liquidations answers, due at ``local_due``."""

    guild_id: int
    channel_id: int
    why: WhyAnswer
    liquidations: LiquidationsView
    local_due: datetime
    timezone: str
    nonce: str | None = None


@dataclass(frozen=True)
class SamplePost:
    """The sample alert /alerts test posts, with a working button for ``coin`` (if any)."""

    guild_id: int
    channel_id: int
    at: datetime
    subscription: Subscription | None
    coin: str | None


LargeBasis = Literal["open_interest", "fixed"]


@dataclass(frozen=True)
class LargeBar:
    """The size a single liquidation of ``coin`` had to reach: ``oi_pct`` % of the coin's open
    interest ``oi_usd`` (never under ``min_usd``), or the fixed ``usd`` when the open interest
    is not known."""

    coin: str
    usd: float
    basis: LargeBasis
    oi_usd: float | None = None
    oi_pct: float | None = None
    min_usd: float | None = None


@dataclass(frozen=True)
class LargeLiqPost:
    """One channel's large liquidations since its last such message: the largest ``events``
    (largest first), and how many there were and their sum in all."""

    guild_id: int
    channel_id: int
    at: datetime
    events: Sequence[Liquidation]
    count: int
    total_usd: float
    bars: Mapping[str, LargeBar]
    role_id: int | None = None
    nonce: str | None = None


Post = AlertPost | BriefPost | SamplePost | LargeLiqPost


def nonce_for(channel_id: int, at: datetime, keys: Sequence[object]) -> str:
    """A stable nonce (at most 25 characters, as Discord allows) for one channel's message."""
    digest = hashlib.sha256(f"{channel_id}|{at.isoformat()}|{sorted(map(str, keys))}".encode()).hexdigest()
    return str(int(digest[:15], 16))


Status = Literal["sent", "gone", "forbidden", "failed"]


@dataclass(frozen=True)
class Delivery:
    guild_id: int
    channel_id: int
    status: Status
    reason: str | None = None
    message_id: int | None = None

    @property
    def disables(self) -> bool:
        """The channel cannot take posts: its subscription should stop."""
        return self.status in ("gone", "forbidden")


@dataclass(frozen=True)
class Queued:
    """A formatted message taken from the outbox: ``body`` is what :meth:`Poster.encode` made."""

    guild_id: int
    channel_id: int
    body: str
    nonce: str


class Poster(Protocol):
    """Formats and posts (``bot.dispatch.Dispatcher`` does it for Discord); each result says
    what happened, and a channel's failure never raises."""

    timeout: float  # the longest one post may take
    concurrency: int  # posts in flight at once

    async def deliver(self, posts: Sequence[Post]) -> list[Delivery]:
        """Format and post now (the sample alert an admin waits for)."""
        ...

    def encode(self, post: Post) -> str:
        """The post formatted, as text the outbox keeps (any process can send it later)."""
        ...

    async def send(self, messages: Sequence[Queued]) -> list[Delivery]:
        """Post encoded messages, in order, each with its nonce."""
        ...

    def shards(self) -> tuple[int, list[int]] | None:
        """The gateway shards this process holds (count, ids), or None: every guild."""
        ...


# -- backtest results -------------------------------------------------------------------------


@dataclass(frozen=True)
class Plan:
    """One subscription to replay."""

    name: str
    coins: tuple[str, ...]  # empty: every tracked coin
    rules: tuple[RuleName, ...]
    thresholds: dict[str, float]

    def watched(self, tracked: Sequence[str]) -> list[str]:
        return [c for c in tracked if not self.coins or c in self.coins]


@dataclass
class Result:
    plan: Plan
    alerts: list[Observation] = field(default_factory=list)

    @property
    def messages(self) -> int:
        """Alerts of one cycle go out as one message."""
        return len({o.at for o in self.alerts})
