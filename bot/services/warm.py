"""Answers ready before they are asked: after each tickers refresh, compute what is most asked.

The first reader after a refresh is then served from the cache instead of paying for the
computation while everyone else waits behind it. What is warmed: the market ``/why`` for every
window and the 24h ``/why`` of the most-asked coins. (An alert's own ``/why`` is computed through
the same cache just before it is posted, so its "Why?" button is warm already.) Warming goes
through the workload gate like any request, but is never refused and never counted as asked.
"""

from __future__ import annotations

import asyncio
import logging

from bot.errors import UserFacingError
from bot.services.why import WINDOWS, WhyService

log = logging.getLogger(__name__)


class Warmer:
    def __init__(self, why: WhyService, *, top_coins: int = 5) -> None:
        self.why = why
        self.top_coins = top_coins
        self._task: asyncio.Task[int] | None = None

    def coins(self) -> list[str]:
        market = self.why.market
        asked = [c for c in market.answers.most_asked(self.top_coins + 1) if isinstance(c, str)]
        return [c for c in asked if c in market.tracked][: self.top_coins]

    async def warm(self) -> int:
        """Compute the answers most likely asked next; returns how many were computed or found."""
        done = 0
        targets: list[tuple[str | None, str]] = [(None, w) for w in WINDOWS]
        targets += [(c, "24h") for c in self.coins()]
        for coin, window in targets:
            try:
                resolved = self.why.market.registry.get(coin) if coin else None
                await self.why.why(resolved, window, warm=True)
                done += 1
            except UserFacingError:
                continue  # no data for it yet: nothing to warm
        return done

    def schedule(self) -> None:
        """Warm in the background unless a warm-up is still running (a slow one is not stacked)."""
        if self._task is not None and not self._task.done():
            return
        self._task = asyncio.create_task(self._logged(), name="tapewatch-warm")

    async def _logged(self) -> int:
        try:
            return await self.warm()
        except Exception:
            log.exception("warming the answer cache failed")
            return 0
