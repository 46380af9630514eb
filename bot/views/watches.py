"""What /watch shows: a watch added, a user's list, a crossing (with the /why answer behind it)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.analysis.why import WhyAnswer
from bot.models import Watch, WatchPause


@dataclass(frozen=True)
class Added:
    watch: Watch
    price: float  # the market when it was added
    met_already: bool  # the condition already holds: the next crossing is sent, not this one
    resumed: bool  # the user's paused watches were resumed


@dataclass(frozen=True)
class WatchList:
    watches: tuple[Watch, ...]
    pause: WatchPause | None
    prices: dict[str, float]
    limit: int


@dataclass(frozen=True)
class Crossing:
    watch: Watch
    price: float
    at: datetime
    why: WhyAnswer | None
