"""The set-based reads return exactly what the per-coin reads they replace return: same rows,
same order, on random stores with gaps, venues missing, exact-time hits and instants outside
the data."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.models import Candle, OpenInterest
from bot.store import Store
from bot.store.reads import CANDLE_PREFERENCE, SERIES_VENUES

T0 = datetime(2026, 11, 1, tzinfo=UTC)
COINS = ("BTC", "ETH", "SOL", "XRP", "NOPE")  # NOPE never has data


def oi_store(seed: int) -> Store:
    rng = random.Random(seed)
    store = Store(":memory:")
    points = [
        OpenInterest(coin=coin, venue=venue, ts=T0 + timedelta(minutes=m), oi_usd=rng.uniform(0, 1e9))
        for coin in COINS[:-1]
        for venue in SERIES_VENUES
        if rng.random() < 0.8
        for m in sorted(rng.sample(range(0, 600, 5), rng.randint(1, 30)))
    ]
    store.upsert_open_interest(points)
    return store


instants = st.integers(-30, 630).map(lambda m: T0 + timedelta(minutes=m))


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), at=instants, after=st.booleans())
def test_near_many_is_near_per_coin(seed: int, at: datetime, after: bool) -> None:
    store = oi_store(seed)
    for table in ("open_interest", "funding"):
        many = store.near_many(table, [(c, v) for c in COINS for v in SERIES_VENUES], at, after=after)
        for coin in COINS:
            rows = store.near(table, coin, [at], after=after)
            for venue in SERIES_VENUES:
                assert many.get((coin, venue), []) == [r for r in rows if r["venue"] == venue]
    store.close()


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), at=instants)
def test_oi_latest_and_oi_near_are_the_per_coin_reads(seed: int, at: datetime) -> None:
    store = oi_store(seed)
    coins = list(COINS)
    assert store.oi_latest(coins, at) == [p for c in coins for p in store.oi_points(c, [at], after=False)]
    for venue in SERIES_VENUES:
        near = store.oi_near(venue, coins, at)
        for coin in coins:
            old = [p for p in store.oi_points(coin, [at]) if p.venue == venue]
            assert near.get(coin, []) == old
    store.close()


def candle_store(seed: int) -> Store:
    rng = random.Random(seed)
    store = Store(":memory:")
    bars = []
    for coin in COINS[:-1]:
        for venue, market in (*CANDLE_PREFERENCE, ("okx", "spot")):  # okx spot: never preferred
            if rng.random() < 0.5:
                continue
            for interval, step in (("1h", timedelta(hours=1)), ("1d", timedelta(days=1))):
                for k in sorted(rng.sample(range(40), rng.randint(1, 20))):
                    o = rng.uniform(1, 100)
                    bars.append(
                        Candle(
                            coin=coin,
                            venue=venue,
                            market=market,
                            interval=interval,
                            open_time=T0 + k * step,
                            open=o,
                            high=o * 1.1,
                            low=o * 0.9,
                            close=o,
                            volume=rng.uniform(0, 10),
                        )
                    )
    store.upsert_candles(bars)
    return store


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    interval=st.sampled_from(["1h", "1d"]),
    lo=st.integers(-5, 45),
    span=st.integers(0, 12),
    open_ended=st.booleans(),
)
def test_candles_many_is_candles_per_coin(
    seed: int, interval: str, lo: int, span: int, open_ended: bool
) -> None:
    store = candle_store(seed)
    step = timedelta(hours=1) if interval == "1h" else timedelta(days=1)
    since, until = T0 + lo * step, None if open_ended else T0 + (lo + span) * step
    many = store.candles_many(list(COINS), interval, since, until)
    for coin in COINS:
        assert many.get(coin, []) == store.candles(coin, interval, since, until)
    assert store.candles_many([], interval, since, until) == {}
    store.close()
