"""What /price and /status show: the price of a coin and the health of each data source."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict

from bot.models import SourceHealth, Ticker


class PriceView(BaseModel):
    model_config = ConfigDict(frozen=True)

    coin: str
    name: str
    primary: Ticker
    others: list[Ticker]
    now: datetime
    stale_after: timedelta

    @property
    def age(self) -> timedelta:
        return self.now - self.primary.ts

    @property
    def stale(self) -> bool:
        return self.age > self.stale_after


class SourceStatus(BaseModel):
    model_config = ConfigDict(frozen=True)

    health: SourceHealth
    now: datetime
    stale_after: timedelta

    @property
    def state(self) -> str:
        h = self.health
        if h.disabled_reason:
            return "disabled"
        if h.last_success is None:
            return "failing" if h.consecutive_failures else "never run"
        if h.consecutive_failures:
            return "degraded"
        return "stale" if self.now - h.last_success > self.stale_after else "ok"
