"""What several cogs share: coin autocomplete choices from the tracked list, and where the
read-only commands may be used."""

from __future__ import annotations

from typing import TypeVar

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


def coin_choices(market: MarketService, current: str) -> list[app_commands.Choice[str]]:
    """Tracked coins matching what the user typed, as Discord autocomplete choices."""
    return [
        app_commands.Choice(name=f"{c.symbol} — {c.name}", value=c.symbol)
        for c in market.autocomplete(current)
    ]
