"""What several cogs share: coin autocomplete choices from the tracked list."""

from __future__ import annotations

from discord import app_commands

from bot.services import MarketService


def coin_choices(market: MarketService, current: str) -> list[app_commands.Choice[str]]:
    """Tracked coins matching what the user typed, as Discord autocomplete choices."""
    return [
        app_commands.Choice(name=f"{c.symbol} — {c.name}", value=c.symbol)
        for c in market.autocomplete(current)
    ]
