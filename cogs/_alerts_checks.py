"""Who may use /alerts and where the bot may post: the checks every /alerts subcommand runs,
and the channel option (text and announcement channels only). See :mod:`cogs.alerts` for the
rules they implement."""

from __future__ import annotations

from typing import Any, cast

import discord
from discord import app_commands
from discord.app_commands import AppCommandChannel, AppCommandThread

from bot.errors import UserFacingError

POSTING = ("view_channel", "send_messages", "embed_links")


class NotAllowed(app_commands.CheckFailure, UserFacingError):
    """The member may not manage alerts here (shown to them as written)."""


def _pretty(permission: str) -> str:
    return permission.replace("_", " ").title()


def _resolved_channel(interaction: discord.Interaction[Any], channel_id: int) -> dict[str, Any]:
    data = cast(dict[str, Any], interaction.data or {})
    channels = (data.get("resolved") or {}).get("channels") or {}
    found = channels.get(str(channel_id))
    return dict(found) if isinstance(found, dict) else {}


def _cached_guild(interaction: discord.Interaction[Any]) -> discord.Guild | None:
    """The guild from the gateway cache (``interaction.guild`` may be a placeholder discord.py
    makes up when the guild is not cached: no channels, no roles)."""
    if interaction.guild_id is None:
        return None
    guild = interaction.client.get_guild(interaction.guild_id)
    return guild if guild is not None and not guild.unavailable else None


def authorise(interaction: discord.Interaction[Any]) -> None:
    """Manage Server, or Manage Channels in the channel concerned (the ``channel`` option, else
    the channel the command was used in)."""
    if interaction.guild_id is None:
        raise app_commands.NoPrivateMessage()
    if interaction.permissions.manage_guild:
        return
    target = getattr(interaction.namespace, "channel", None)
    if isinstance(target, AppCommandChannel | AppCommandThread):
        allowed, where = target.permissions.manage_channels, f"<#{target.id}>"
    else:
        allowed, where = interaction.permissions.manage_channels, "this channel"
    if not allowed:
        raise NotAllowed(
            f"Managing this server's alerts needs the Manage Server permission, or Manage Channels in {where}."
        )


def check_in_guild(interaction: discord.Interaction[Any], channel: AppCommandChannel) -> None:
    """The channel belongs to the server the command was used in."""
    raw_guild = _resolved_channel(interaction, channel.id).get("guild_id")
    if raw_guild is not None and int(raw_guild) != interaction.guild_id:
        raise UserFacingError("That channel is not in this server.")
    guild = _cached_guild(interaction)
    if guild is not None and guild.get_channel_or_thread(channel.id) is None:
        raise UserFacingError("That channel is not in this server.")


def bot_permissions(interaction: discord.Interaction[Any], channel_id: int) -> discord.Permissions | None:
    """The bot's permissions in a channel of this server, or None when they cannot be known."""
    if channel_id == interaction.channel_id:
        return interaction.app_permissions
    guild = _cached_guild(interaction)
    if guild is not None and guild.me is not None:
        cached = guild.get_channel_or_thread(channel_id)
        if cached is not None:
            return cached.permissions_for(guild.me)
    raw = _resolved_channel(interaction, channel_id).get("app_permissions")
    if raw is not None:
        return discord.Permissions(int(raw))
    return None


def check_can_post(interaction: discord.Interaction[Any], channel_id: int) -> discord.Permissions:
    perms = bot_permissions(interaction, channel_id)
    if perms is None:
        raise UserFacingError(
            f"I can't check my permissions in <#{channel_id}> from here: run this command inside that channel."
        )
    missing = [_pretty(p) for p in POSTING if not getattr(perms, p)]
    if missing:
        raise UserFacingError(
            f"I can't post alerts in <#{channel_id}>: I'm missing {', '.join(missing)} there. "
            "Give my role those permissions in the channel's settings, then try again."
        )
    return perms


class TextChannelArg(app_commands.Transformer):
    """A text or announcement channel of this server (Discord offers only those), usable
    without a gateway cache."""

    @property
    def type(self) -> discord.AppCommandOptionType:
        return discord.AppCommandOptionType.channel

    @property
    def channel_types(self) -> list[discord.ChannelType]:
        return [discord.ChannelType.text, discord.ChannelType.news]

    async def transform(self, interaction: discord.Interaction[Any], value: Any, /) -> AppCommandChannel:
        if isinstance(value, AppCommandChannel) and value.type in (
            discord.ChannelType.text,
            discord.ChannelType.news,
        ):
            return value
        raise UserFacingError("Pick a text or announcement channel.")


Channel = app_commands.Transform[AppCommandChannel, TextChannelArg]
