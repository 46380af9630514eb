"""/price and /why: what a coin costs, and why it (or the market) moved."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.controls import AnswerServices, Shown, answer
from bot.interactions import send, within_deadline
from bot.render.embeds import price_embed, price_table_embed
from cogs._common import coin_choices, everywhere

if TYPE_CHECKING:
    from bot.client import TapewatchBot

Window = Literal["1h", "4h", "24h", "7d"]


class MarketCog(commands.Cog):
    def __init__(self, services: AnswerServices) -> None:
        self.services = services
        self.market = services.market

    async def coin_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await coin_choices(self.market, current, interaction)

    @app_commands.command(
        name="price", description="Price, 24h change, range and volume of a coin, or up to 5 side by side"
    )
    @app_commands.describe(coin="The coin, e.g. BTC, eth, $SOL, Bitcoin — or up to 5: btc eth sol")
    @everywhere
    async def price(self, interaction: discord.Interaction, coin: app_commands.Range[str, 1, 100]) -> None:
        coins = self.market.resolve_many(coin)
        if len(coins) == 1:
            view = await within_deadline(interaction, self.market.price(coins[0]))
            await send(interaction, embed=price_embed(view))
            return
        views = await within_deadline(interaction, asyncio.gather(*(self.market.price(c) for c in coins)))
        await send(interaction, embed=price_table_embed(list(views)))

    @app_commands.command(
        name="why", description="Why is the market (or a coin) moving? Drivers with their numbers"
    )
    @app_commands.describe(
        coin="A coin (leave empty for the whole market)",
        window="The window to explain (default: the server's, else 24h)",
    )
    @everywhere
    async def why(
        self,
        interaction: discord.Interaction,
        coin: app_commands.Range[str, 1, 60] | None = None,
        window: Window | None = None,
    ) -> None:
        resolved = self.market.resolve(coin) if coin else None
        shown = Shown("why", resolved.symbol if resolved else None, window, interaction.user.id)
        await answer(interaction, self.services, shown)

    price.autocomplete("coin")(coin_autocomplete)
    why.autocomplete("coin")(coin_autocomplete)


async def setup(bot: TapewatchBot) -> None:
    await bot.add_cog(MarketCog(bot.services))
