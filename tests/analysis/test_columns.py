"""Columnar candles give the analysis exactly what the models gave it: the same levels and the
same beta, and the store's columnar read holds exactly the rows of its model read."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.analysis.beta import beta_to_btc
from bot.analysis.levels import find_levels
from bot.columns import CandleColumns
from bot.models import Candle, Ticker
from bot.services.levels import levels_for
from bot.store import Store
from tests.analysis import HOUR, NOW, candles_from_closes, random_walk


def walk(
    n_daily: int, n_hourly: int, seed: int, *, venue: str = "binance"
) -> tuple[list[Candle], list[Candle]]:
    rng = np.random.default_rng(seed)
    daily = candles_from_closes(
        random_walk(n_daily, 50_000, 0.03, seed), volume=rng.uniform(100, 1000, n_daily).tolist(), venue=venue
    )
    start = daily[-1].close if daily else 50_000
    hourly = candles_from_closes(
        random_walk(n_hourly, start, 0.006, seed + 1),
        step=HOUR,
        interval="1h",
        volume=rng.uniform(10, 100, n_hourly).tolist(),
        venue=venue,
    )
    # some bars with a quote volume, some without (levels then weigh volume × close)
    hourly = [
        c.model_copy(update={"quote_volume": c.volume * 7.0}) if i % 3 else c for i, c in enumerate(hourly)
    ]
    return daily, hourly


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n_daily=st.integers(0, 420),
    n_hourly=st.integers(0, 800),
    seed=st.integers(0, 2**16),
    price_factor=st.floats(0.7, 1.3),
    now_shift=st.integers(-200, 90),
)
def test_levels_from_columns_equal_levels_from_models(
    n_daily: int, n_hourly: int, seed: int, price_factor: float, now_shift: int
) -> None:
    daily, hourly = walk(n_daily, n_hourly, seed)
    now = NOW + timedelta(minutes=now_shift * 7)  # also cuts bars opened after now
    price = (hourly[-1].close if hourly else daily[-1].close if daily else 50_000.0) * price_factor
    cols = CandleColumns.from_candles(daily), CandleColumns.from_candles(hourly)
    assert find_levels("BTC", price, *cols, now=now) == find_levels("BTC", price, daily, hourly, now=now)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 900), seed=st.integers(0, 2**16), gap=st.integers(0, 60), moves=st.booleans())
def test_beta_from_columns_equals_beta_from_models(n: int, seed: int, gap: int, moves: bool) -> None:
    rng = np.random.default_rng(seed)
    btc = candles_from_closes(random_walk(n, 60_000, 0.005, seed), step=HOUR, interval="1h", coin="BTC")
    coin = candles_from_closes(
        random_walk(n, 150, 0.01, seed + 1), step=HOUR, interval="1h", coin="SOL", venue="bybit"
    )
    coin = [c for i, c in enumerate(coin) if not (gap and i % 97 < gap * rng.random())]  # holes
    kw: dict[str, float] = {"coin_move_pct": 3.0, "btc_move_pct": 1.0} if moves else {}
    as_models = beta_to_btc("SOL", coin, btc, now=NOW, **kw)
    as_columns = beta_to_btc(
        "SOL", CandleColumns.from_candles(coin), CandleColumns.from_candles(btc), now=NOW, **kw
    )
    assert as_columns == as_models


def test_store_columns_hold_the_rows_of_the_model_read() -> None:
    store = Store(":memory:")
    daily, hourly = walk(60, 200, seed=7, venue="bybit")
    daily = [c.model_copy(update={"market": "perp"}) for c in daily]
    hourly = [c.model_copy(update={"market": "perp", "taker_buy_quote": 5.0}) for c in hourly]
    never = [c.model_copy(update={"venue": "okx", "market": "spot"}) for c in hourly]  # not a preferred pair
    store.upsert_candles([*daily, *hourly, *never])
    for interval, since in (("1h", NOW - timedelta(days=3)), ("1d", NOW - timedelta(days=30))):
        models = store.candles("BTC", interval, since, NOW)
        cols = store.candle_columns("BTC", interval, since, NOW)
        assert models
        assert cols.candles() == models
        assert (cols.venue, cols.market) == (models[0].venue, models[0].market)
        assert cols.between(NOW - timedelta(hours=5)).candles() == [
            c for c in models if c.open_time >= NOW - timedelta(hours=5)
        ]
    assert len(store.candle_columns("ETH", "1h", NOW - timedelta(days=3), NOW)) == 0
    assert store.candle_columns("ETH", "1h", NOW - timedelta(days=3)).candles() == []

    # the service reads columns; the result is the one models give
    ticker = Ticker(coin="BTC", venue="bybit", market="perp", price=hourly[-1].close, ts=NOW)
    daily_models = store.candles("BTC", "1d", NOW - timedelta(days=420), NOW)
    hourly_models = store.candles("BTC", "1h", NOW - timedelta(days=30), NOW)
    expected = find_levels("BTC", ticker.price, daily_models, hourly_models, now=NOW)
    assert levels_for(store, "BTC", ticker, NOW) == expected
    month = store.candle_columns("BTC", "1h", NOW - timedelta(days=31), NOW)
    assert levels_for(store, "BTC", ticker, NOW, hourly=month) == expected
    assert levels_for(store, "BTC", ticker, NOW, hourly=month.candles()) == expected
    store.close()
