"""/derivatives: funding, open interest, positioning and basis at a glance."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions import send, within_deadline
from bot.render.derivatives import derivatives_embed
from bot.services import MarketService
from bot.services.derivatives import DerivativesService
from cogs._common import coin_choices, everywhere

if TYPE_CHECKING:
    from bot.client import TapewatchBot


class DerivativesCog(commands.Cog):
    def __init__(self, market: MarketService, derivatives: DerivativesService) -> None:
        self.market = market
        self.derivatives_service = derivatives

    async def coin_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await coin_choices(self.market, current, interaction)

    @app_commands.command(
        name="derivatives",
        description="Funding, open interest, long/short and basis for a coin, or a table across coins",
    )
    @app_commands.describe(coin="A coin (leave empty for a table across the tracked coins)")
    @everywhere
    async def derivatives(
        self, interaction: discord.Interaction, coin: app_commands.Range[str, 1, 60] | None = None
    ) -> None:
        resolved = self.market.resolve(coin) if coin else None
        view = await within_deadline(interaction, self.derivatives_service.derivatives(resolved))
        await send(interaction, embed=derivatives_embed(view))

    derivatives.autocomplete("coin")(coin_autocomplete)


async def setup(bot: TapewatchBot) -> None:
    await bot.add_cog(DerivativesCog(bot.services.market, bot.services.derivatives))
