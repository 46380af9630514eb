"""/movers: the tracked coins ranked by their move over a window, each mover with its
liquidations and open-interest change beside it, and the share of the market (the tracked
coins, and for 24h CoinGecko's stored top 100) that moved each way.

Every move is :func:`bot.services.moves.coin_move` (through :func:`window_moves`), so a coin's
move here is the number /why and the alerts state for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from bot.analysis.breadth import BreadthConfig, breadth
from bot.analysis.coverage import Coverage, coverage
from bot.analysis.findings import Breadth
from bot.analysis.liq_basis import LiqBands
from bot.analysis.open_interest import oi_change
from bot.models import Ticker
from bot.services.guild_prefs import DEFAULT_WINDOW
from bot.services.liquidations import BASELINE, LiqSums, liquidations
from bot.services.market import MarketService, best_ticker
from bot.services.why import WINDOWS, coin_oi, window_moves
from bot.store import Store
from bot.views.movers import Mover, MoversView, TopMove

FLAT = BreadthConfig().flat_pct  # a smaller move is neither up nor down
TOP100_WINDOW = "24h"  # the stored top-100 snapshot carries CoinGecko's 24h change only


def _mover(
    store: Store,
    coin: str,
    move: float,
    ticker: Ticker,
    *,
    now: datetime,
    window: str,
    cover_sums: tuple[Coverage, LiqSums],
    bands: LiqBands | None,
) -> Mover:
    span = WINDOWS[window]
    cover, sums = cover_sums
    liq = liquidations(store, coin, now, span, cover, sums, bands=bands)
    oi = oi_change(coin, coin_oi(store, coin, now, (span,)), now=now, window=span)
    return Mover(coin=coin, move_pct=move, ticker=ticker, liquidations=liq, oi=oi)


def _top100(store: Store) -> tuple[Breadth | None, datetime | None, list[TopMove]]:
    entries, at = store.market_breadth()
    changes = {e.symbol: e.change_24h_pct for e in entries if e.change_24h_pct is not None}
    if not changes:
        return None, at, []
    caps = {e.symbol: e.market_cap for e in entries if e.market_cap}
    found = breadth(changes, window=TOP100_WINDOW, as_of=at, market_caps=caps or None, sources=("coingecko",))
    ranked = sorted((TopMove(s, c) for s, c in changes.items()), key=lambda m: m.change_pct)
    return found, at, ranked


def gather_movers(
    store: Store,
    *,
    tracked: Sequence[str],
    window: str,
    count: int,
    now: datetime,
    stale_after: timedelta,
    bands: LiqBands | None = None,
) -> MoversView:
    tickers = best_ticker(store.tickers())
    moves = window_moves(store, tickers, tracked, window, now)
    ranked = sorted(moves.changes.items(), key=lambda kv: kv[1])
    down = [(c, m) for c, m in ranked if m <= -FLAT][:count]
    up = [(c, m) for c, m in reversed(ranked) if m >= FLAT][:count]
    span = WINDOWS[window]
    cover = coverage(store.stream_sessions(now - BASELINE - span), now - span, now)
    shared: tuple[Coverage, LiqSums] = (cover, {})

    def build(pairs: list[tuple[str, float]]) -> tuple[Mover, ...]:
        return tuple(
            _mover(store, c, m, tickers[c], now=now, window=window, cover_sums=shared, bands=bands)
            for c, m in pairs
        )

    top100, top_at, top_ranked = _top100(store) if window == TOP100_WINDOW else (None, None, [])
    tracked_set = set(tracked)
    untracked = [m for m in top_ranked if m.symbol not in tracked_set]
    return MoversView(
        window=window,
        now=now,
        as_of=moves.as_of,
        sources=moves.sources,
        gainers=build(up),
        losers=build(down),
        tracked=breadth(moves.changes, window=window, as_of=moves.as_of, sources=moves.sources),
        top100=top100,
        top100_as_of=top_at,
        top100_gainers=tuple(m for m in reversed(untracked) if m.change_pct >= FLAT)[:3],
        top100_losers=tuple(m for m in untracked if m.change_pct <= -FLAT)[:3],
        stale_after=stale_after,
    )


class MoversService:
    def __init__(self, market: MarketService) -> None:
        self.market = market

    async def movers(self, window: str = "24h", count: int = 5) -> MoversView:
        m = self.market

        async def compute() -> MoversView:
            view = await m.store.run(
                gather_movers,
                m.store.sync,
                tracked=m.tracked,
                window=window,
                count=count,
                now=m.clock(),
                stale_after=m.stale_after,
                bands=m.settings.liquidations,
            )
            if not view.tracked.n:
                raise m.no_data_yet("prices")
            return view

        return await m.answers.get(("movers", window, count), compute)

    async def for_server(self, guild_id: int | None, window: str | None, count: int = 5) -> MoversView:
        """As a server asked: its default window (``/settings``) when none is given."""
        chosen = await self.market.guilds.window(guild_id, window)
        return await self.movers(chosen or DEFAULT_WINDOW, count)
