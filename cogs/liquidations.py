"""/liquidations: long vs short liquidations by window and venue, with a chart."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.controls import AnswerServices, Shown, answer
from cogs._common import coin_choices, everywhere

if TYPE_CHECKING:
    from bot.client import TapewatchBot

LiqWindow = Literal["1h", "4h", "24h", "7d", "30d"]


class LiquidationsCog(commands.Cog):
    def __init__(self, services: AnswerServices) -> None:
        self.services = services
        self.market = services.market

    @app_commands.command(
        name="liquidations", description="Long vs short liquidations in USD, by window and venue"
    )
    @app_commands.describe(
        coin="A coin (leave empty for all tracked coins)",
        window="One window (default: the server's, else 1h, 24h, 7d and 30d)",
    )
    @everywhere
    async def liquidations(
        self,
        interaction: discord.Interaction,
        coin: app_commands.Range[str, 1, 60] | None = None,
        window: LiqWindow | None = None,
    ) -> None:
        resolved = self.market.resolve(coin) if coin else None
        shown = Shown("liq", resolved.symbol if resolved else None, window, interaction.user.id)
        await answer(interaction, self.services, shown)

    @liquidations.autocomplete("coin")
    async def coin_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await coin_choices(self.market, current, interaction)


async def setup(bot: TapewatchBot) -> None:
    await bot.add_cog(LiquidationsCog(bot.services))
