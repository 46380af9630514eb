"""/liquidations: long vs short liquidations by window and venue, with a chart."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.interactions import acknowledge, send, within_deadline
from bot.render.charts import ChartRenderer
from bot.render.liquidations import liquidations_chart, liquidations_embed
from bot.services import MarketService
from bot.services.liquidations import LiquidationsService
from cogs._common import coin_choices

if TYPE_CHECKING:
    from bot.client import TapewatchBot

LiqWindow = Literal["1h", "4h", "24h", "7d", "30d"]


class LiquidationsCog(commands.Cog):
    def __init__(self, market: MarketService, service: LiquidationsService, charts: ChartRenderer) -> None:
        self.market = market
        self.service = service
        self.charts = charts

    @app_commands.command(
        name="liquidations", description="Long vs short liquidations in USD, by window and venue"
    )
    @app_commands.describe(
        coin="A coin (leave empty for all tracked coins)",
        window="One window (default: the server's, else 1h, 24h, 7d and 30d)",
    )
    async def liquidations(
        self,
        interaction: discord.Interaction,
        coin: app_commands.Range[str, 1, 60] | None = None,
        window: LiqWindow | None = None,
    ) -> None:
        resolved = self.market.resolve(coin) if coin else None
        # the server's default window (/settings) when none is given
        view = await within_deadline(
            interaction, self.service.for_server(interaction.guild_id, resolved, window)
        )
        embed = liquidations_embed(view)
        spec = liquidations_chart(view)
        if spec is None:
            await send(interaction, embed=embed)
            return
        await acknowledge(interaction)  # the chart may take longer than the reply may wait
        minute = view.now.strftime("%Y%m%d%H%M")
        png = await self.charts.render(spec, f"liq:{view.coin or '*'}:{view.window or '-'}:{minute}")
        embed.set_image(url="attachment://liquidations.png")
        await send(interaction, embed=embed, file=discord.File(io.BytesIO(png), filename="liquidations.png"))

    @liquidations.autocomplete("coin")
    async def coin_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        return await coin_choices(self.market, current, interaction)


async def setup(bot: TapewatchBot) -> None:
    s = bot.services
    await bot.add_cog(LiquidationsCog(s.market, s.liquidations, s.charts))
