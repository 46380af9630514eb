"""What cogs and alerts ask: read the store, run analysis, return findings. No Discord, no
network: answers come from the store, in a worker thread so the event loop never waits."""

from bot.services.market import MarketService, NextRefresh, best_ticker

__all__ = ["MarketService", "NextRefresh", "best_ticker"]
