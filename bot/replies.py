"""One error path for everything a user clicks or types: slash commands (the tree's
``on_error``) and components (the alerts' "Why?" button) both end here.

- a :class:`~bot.errors.UserFacingError` is shown to the user, privately, as written;
- a failed check says what is missing;
- an interaction that expired before it was answered is one log line (no traceback: there is
  no one left to answer);
- anything else: a short generic reply, the traceback to the log with what failed and where.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import discord
from discord import app_commands

from bot.errors import UserFacingError
from bot.interactions import GONE, send
from bot.render.embeds import error_embed
from bot.render.refusals import refusal_text

log = logging.getLogger(__name__)

GENERIC = "Something went wrong on our side; it has been logged. Please try again."


def check_message(error: app_commands.CheckFailure) -> str:
    if isinstance(error, app_commands.MissingPermissions):
        return (
            "You need the "
            + " or ".join(p.replace("_", " ").title() for p in error.missing_permissions)
            + " permission for this."
        )
    if isinstance(error, app_commands.NoPrivateMessage):
        return "This command only works inside a server."
    return "You can't use this command here."


async def reply_error(
    interaction: discord.Interaction[Any], error: BaseException, *, what: str
) -> Literal["expired", "refused", "failed"]:
    """Answer ``interaction`` for ``error`` (already unwrapped from discord.py's wrappers);
    ``what`` names the command or component in the log, e.g. ``/price`` or ``why button BTC:1h``.
    Returns what it was: the offline ``ask`` exits non-zero on a refusal or a failure."""
    if isinstance(error, discord.NotFound) and error.code in GONE:
        log.warning("%s: the interaction expired before it was answered", what)
        return "expired"
    if isinstance(error, UserFacingError):
        await send(interaction, embed=error_embed(refusal_text(error)), ephemeral=True)
        return "refused"
    if isinstance(error, app_commands.CheckFailure):
        await send(interaction, embed=error_embed(check_message(error)), ephemeral=True)
        return "refused"
    log.error("%s failed (guild %s)", what, interaction.guild_id, exc_info=error)
    await send(interaction, embed=error_embed(GENERIC), ephemeral=True)
    return "failed"
