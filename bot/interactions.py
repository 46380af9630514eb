"""The outbound side of an interaction: one helper that knows whether the interaction was
already answered or deferred, and never lets a message ping anyone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable
from datetime import timedelta
from typing import Any, TypeVar

import discord

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
T = TypeVar("T")

# Discord fails an interaction not acknowledged within 3 s of its creation. An answer ready
# within GRACE is sent as the reply itself; anything slower is deferred first ("thinking…")
# and followed up, and an interaction that is already old is deferred at once.
GRACE = 0.25
DEFER_AT_ONCE_AFTER = timedelta(seconds=1)
# Discord's codes for an interaction (or its follow-up token) that can no longer be answered.
GONE = {10062, 10015}
EXPIRED_AFTER = timedelta(seconds=3)


def expired(interaction: discord.Interaction[Any]) -> bool:
    """Past Discord's deadline on arrival: Discord has already told the user it failed, and any
    reply would be refused, so it is dropped without a request."""
    if discord.utils.utcnow() - interaction.created_at > EXPIRED_AFTER:
        log.warning("dropped an interaction that was past Discord's 3 s deadline on arrival")
        return True
    return False


async def acknowledge(
    interaction: discord.Interaction[Any], *, ephemeral: bool = False, update: bool = False
) -> None:
    """Defer unless the interaction was already answered: the user sees "thinking…", or with
    ``update`` (a button press that will edit its own message) nothing until the edit."""
    if not interaction.response.is_done():
        if update:
            await interaction.response.defer()  # a component's deferred update (type 6)
        else:
            await interaction.response.defer(thinking=True, ephemeral=ephemeral)


async def within_deadline(
    interaction: discord.Interaction[Any],
    work: Awaitable[T],
    *,
    ephemeral: bool = False,
    update: bool = False,
) -> T:
    """Await ``work`` (an answer), deferring the interaction first unless the answer is ready
    within :data:`GRACE`: cheap and cached answers reply directly, the rest never miss Discord's
    3 s. A failure that comes before the deferral is still answered privately. ``update`` is
    for a button press that edits its own message in place (see :func:`acknowledge`)."""
    task = asyncio.ensure_future(work)
    age = discord.utils.utcnow() - interaction.created_at
    if age < DEFER_AT_ONCE_AFTER:
        await asyncio.wait({task}, timeout=GRACE)
    if not task.done():
        try:
            await acknowledge(interaction, ephemeral=ephemeral, update=update)
        except BaseException:
            task.cancel()
            raise
    return await task


async def send(
    interaction: discord.Interaction[Any],
    *,
    content: str | None = None,
    embed: discord.Embed | None = None,
    embeds: list[discord.Embed] | None = None,
    file: discord.File | None = None,
    view: discord.ui.View | None = None,
    ephemeral: bool = False,
) -> None:
    """Reply once, or follow up if the interaction was already answered or deferred. When the
    bot answers from a scenario instead of the live market, every embed says so."""
    _label([embed, *(embeds or [])], interaction)
    kwargs: dict[str, Any] = {"ephemeral": ephemeral, "allowed_mentions": NO_MENTIONS}
    if content is not None:
        kwargs["content"] = content
    if embed is not None:
        kwargs["embed"] = embed
    if embeds is not None:
        kwargs["embeds"] = embeds
    if file is not None:
        kwargs["file"] = file
    if view is not None:
        kwargs["view"] = view
    try:
        if interaction.response.is_done():
            await interaction.followup.send(**kwargs)
        else:
            await interaction.response.send_message(**kwargs)
    except discord.NotFound as exc:
        _gone(interaction, exc)


def _label(embeds: list[discord.Embed | None], interaction: discord.Interaction[Any]) -> None:
    """When the bot answers from a scenario instead of the live market, every embed says so."""
    label = getattr(interaction.client, "data_label", None)
    if label:
        for e in embeds:
            if e is not None:
                footer = e.footer.text
                e.set_footer(text=f"🧪 {label}" + (f" · {footer}" if footer else ""))


def _gone(interaction: discord.Interaction[Any], exc: discord.NotFound) -> None:
    if exc.code not in GONE:
        raise exc
    # Too late to answer: one line, never a traceback (the user saw Discord's own message).
    command = interaction.command.qualified_name if interaction.command else "component"
    log.warning("interaction for %s expired before it was answered (Discord code %s)", command, exc.code)


async def edit_in_place(
    interaction: discord.Interaction[Any],
    *,
    embed: discord.Embed,
    file: discord.File | None = None,
    view: discord.ui.View | None = None,
) -> None:
    """Replace the message a button is on (its author pressed it): through the interaction
    (an update callback, or an edit of ``@original`` after a deferred update), so it works where
    the bot is only user-installed and cannot reach the channel. The old attachments go."""
    _label([embed], interaction)
    kwargs: dict[str, Any] = {
        "embed": embed,
        "attachments": [file] if file is not None else [],
        "view": view,
        "allowed_mentions": NO_MENTIONS,
    }
    try:
        if interaction.response.is_done():
            await interaction.edit_original_response(**kwargs)
        else:
            await interaction.response.edit_message(**kwargs)
    except discord.NotFound as exc:
        _gone(interaction, exc)


async def delete_in_place(interaction: discord.Interaction[Any]) -> None:
    """Delete the message a button is on, through the interaction's token (no channel access
    needed)."""
    try:
        await acknowledge(interaction, update=True)
        await interaction.delete_original_response()
    except discord.NotFound as exc:
        _gone(interaction, exc)
