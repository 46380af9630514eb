"""/settings: a server's own defaults — coin shortlist, default window, alert defaults.

Who may use it: the group's default permissions are Manage Server (Discord hides it from
everyone else), and every subcommand checks Manage Server again at run time (a server can
override the defaults per role or channel). Guild-only. Every read and write is keyed by the
interaction's guild, so one server never sees or changes another's settings; bad input is one
private line and nothing is saved.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.alerts.config import AlertConfig, ThresholdError, parse_thresholds
from bot.errors import UserFacingError
from bot.interactions import send
from bot.render.settings import settings_embed
from bot.services import MarketService
from bot.services.guild_prefs import Part, parse_shortlist
from cogs._alerts_checks import NotAllowed

if TYPE_CHECKING:
    from bot.client import TapewatchBot

SettingsWindow = Literal["1h", "4h", "24h", "7d"]
ResetPart = Literal["shortlist", "window", "alerts", "all"]


def _guild(interaction: discord.Interaction[Any]) -> int:
    if interaction.guild_id is None:  # guild_only: Discord never sends this
        raise app_commands.NoPrivateMessage()
    return interaction.guild_id


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class SettingsCog(
    commands.GroupCog,
    group_name="settings",
    group_description="This server's defaults: coin shortlist, default window, alert defaults",
):
    def __init__(self, market: MarketService, alerts: AlertConfig) -> None:
        self.market = market
        self.guilds = market.guilds
        self.alert_config = alerts

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        _guild(interaction)
        if not interaction.permissions.manage_guild:
            raise NotAllowed("Changing this server's settings needs the Manage Server permission.")
        return True

    @app_commands.command(name="show", description="This server's settings and the bot's defaults")
    async def show(self, interaction: discord.Interaction[Any]) -> None:
        prefs = await self.guilds.get(_guild(interaction))
        await send(interaction, embed=settings_embed(prefs), ephemeral=True)

    @app_commands.command(
        name="shortlist", description="The coins of the market answer's majors line, offered first"
    )
    @app_commands.describe(coins="Up to 8 tracked coins in the order to show them, e.g. btc eth sol")
    async def shortlist(
        self, interaction: discord.Interaction[Any], coins: app_commands.Range[str, 1, 200]
    ) -> None:
        guild_id = _guild(interaction)
        chosen = parse_shortlist(coins, self.market.registry, self.market.tracked)
        prefs = await self.guilds.set_shortlist(guild_id, chosen, interaction.user.id)
        await send(interaction, embed=settings_embed(prefs, "Shortlist saved"), ephemeral=True)

    @app_commands.command(
        name="window", description="The window /why, /liquidations and /movers use when none is given"
    )
    @app_commands.describe(value="The default window")
    async def window(self, interaction: discord.Interaction[Any], value: SettingsWindow) -> None:
        guild_id = _guild(interaction)
        prefs = await self.guilds.set_window(guild_id, value, interaction.user.id)
        await send(interaction, embed=settings_embed(prefs, "Default window saved"), ephemeral=True)

    @app_commands.command(name="alerts", description="The thresholds new /alerts subscriptions start from")
    @app_commands.describe(thresholds="e.g. move_24h=8% cooldown=2h liq_floor=1M (or default for the bot's)")
    async def alerts(
        self, interaction: discord.Interaction[Any], thresholds: app_commands.Range[str, 1, 300]
    ) -> None:
        guild_id = _guild(interaction)
        try:
            overrides = parse_thresholds(thresholds, self.alert_config)
        except ThresholdError as exc:
            raise UserFacingError(f"Nothing saved — thresholds: {exc}.") from None
        prefs = await self.guilds.set_alert_thresholds(guild_id, overrides, interaction.user.id)
        await send(interaction, embed=settings_embed(prefs, "Alert defaults saved"), ephemeral=True)

    @app_commands.command(name="reset", description="Back to the bot's defaults (one setting, or all)")
    @app_commands.describe(what="Which setting (default: all of them)")
    async def reset(self, interaction: discord.Interaction[Any], what: ResetPart = "all") -> None:
        guild_id = _guild(interaction)
        part: Part | None = None if what == "all" else what
        prefs = await self.guilds.reset(guild_id, part, interaction.user.id)
        title = "Every setting is back to the bot's default" if part is None else f"{what.capitalize()} reset"
        await send(interaction, embed=settings_embed(prefs, title), ephemeral=True)


async def setup(bot: TapewatchBot) -> None:
    s = bot.services
    await bot.add_cog(SettingsCog(s.market, s.alerts.config))
