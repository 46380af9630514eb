"""/movers: who is leading the move, each way, with the leverage behind each mover."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions import send, within_deadline
from bot.render.movers import movers_embed
from bot.services.movers import MoversService
from cogs._common import everywhere

if TYPE_CHECKING:
    from bot.client import TapewatchBot

Window = Literal["1h", "4h", "24h", "7d"]


class MoversCog(commands.Cog):
    def __init__(self, movers: MoversService) -> None:
        self.movers_service = movers

    @app_commands.command(
        name="movers",
        description="Top gainers and losers over a window, with liquidations and open interest beside each",
    )
    @app_commands.describe(
        window="The window to rank by (default: the server's, else 24h)",
        count="How many coins each way (1-10)",
    )
    @everywhere
    async def movers(
        self,
        interaction: discord.Interaction,
        window: Window | None = None,
        count: app_commands.Range[int, 1, 10] = 5,
    ) -> None:
        # the server's default window (/settings) when none is given
        view = await within_deadline(
            interaction, self.movers_service.for_server(interaction.guild_id, window, count)
        )
        await send(interaction, embed=movers_embed(view))


async def setup(bot: TapewatchBot) -> None:
    await bot.add_cog(MoversCog(bot.services.movers))
