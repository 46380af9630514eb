"""/watch: personal price watches. Adding checks the level against the market; every tickers
refresh :meth:`WatchService.due` steps each watch (once per crossing, with hysteresis) and
persists what fired before anything is sent, so a restart never sends a crossing twice."""

from __future__ import annotations

from bot.analysis.watches import Direction, condition_met, step, too_far
from bot.coins import Coin
from bot.errors import UserFacingError, WatchRefused
from bot.services.market import MarketService, best_ticker
from bot.services.why import WhyService
from bot.settings import WatchSettings
from bot.views.watches import Added, Crossing, WatchList


class WatchService:
    def __init__(self, market: MarketService, why: WhyService) -> None:
        self.market = market
        self.why = why

    @property
    def cfg(self) -> WatchSettings:
        return self.market.settings.watches

    async def add(self, user_id: int, coin: Coin, direction: Direction, level: float, note: str) -> Added:
        m = self.market
        if level <= 0:
            raise WatchRefused("not_positive")
        mine = await m.store.run(m.store.sync.watches_of, user_id)
        if len(mine) >= self.cfg.max_per_user:
            raise WatchRefused("limit", count=len(mine))
        now_price = (await m.price(coin)).primary.price
        if too_far(level, now_price, self.cfg.max_distance):
            raise WatchRefused(
                "too_far",
                level=level,
                max_distance=self.cfg.max_distance,
                coin=coin.symbol,
                now_price=now_price,
            )
        met = condition_met(direction, level, now_price)
        watch = await m.store.run(
            m.store.sync.add_watch, user_id, coin.symbol, direction, level, note, not met, m.clock()
        )
        resumed = await m.store.run(m.store.sync.resume_watches, user_id)
        return Added(watch, now_price, met, resumed)

    async def listing(self, user_id: int) -> WatchList:
        m = self.market
        watches = await m.store.run(m.store.sync.watches_of, user_id)
        pause = await m.store.run(m.store.sync.watch_pause, user_id)
        tickers = best_ticker(await m.store.run(m.store.sync.tickers))
        prices = {c: t.price for c, t in tickers.items()}
        return WatchList(tuple(watches), pause, prices, self.cfg.max_per_user)

    async def remove(self, user_id: int, watch_id: int) -> None:
        m = self.market
        if not await m.store.run(m.store.sync.remove_watch, user_id, watch_id):
            raise WatchRefused("no_such", watch_id=watch_id)

    async def pause(self, user_id: int, reason: str) -> None:
        await self.market.store.run(
            self.market.store.sync.pause_watches, user_id, self.market.clock(), reason
        )

    async def due(self) -> list[Crossing]:
        """The crossings to send now; each is recorded as sent before it is returned."""
        m = self.market
        watches = await m.store.run(m.store.sync.active_watches)
        if not watches:
            return []
        tickers = best_ticker(await m.store.run(m.store.sync.tickers))
        now = m.clock()
        out: list[Crossing] = []
        for w in watches:
            t = tickers.get(w.coin)
            if t is None or now - t.ts > m.stale_after:
                continue  # no price, or a stale one: never a crossing on old data
            fire, armed = step(w.armed, w.direction, w.price, t.price, self.cfg.hysteresis_pct)
            moved = armed != w.armed and await m.store.run(
                m.store.sync.set_watch_armed, w.id, armed, now if fire else None
            )
            if fire and moved:  # another bot process on the store moved it first: it sends
                out.append(Crossing(w, t.price, now, None))
        return [await self._with_why(c) for c in out]

    async def _with_why(self, c: Crossing) -> Crossing:
        try:
            answer = await self.why.why(self.market.registry.get(c.watch.coin), "24h", warm=True)
        except UserFacingError:
            return c
        return Crossing(c.watch, c.price, c.at, answer)
