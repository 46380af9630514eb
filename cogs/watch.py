"""/watch: personal price watches, delivered by DM, in servers and in DMs alike."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.analysis.watches import Direction
from bot.errors import UserFacingError
from bot.interactions import NO_MENTIONS, send, within_deadline
from bot.job_ids import run_after_tickers
from bot.render.watches import added_embed, crossing_embed, list_embed
from bot.services import MarketService
from bot.services.watches import WatchService
from bot.views.watches import Crossing
from cogs._common import coin_choices

if TYPE_CHECKING:
    from bot.client import TapewatchBot

log = logging.getLogger(__name__)

WATCH_JOB = "watches"
DM_CLOSED = 50007  # Discord: "Cannot send messages to this user"
EVERYWHERE = app_commands.AppCommandContext(guild=True, dm_channel=True, private_channel=True)
INSTALLS = app_commands.AppInstallationType(guild=True, user=True)


class WatchCog(commands.Cog):
    watch = app_commands.Group(
        name="watch",
        description="Personal price alerts, sent to you by DM",
        allowed_contexts=EVERYWHERE,
        allowed_installs=INSTALLS,
    )

    def __init__(self, bot: discord.Client, market: MarketService, watches: WatchService) -> None:
        self.bot = bot
        self.market = market
        self.watches = watches

    async def coin_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await coin_choices(self.market, current, interaction)

    @watch.command(name="add", description="DM me when a coin's price crosses a level")
    @app_commands.describe(
        coin="The coin, e.g. BTC",
        above="Alert when the price rises to or above this",
        below="Alert when the price falls to or below this",
        note="A note to yourself, sent with the alert",
    )
    async def add(
        self,
        interaction: discord.Interaction,
        coin: app_commands.Range[str, 1, 60],
        above: float | None = None,
        below: float | None = None,
        note: app_commands.Range[str, 1, 200] | None = None,
    ) -> None:
        if (above is None) == (below is None):
            raise UserFacingError("Give one of `above:` or `below:` (a price).")
        resolved = self.market.resolve(coin)
        direction: Direction = "above" if above is not None else "below"
        level = above if above is not None else below
        assert level is not None
        added = await within_deadline(
            interaction,
            self.watches.add(interaction.user.id, resolved, direction, level, note or ""),
            ephemeral=True,
        )
        await send(interaction, embed=added_embed(added), ephemeral=True)

    @watch.command(name="list", description="Your price watches, and whether they are paused")
    async def list_(self, interaction: discord.Interaction) -> None:
        view = await within_deadline(interaction, self.watches.listing(interaction.user.id), ephemeral=True)
        await send(interaction, embed=list_embed(view), ephemeral=True)

    @watch.command(name="remove", description="Remove one of your price watches")
    @app_commands.describe(number="The watch's number, from /watch list")
    async def remove(self, interaction: discord.Interaction, number: app_commands.Range[int, 1]) -> None:
        await within_deadline(interaction, self.watches.remove(interaction.user.id, number), ephemeral=True)
        await send(interaction, content=f"Watch #{number} removed.", ephemeral=True)

    add.autocomplete("coin")(coin_autocomplete)

    async def deliver(self) -> list[Crossing]:
        """Send each due crossing by DM; a user whose DMs are closed is paused. Returns what was sent."""
        sent: list[Crossing] = []
        closed: set[int] = set()
        for c in await self.watches.due():
            user = c.watch.user_id
            if user in closed:
                continue
            try:
                dm = await self.bot.create_dm(discord.Object(id=user))
                await dm.send(embed=crossing_embed(c), allowed_mentions=NO_MENTIONS)
            except discord.Forbidden as exc:
                if exc.code != DM_CLOSED:
                    raise
                closed.add(user)
                await self.watches.pause(user, "your DMs are closed to the bot (Discord 50007)")
                log.info("watches of user %s paused: DMs closed", user)
                continue
            except discord.HTTPException:
                log.warning("watch #%s: DM to user %s failed", c.watch.id, user, exc_info=True)
                continue
            sent.append(c)
        return sent


def register_watch_job(scheduler: Any, cog: WatchCog, seconds: int) -> None:
    """Check the watches after every tickers refresh (and every ``seconds`` as a fallback)."""
    run_after_tickers(scheduler, WATCH_JOB, cog.deliver, seconds, cog.market.clock(), cog.market.clock)


async def setup(bot: TapewatchBot) -> None:
    cog = WatchCog(bot, bot.services.market, bot.services.watches)
    await bot.add_cog(cog)
    if bot.scheduler is not None:
        register_watch_job(bot.scheduler, cog, bot.services.market.settings.jobs.tickers_seconds)
