"""/levels: support below and resistance above the price, with a chart."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.controls import AnswerServices, Shown, answer
from cogs._common import coin_choices, everywhere

if TYPE_CHECKING:
    from bot.client import TapewatchBot


class LevelsCog(commands.Cog):
    def __init__(self, services: AnswerServices) -> None:
        self.services = services
        self.market = services.market

    @app_commands.command(
        name="levels", description="Support below and resistance above the price, with strength"
    )
    @app_commands.describe(coin="The coin, e.g. BTC, eth, $SOL")
    @everywhere
    async def levels(self, interaction: discord.Interaction, coin: app_commands.Range[str, 1, 60]) -> None:
        resolved = self.market.resolve(coin)
        await answer(interaction, self.services, Shown("lvl", resolved.symbol, None, interaction.user.id))

    @levels.autocomplete("coin")
    async def coin_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await coin_choices(self.market, current, interaction)


async def setup(bot: TapewatchBot) -> None:
    await bot.add_cog(LevelsCog(bot.services))
