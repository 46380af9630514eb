"""The bot's presence ("BTC $67.7K −1.9%" under its name), refreshed after every tickers
refresh through discord.py's ``change_presence`` (a gateway op 3).

Discord rate-limits presence updates, and a presence nobody reads changes nothing: an update is
sent at most once per ``min_interval`` (60 s) and only when the text changed. A refresh that is
skipped for the interval is not queued; the next tickers refresh brings the newest price."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import discord

from bot.job_ids import run_after_tickers
from bot.render.presence import presence_text
from bot.services.market import MarketService
from bot.services.presence import presence_coin, presence_quote

log = logging.getLogger(__name__)

PRESENCE_JOB = "presence"
MIN_INTERVAL = timedelta(seconds=60)


class PresenceUpdater:
    def __init__(
        self,
        client: discord.Client,
        market: MarketService,
        *,
        min_interval: timedelta = MIN_INTERVAL,
        pick: Callable[[Sequence[str], Sequence[Sequence[str]]], str] = presence_coin,
        guild_ids: Callable[[], Sequence[int]] | None = None,
    ) -> None:
        self.client = client
        self.market = market
        self.min_interval = min_interval
        self.pick = pick
        # the servers the bot is in (the gateway's guilds; a test may name them)
        self.guild_ids = guild_ids or (lambda: [g.id for g in client.guilds])
        self.text: str | None = None  # what the presence shows now
        self.sent_at: datetime | None = None

    async def _shortlists(self) -> list[tuple[str, ...]]:
        """The lone server's shortlist (``/settings shortlist``); none when the bot is in several
        servers (a presence is global) or the server chose none."""
        ids = list(self.guild_ids())
        if len(ids) != 1:
            return []
        shortlist = (await self.market.guilds.get(ids[0])).shortlist
        return [shortlist] if shortlist else []

    async def refresh(self) -> bool:
        """Show the current price if it changed and the interval allows; True when sent."""
        if not self.client.is_ready() or self.client.is_closed():
            return False
        quote = await presence_quote(self.market, self.pick(self.market.tracked, await self._shortlists()))
        if quote is None:
            return False  # no price yet: nothing rather than a made-up one
        text = presence_text(quote)
        now = self.market.clock()
        if text == self.text or (self.sent_at is not None and now - self.sent_at < self.min_interval):
            return False
        await self.client.change_presence(activity=discord.CustomActivity(name=text))
        self.text, self.sent_at = text, now
        return True


def register_presence(scheduler: Any, updater: PresenceUpdater, seconds: int) -> None:
    """Refresh the presence right after each tickers refresh (and every ``seconds`` as a fallback)."""
    first = updater.market.clock() + timedelta(seconds=seconds)
    run_after_tickers(scheduler, PRESENCE_JOB, updater.refresh, seconds, first, updater.market.clock)
