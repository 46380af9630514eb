"""What the bot's presence shows: one coin's price and 24h change from the store. Which coin is
:func:`presence_coin`'s choice (BTC unless a lone server shortlisted another; a /settings
shortlist can feed it), and :func:`presence_quote` reads its best ticker."""

from __future__ import annotations

from collections.abc import Sequence

from bot.services.market import MarketService, best_ticker
from bot.views.presence import PresenceQuote

DEFAULT_COIN = "BTC"


def presence_coin(tracked: Sequence[str], shortlists: Sequence[Sequence[str]] = ()) -> str:
    """The coin in the presence: the server's first shortlisted coin where the bot is in one
    server with a shortlist of tracked coins; BTC otherwise (the first tracked coin when BTC is
    not tracked). A presence is global, so several servers' shortlists cannot all be shown."""
    if len(shortlists) == 1:
        chosen = [c for c in shortlists[0] if c in tracked]
        if chosen:
            return chosen[0]
    if DEFAULT_COIN in tracked or not tracked:
        return DEFAULT_COIN
    return tracked[0]


async def presence_quote(market: MarketService, coin: str) -> PresenceQuote | None:
    """The coin's best ticker (None when the store has none)."""
    tickers = await market.store.run(market.store.sync.tickers, coin)
    t = best_ticker(tickers).get(coin)
    if t is None:
        return None
    stale = market.clock() - t.ts > market.stale_after
    return PresenceQuote(coin, t.price, t.change_24h_pct, t.ts, t.venue, stale)
