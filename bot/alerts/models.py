"""Alert subscriptions, daily briefs and alert states as the store keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.alerts.config import RULES, AlertConfig, RuleName, with_overrides

MAX_PER_GUILD = 25  # one embed field each in /alerts list


class ChannelTaken(ValueError):
    """The channel is subscribed by another guild (a channel belongs to exactly one guild, so
    this only happens with a forged channel id)."""


class Subscription(BaseModel):
    """A channel that receives alerts. ``coins`` empty: every tracked coin."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    guild_id: int
    channel_id: int
    coins: tuple[str, ...] = ()
    rules: tuple[RuleName, ...] = RULES
    thresholds: dict[str, float] = Field(default_factory=dict)
    role_id: int | None = None
    created_by: int | None = None
    created_at: datetime
    updated_at: datetime
    muted_until: datetime | None = None
    disabled_reason: str | None = None
    disabled_at: datetime | None = None
    last_alert_at: datetime | None = None
    alerts_sent: int = 0

    def muted(self, now: datetime) -> bool:
        return self.muted_until is not None and now < self.muted_until

    def config(self, base: AlertConfig) -> AlertConfig:
        return with_overrides(base, self.thresholds) if self.thresholds else base

    def watched(self, tracked: Sequence[str]) -> list[str]:
        return [c for c in tracked if not self.coins or c in self.coins]


class Brief(BaseModel):
    """A daily market brief posted at ``local_time`` (``HH:MM``) in ``timezone``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    guild_id: int
    channel_id: int
    local_time: str
    timezone: str
    next_due: datetime
    last_sent: datetime | None = None
    created_by: int | None = None
    disabled_reason: str | None = None
    disabled_at: datetime | None = None


StateName = Literal["armed", "fired", "cooling"]
StateKey = tuple[int, str, RuleName]  # channel, coin, rule


class AlertState(BaseModel):
    """One alert's state: ``armed`` (may fire), ``fired`` (within its cooldown; ``rearmed`` once
    the score fell below the re-arm level since), ``cooling`` (cooldown over, waiting for the
    score to fall back before it may fire again)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    state: StateName = "armed"
    fired_at: datetime | None = None
    rearmed: bool = False
    score: float | None = None
    updated_at: datetime | None = None

    def same(self, other: AlertState | None) -> bool:
        """Equal in what decides the next alert (score and time are informative only)."""
        return other is not None and (self.state, self.fired_at, self.rearmed) == (
            other.state,
            other.fired_at,
            other.rearmed,
        )
