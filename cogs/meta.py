"""/status: how fresh every source is, so users can judge the answers."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions import send, within_deadline
from bot.render.embeds import status_embed
from bot.render.sentiment import sentiment_status
from bot.services import MarketService
from cogs._common import everywhere

if TYPE_CHECKING:
    from bot.client import TapewatchBot


class MetaCog(commands.Cog):
    def __init__(self, market: MarketService) -> None:
        self.market = market

    @app_commands.command(name="status", description="Freshness and health of every data source")
    @everywhere
    async def status(self, interaction: discord.Interaction) -> None:
        statuses, streams, mood = await within_deadline(
            interaction,
            asyncio.gather(self.market.status(), self.market.streams(), self.market.sentiment()),
            ephemeral=True,
        )
        embed = status_embed(
            statuses,
            self.market.tracked,
            streams,
            self.market.clock(),
            answers=self.market.answers.stats,
            loading=self.market.tracked_set.all_loading,
            sentiment=sentiment_status(mood),
        )
        await send(interaction, embed=embed, ephemeral=True)


async def setup(bot: TapewatchBot) -> None:
    await bot.add_cog(MetaCog(bot.services.market))
