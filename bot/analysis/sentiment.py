"""Market sentiment as a finding: the newest daily Fear & Greed reading, with its source and
how old it is. Context for an answer, never a driver: it says how the crowd feels, not why
the price moved."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.models import FearGreed

STALE_AFTER = timedelta(hours=48)  # a daily index two days behind is not today's mood


class SentimentFinding(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    value: int  # 0 extreme fear … 100 extreme greed
    label: str  # the source's own word for it
    source: str
    day: datetime  # the day the reading is for
    now: datetime

    @property
    def age(self) -> timedelta:
        return max(self.now - self.day, timedelta(0))

    @property
    def stale(self) -> bool:
        return self.age > STALE_AFTER


def sentiment(point: FearGreed | None, now: datetime) -> SentimentFinding | None:
    """The finding for the newest reading (None: nothing collected yet)."""
    if point is None:
        return None
    return SentimentFinding(value=point.value, label=point.label, source=point.source, day=point.ts, now=now)
