"""What /derivatives shows: funding and its percentile, open interest, positioning and basis
per coin."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bot.analysis.findings import FundingFinding, LongShortFinding, OIFinding, TopTradersFinding
from bot.analysis.glance import extremity


@dataclass(frozen=True)
class FundingPercentile:
    venue: str
    rate_8h: float
    percentile: float | None  # 0–100 against the venue's hourly funding over 30 days
    hours: int  # hours of history the percentile rests on


@dataclass(frozen=True)
class Basis:
    venue: str
    perp: float
    spot: float
    spot_venue: str
    pct: float


@dataclass(frozen=True)
class CoinDerivatives:
    coin: str
    funding: FundingFinding
    percentiles: tuple[FundingPercentile, ...]
    oi: tuple[OIFinding, ...]  # 24h, 7d, 30d (the table reads 24h only)
    long_short: LongShortFinding
    top_traders: TopTradersFinding
    basis: tuple[Basis, ...]

    @property
    def extremity(self) -> float:
        return extremity(
            [p.percentile for p in self.percentiles], {p.venue: p.rate_8h for p in self.percentiles}
        )

    @property
    def mean_percentile(self) -> float | None:
        known = [p.percentile for p in self.percentiles if p.percentile is not None]
        return sum(known) / len(known) if known else None


@dataclass(frozen=True)
class DerivativesView:
    now: datetime
    coins: tuple[CoinDerivatives, ...]  # one coin, or every tracked coin, most extreme first
    single: bool
