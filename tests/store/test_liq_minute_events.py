"""The read the liquidation watcher diffs (:meth:`Store.liq_minute_events`), on both backends:
per-minute event counts from a minute on, which another connection's ingest only ever grows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.clock import to_ms
from bot.models import Liquidation
from bot.store import Store

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def event(coin: str, at: datetime, n: int, venue: str = "binance", side: str = "long") -> Liquidation:
    return Liquidation(
        venue=venue,
        coin=coin,
        side=side,  # type: ignore[arg-type]
        price=100.0,
        qty=10.0,
        usd=1000.0,
        ts=at,
        event_id=f"{coin}-{n}",
    )


def minute(at: datetime) -> int:
    return to_ms(at.replace(second=0, microsecond=0))


def test_counts_per_coin_and_minute_across_venues_and_sides(db: str) -> None:
    store = Store(db)
    try:
        assert store.liq_minute_events(T0) == {}
        store.insert_liquidations(
            [
                event("ETH", T0 + timedelta(seconds=5), 1),
                event("ETH", T0 + timedelta(seconds=6), 2, venue="bybit", side="short"),
                event("ETH", T0 + timedelta(minutes=1, seconds=1), 3),
                event("BTC", T0 + timedelta(seconds=59), 4),
                event("BTC", T0 - timedelta(seconds=1), 5),  # the minute before `since`
            ]
        )
        assert store.liq_minute_events(T0 + timedelta(seconds=30)) == {  # from the minute's start
            ("ETH", minute(T0)): 2,
            ("ETH", minute(T0 + timedelta(minutes=1))): 1,
            ("BTC", minute(T0)): 1,
        }
        assert store.liq_minute_events(T0 + timedelta(minutes=1)) == {
            ("ETH", minute(T0 + timedelta(minutes=1))): 1
        }
        earlier = T0 - timedelta(minutes=1)
        assert store.liq_minute_events(earlier)[("BTC", minute(earlier))] == 1
    finally:
        store.close()


def test_another_connections_ingest_grows_exactly_its_coins(db: str) -> None:
    """A second Store on the same target stands in for the collector process: its commit is
    seen by the first, and a replayed (duplicate) event grows nothing."""
    reader, collector = Store(db), Store(db)
    try:
        collector.insert_liquidations([event("ETH", T0, 1), event("SOL", T0, 2)])
        before = reader.liq_minute_events(T0)
        collector.insert_liquidations([event("SOL", T0 + timedelta(seconds=1), 3), event("ETH", T0, 1)])
        after = reader.liq_minute_events(T0)
        grew = {coin for (coin, m), n in after.items() if n > before.get((coin, m), 0)}
        assert grew == {"SOL"}
        assert after[("SOL", minute(T0))] == 2
        assert after[("ETH", minute(T0))] == 1
    finally:
        collector.close()
        reader.close()
