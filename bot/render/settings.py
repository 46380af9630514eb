"""/settings: a server's own settings in words — what each one is, and the bot's default
where the server chose nothing."""

from __future__ import annotations

import discord

from bot.alerts.config import describe_thresholds
from bot.render import style
from bot.render.alerts import discord_time
from bot.views.settings import DEFAULT_WINDOW, MAX_SHORTLIST, GuildPrefs

DEFAULT = "the bot's default"


def shortlist_text(prefs: GuildPrefs) -> str:
    if prefs.shortlist:
        return f"{', '.join(prefs.shortlist)} — the market answer's majors line, offered first when typing a coin"
    return f"{', '.join(prefs.majors)} ({DEFAULT}); up to {MAX_SHORTLIST} coins"


def window_text(prefs: GuildPrefs) -> str:
    if prefs.window:
        return f"{prefs.window} — for /why, /liquidations and /movers when no window is given"
    return (
        f"{DEFAULT}: {DEFAULT_WINDOW} for /why and /movers, 1h · 24h · 7d · 30d side by side for "
        "/liquidations"
    )


def alerts_text(prefs: GuildPrefs) -> str:
    if prefs.alert_thresholds:
        return (
            f"{describe_thresholds(prefs.alert_thresholds)} — new /alerts subscriptions start from "
            "these (their own thresholds still override them)"
        )
    return f"{DEFAULT} (see /help command:alerts)"


def settings_embed(prefs: GuildPrefs, title: str = "Settings of this server") -> discord.Embed:
    embed = discord.Embed(title=title, colour=style.INFO)
    embed.add_field(name="Coin shortlist", value=shortlist_text(prefs), inline=False)
    embed.add_field(name="Default window", value=window_text(prefs), inline=False)
    embed.add_field(name="Alert defaults", value=alerts_text(prefs), inline=False)
    if prefs.updated_at is not None:
        who = f" by <@{prefs.updated_by}>" if prefs.updated_by else ""
        embed.description = f"Last changed {discord_time(prefs.updated_at)}{who}."
        embed.timestamp = prefs.updated_at
    embed.set_footer(text="Change with /settings shortlist · window · alerts; /settings reset to undo")
    return embed
