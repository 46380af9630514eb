"""/derivatives: funding per venue (per 8h, with its percentile over 30 days), open interest and
its 24h/7d/30d change, long/short of all accounts and of top traders, and the perp's basis over
spot — for one coin, or a row per tracked coin sorted by the most unusual funding."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.analysis.glance import basis_pct, percentile_rank
from bot.analysis.open_interest import oi_change
from bot.analysis.positioning import funding_state, long_short_state, top_traders_state
from bot.coins import Coin
from bot.models import Ticker
from bot.services.market import MarketService
from bot.services.why import coin_oi
from bot.store import Store
from bot.views.derivatives import Basis, CoinDerivatives, DerivativesView, FundingPercentile

DAY = timedelta(days=1)
OI_WINDOWS = (DAY, timedelta(days=7), timedelta(days=30))
PERCENTILE_SPAN = timedelta(days=30)
SPOT_REFERENCE = ("binance", "coingecko")  # the spot price a perp's basis is measured against


def _basis(tickers: Sequence[Ticker]) -> tuple[Basis, ...]:
    spots = {t.venue: t for t in tickers if t.market == "spot"}
    spot = next((spots[v] for v in SPOT_REFERENCE if v in spots), None)
    if spot is None:
        return ()
    return tuple(
        Basis(t.venue, t.price, spot.price, spot.venue, basis_pct(t.price, spot.price))
        for t in sorted(tickers, key=lambda t: t.venue)
        if t.market == "perp"
    )


def coin_derivatives(
    store: Store, coin: str, now: datetime, history: dict[tuple[str, str], list[float]], *, full: bool
) -> CoinDerivatives:
    funding = funding_state(coin, store.funding_points(coin, [now, now - DAY]), now=now, window=DAY)
    percentiles = tuple(
        FundingPercentile(
            v.venue,
            v.rate_8h,
            percentile_rank(v.rate_8h, history.get((coin, v.venue), [])),
            len(history.get((coin, v.venue), [])),
        )
        for v in funding.by_venue
    )
    windows = OI_WINDOWS if full else OI_WINDOWS[:1]
    points = coin_oi(store, coin, now, windows)
    oi = tuple(oi_change(coin, points, now=now, window=w) for w in windows)
    ls = long_short_state(coin, store.long_short(coin, now - DAY - DAY), now=now, window=DAY)
    top = top_traders_state(
        coin, store.top_traders(coin, now - DAY - timedelta(hours=7)), now=now, window=DAY, all_accounts=ls
    )
    return CoinDerivatives(coin, funding, percentiles, oi, ls, top, _basis(store.tickers(coin)))


def gather_derivatives(store: Store, coins: Sequence[str], now: datetime) -> DerivativesView:
    history = store.funding_hourly(coins, now - PERCENTILE_SPAN)
    single = len(coins) == 1
    found = [coin_derivatives(store, c, now, history, full=single) for c in coins]
    found.sort(key=lambda d: (-d.extremity, -abs(d.funding.mean_8h or 0.0)))
    return DerivativesView(now=now, coins=tuple(found), single=single)


class DerivativesService:
    def __init__(self, market: MarketService) -> None:
        self.market = market

    async def derivatives(self, coin: Coin | None) -> DerivativesView:
        m = self.market
        coins = [coin.symbol] if coin else m.tracked

        async def compute() -> DerivativesView:
            view = await m.store.run(gather_derivatives, m.store.sync, coins, m.clock())
            if not any(d.funding.ok or d.oi[0].ok for d in view.coins):
                raise m.no_data_yet("derivatives", coin.symbol if coin else None)
            return view

        subject = coin.symbol if coin else None
        return await m.answers.get(("derivatives", subject), compute, subject=subject)
