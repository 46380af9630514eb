"""/levels: support below and resistance above the price from the price history, with the
bars and liquidations the chart draws over the same week."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.analysis.findings import LevelsResult
from bot.analysis.levels import find_levels
from bot.coins import Coin
from bot.columns import CandleColumns
from bot.models import Candle, Ticker
from bot.services.liquidations import liq_rows
from bot.services.market import MarketService, best_ticker
from bot.store import Store
from bot.views.levels import LevelsView

CHART_SPAN = timedelta(days=7)


def levels_for(
    store: Store,
    coin: str,
    ticker: Ticker | None,
    now: datetime,
    hourly: Sequence[Candle] | CandleColumns | None = None,
) -> LevelsResult | None:
    """Levels from 420 days of daily and 30 of hourly bars (``hourly`` when the caller has
    already read at least those), read as columns: the analysis needs no model per bar."""
    if ticker is None:
        return None
    daily = store.candle_columns(coin, "1d", now - timedelta(days=420), now)
    since = now - timedelta(days=30)
    bars: Sequence[Candle] | CandleColumns
    if isinstance(hourly, CandleColumns):
        bars = hourly.between(since)
    elif hourly is not None:
        bars = [c for c in hourly if c.open_time >= since]
    else:
        bars = store.candle_columns(coin, "1h", since, now)
    return find_levels(coin, ticker.price, daily, bars, now=now)


class LevelsService:
    def __init__(self, market: MarketService) -> None:
        self.market = market

    async def levels(self, coin: Coin) -> LevelsView:
        m = self.market
        now = m.clock()

        def read() -> LevelsView | None:
            store = m.store.sync
            ticker = best_ticker(store.tickers(coin.symbol)).get(coin.symbol)
            result = levels_for(store, coin.symbol, ticker, now)
            if ticker is None or result is None:
                return None
            hourly = store.candles(coin.symbol, "1h", now - CHART_SPAN, now)
            liqs = liq_rows(store, coin.symbol, now - CHART_SPAN, now, CHART_SPAN, baseline=False)
            return LevelsView(coin.symbol, coin.name, ticker, result, tuple(hourly), tuple(liqs), now)

        async def compute() -> LevelsView | None:
            return await m.store.run(read)

        view = await m.answers.get(("levels", coin.symbol), compute, subject=coin.symbol)
        if view is None:
            raise m.no_data_yet("price", coin.symbol)
        return view
