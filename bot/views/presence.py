"""What the presence shows: one coin's best price and 24h change, with its age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class PresenceQuote:
    coin: str
    price: float
    change_24h_pct: float | None
    as_of: datetime
    venue: str
    stale: bool
