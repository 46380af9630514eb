"""What a server chose with ``/settings``: services resolve it, render shows it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from bot.analysis.breadth import MAJORS

MAX_SHORTLIST = 8  # the majors line stays one line, the autocomplete's first screen holds them
WINDOWS: tuple[str, ...] = ("1h", "4h", "24h", "7d")  # the windows /why, /liquidations and /movers share
DEFAULT_WINDOW = "24h"


class GuildPrefs(BaseModel):
    """What one server chose; empty / None = the bot's default."""

    model_config = ConfigDict(frozen=True)

    guild_id: int | None = None
    shortlist: tuple[str, ...] = ()
    window: str | None = None
    alert_thresholds: dict[str, float] = Field(default_factory=dict)
    updated_at: datetime | None = None
    updated_by: int | None = None

    @property
    def majors(self) -> tuple[str, ...]:
        """The coins of the market answer's majors line."""
        return self.shortlist or MAJORS

    def coin_order(self, tracked: Sequence[str]) -> list[str]:
        """The tracked coins with the shortlist first (autocomplete's order)."""
        first = [c for c in self.shortlist if c in tracked]
        return first + [c for c in tracked if c not in first]
