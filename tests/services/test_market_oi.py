from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.models import OpenInterest
from bot.services.why import _market_oi

T = datetime(2026, 3, 10, 12, tzinfo=UTC)


def oi(coin: str, venue: str, at: datetime, usd: float) -> OpenInterest:
    return OpenInterest(coin=coin, venue=venue, ts=at, oi_usd=usd)  # type: ignore[arg-type]


def test_market_oi_sums_complete_buckets_only() -> None:
    points = [
        oi("BTC", "okx", T, 100.0),
        oi("ETH", "okx", T + timedelta(milliseconds=40), 50.0),  # same batch, a few ms apart
        oi("BTC", "okx", T + timedelta(hours=1), 90.0),  # ETH missing in this bucket: not a collapse
        oi("BTC", "bybit", T, 70.0),
    ]
    got = {(p.venue, p.ts): p.oi_usd for p in _market_oi(points)}
    assert got == {("okx", T): 150.0, ("bybit", T): 70.0}
