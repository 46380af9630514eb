"""/levels: support below and resistance above the price, with a chart."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions import acknowledge, send, within_deadline
from bot.render.charts import ChartRenderer
from bot.render.levels import levels_chart, levels_embed
from bot.services import MarketService
from bot.services.levels import LevelsService
from cogs._common import coin_choices

if TYPE_CHECKING:
    from bot.client import TapewatchBot


class LevelsCog(commands.Cog):
    def __init__(self, market: MarketService, service: LevelsService, charts: ChartRenderer) -> None:
        self.market = market
        self.service = service
        self.charts = charts

    @app_commands.command(
        name="levels", description="Support below and resistance above the price, with strength"
    )
    @app_commands.describe(coin="The coin, e.g. BTC, eth, $SOL")
    async def levels(self, interaction: discord.Interaction, coin: app_commands.Range[str, 1, 60]) -> None:
        resolved = self.market.resolve(coin)
        view = await within_deadline(interaction, self.service.levels(resolved))
        if not view.hourly:
            await send(interaction, embed=levels_embed(view))
            return
        await acknowledge(interaction)  # the chart may take longer than the reply may wait
        png = await self.charts.render(levels_chart(view), f"levels:{view.coin}:{view.now:%Y%m%d%H%M}")
        await send(
            interaction,
            embed=levels_embed(view, chart=True),
            file=discord.File(io.BytesIO(png), filename="levels.png"),
        )

    @levels.autocomplete("coin")
    async def coin_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await coin_choices(self.market, current, interaction)


async def setup(bot: TapewatchBot) -> None:
    s = bot.services
    await bot.add_cog(LevelsCog(s.market, s.levels, s.charts))
