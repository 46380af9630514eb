"""What several cogs share: coin autocomplete choices from the tracked list."""

from __future__ import annotations

from typing import Any

import discord
from discord import app_commands

from bot.services import MarketService


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
