"""What /movers shows: the tracked coins' gainers and losers with their evidence, and the
top 100's breadth."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.analysis.findings import Breadth, LiquidationFinding, OIFinding
from bot.models import Ticker


@dataclass(frozen=True)
class Mover:
    coin: str
    move_pct: float
    ticker: Ticker
    liquidations: LiquidationFinding
    oi: OIFinding


@dataclass(frozen=True)
class TopMove:
    """A top-100 coin (tracked or not) and its 24h change, from CoinGecko's snapshot."""

    symbol: str
    change_pct: float


@dataclass(frozen=True)
class MoversView:
    window: str
    now: datetime
    as_of: datetime | None
    sources: tuple[str, ...]
    gainers: tuple[Mover, ...]
    losers: tuple[Mover, ...]
    tracked: Breadth
    top100: Breadth | None  # None for windows other than 24h, or before the first snapshot
    top100_as_of: datetime | None
    top100_gainers: tuple[TopMove, ...]
    top100_losers: tuple[TopMove, ...]
    stale_after: timedelta

    @property
    def stale(self) -> bool:
        return self.as_of is not None and self.now - self.as_of > self.stale_after
