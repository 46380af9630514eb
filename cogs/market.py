"""/price (and the other market questions as they land)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions import send
from bot.render.embeds import price_embed
from bot.services import MarketService

if TYPE_CHECKING:
    from bot.client import TapewatchBot


class MarketCog(commands.Cog):
    def __init__(self, market: MarketService) -> None:
        self.market = market

    async def coin_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return [
            app_commands.Choice(name=f"{c.symbol} — {c.name}", value=c.symbol)
            for c in self.market.autocomplete(current)
        ]

    @app_commands.command(name="price", description="Price, 24h change, range and volume of a coin")
    @app_commands.describe(coin="The coin, e.g. BTC, eth, $SOL, Bitcoin")
    async def price(self, interaction: discord.Interaction, coin: app_commands.Range[str, 1, 60]) -> None:
        resolved = self.market.resolve(coin)
        view = await self.market.price(resolved)
        await send(interaction, embed=price_embed(view))

    price.autocomplete("coin")(coin_autocomplete)


async def setup(bot: TapewatchBot) -> None:
    await bot.add_cog(MarketCog(bot.market))
