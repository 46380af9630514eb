"""The outbound side of an interaction: one helper that knows whether the interaction was
already answered or deferred, and never lets a message ping anyone."""

from __future__ import annotations

from typing import Any

import discord

NO_MENTIONS = discord.AllowedMentions.none()


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
    label = getattr(interaction.client, "data_label", None)
    if label:
        for e in [embed, *(embeds or [])]:
            if e is not None:
                footer = e.footer.text
                e.set_footer(text=f"🧪 {label}" + (f" · {footer}" if footer else ""))
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
    if interaction.response.is_done():
        await interaction.followup.send(**kwargs)
    else:
        await interaction.response.send_message(**kwargs)
