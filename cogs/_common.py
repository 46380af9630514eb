"""What several cogs share: coin autocomplete choices from the tracked list, and where the
read-only commands may be used."""

from __future__ import annotations

from typing import Any, TypeVar

import discord
from discord import app_commands

from bot.services import MarketService

T = TypeVar("T")


def everywhere(command: T) -> T:
    """A read-only command (an answer about the market, nothing stored for a server) works
    wherever the app is: installed to a server or to a user, in servers, in DMs with the bot
    and in group DMs. Everything else (alerts, settings) keeps the tree's default: installed to
    a server, used in it."""
    contexts = app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)
    return app_commands.allowed_installs(guilds=True, users=True)(contexts(command))


async def coin_choices(
    market: MarketService, current: str, interaction: discord.Interaction[Any] | None = None
) -> list[app_commands.Choice[str]]:
    """Tracked coins matching what the user typed, as Discord autocomplete choices; in a
    server, its shortlist (``/settings shortlist``) first."""
    guild_id = interaction.guild_id if interaction is not None else None
    if guild_id is not None:
        await market.guilds.get(guild_id)  # fresh enough: a memory read after the first time
    return [
        app_commands.Choice(name=f"{c.symbol} — {c.name}", value=c.symbol)
        for c in market.autocomplete(current, guild_id=guild_id)
    ]
