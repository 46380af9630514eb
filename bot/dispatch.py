"""Posting alerts to channels (the posts :mod:`bot.alerts` emits, formatted by
:func:`bot.render.alerts.present`), and the "Why?" button they carry.

Each channel message is one ``POST /channels/{id}/messages`` through
``bot.get_partial_messageable(id).send(...)`` (no cache needed). discord.py keeps to Discord's
per-route and global rate limits (each channel is its own bucket and 429s are waited out); a
semaphore bounds how many posts are in flight, and every post runs in its own task with a
timeout, so one slow or failing channel never holds the others up. A channel that is gone
(404) or forbidden (403) is reported so its subscription can be disabled with the reason.

Mentions: ``allowed_mentions`` is empty on every message; only a role the server's admin chose
for the subscription may be pinged, and then only that role.

The button's ``custom_id`` is ``tapewatch:why:<COIN>[:<window>]``. It is a
:class:`discord.ui.DynamicItem` registered with ``bot.add_dynamic_items`` at start, so a click
on any alert ever posted is answered after a restart too, whatever the coin (a persistent
``View`` registered with ``add_view`` would need one fixed button per coin, at most 25). Its
private answer carries the reply controls of ``/why`` (:mod:`bot.controls`), the clicker's own.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import secrets
from collections.abc import Sequence
from typing import Any

import discord

from bot.alerts.messages import Delivery, Post, Queued
from bot.controls import Shown, answer
from bot.errors import UserFacingError
from bot.interactions import NO_MENTIONS
from bot.render.alerts import Outgoing, present
from bot.replies import reply_error

RATE_LIMITED_PAUSE_S = 0.5  # after discord.py gave up on a rate-limited post, before trying it again
log = logging.getLogger(__name__)

WHY_TEMPLATE = r"tapewatch:why:(?P<coin>[A-Z0-9]{1,20})(?::(?P<window>1h|4h|24h|7d))?"


class WhyButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=WHY_TEMPLATE):
    """Runs /why for the alert's coin; the answer goes to whoever clicked, privately."""

    def __init__(self, coin: str, window: str = "24h") -> None:
        self.coin = coin
        self.window = window
        super().__init__(
            discord.ui.Button(
                label=f"Why {coin}?",
                style=discord.ButtonStyle.secondary,
                emoji="🔎",
                custom_id=f"tapewatch:why:{coin}:{window}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> WhyButton:
        return cls(match["coin"], match["window"] or "24h")

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        services = getattr(interaction.client, "services", None)
        try:
            if services is None:
                raise UserFacingError("This bot cannot answer /why right now.")
            coin = services.market.resolve(self.coin)
            # their own private /why, with its controls (the window, the chart, the cross-links)
            shown = Shown("why", coin.symbol, self.window, interaction.user.id)
            await answer(interaction, services, shown, ephemeral=True)
        except Exception as exc:
            await reply_error(interaction, exc, what=f"why button {self.coin}:{self.window}")


def why_view(buttons: Sequence[tuple[str, str]]) -> discord.ui.View:
    """The buttons of one message. The view is stopped before it is sent: clicks are answered
    by :class:`WhyButton`'s registration, so discord.py need not keep every message's view."""
    view = discord.ui.View(timeout=None)
    for coin, window in buttons[:25]:
        view.add_item(WhyButton(coin, window))
    view.stop()
    return view


def mentions_for(role_id: int | None) -> discord.AllowedMentions:
    if role_id is None:
        return NO_MENTIONS
    return discord.AllowedMentions(
        everyone=False, users=False, roles=[discord.Object(id=role_id)], replied_user=False
    )


def _label(embeds: Sequence[discord.Embed], label: str | None) -> list[discord.Embed]:
    out = []
    for e in embeds:
        e = e.copy()
        if label:
            footer = e.footer.text
            e.set_footer(text=f"🧪 {label}" + (f" · {footer}" if footer else ""))
        out.append(e)
    return out


class Dispatcher:
    """Sends channel messages through a logged-in client, at most ``concurrency`` at once."""

    def __init__(self, client: discord.Client, *, concurrency: int = 8, timeout: float = 30.0) -> None:
        self.client = client
        self.timeout = timeout
        self.concurrency = concurrency
        self._slots = asyncio.Semaphore(concurrency)

    @property
    def label(self) -> str | None:
        label = getattr(self.client, "data_label", None)
        return label if isinstance(label, str) else None

    async def deliver(self, posts: Sequence[Post]) -> list[Delivery]:
        """Format and post every post; each result says what happened (this never raises for
        a channel's failure, only on cancellation)."""
        return list(await asyncio.gather(*(self._post(present(p)) for p in posts)))

    def encode(self, post: Post) -> str:
        """The formatted message as JSON: Discord's own embed objects, the buttons' (coin,
        window) pairs, the role to ping; any process posts it later (:meth:`send`)."""
        m = present(post)
        return json.dumps(
            {
                "content": m.content,
                "embeds": [e.to_dict() for e in m.embeds],
                "buttons": [list(b) for b in m.buttons],
                "role_id": m.role_id,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )

    async def send(self, messages: Sequence[Queued]) -> list[Delivery]:
        return list(await asyncio.gather(*(self._post(_decoded(q)) for q in messages)))

    def shards(self) -> tuple[int, list[int]] | None:
        count = self.client.shard_count
        ids = getattr(self.client, "shard_ids", None)
        if not count or count <= 1 or not ids:
            return None
        return count, sorted(ids)

    async def _post(self, m: Outgoing) -> Delivery:
        async with self._slots:
            channel = self.client.get_partial_messageable(m.channel_id, guild_id=m.guild_id)
            content = m.content
            if m.role_id is not None:
                content = f"<@&{m.role_id}>" + (f" {content}" if content else "")
            try:
                async with asyncio.timeout(self.timeout):
                    message = await _send(
                        channel,
                        content=content,
                        embeds=_label(m.embeds, self.label),
                        view=why_view(m.buttons) if m.buttons else discord.utils.MISSING,
                        allowed_mentions=mentions_for(m.role_id),
                        nonce=m.nonce if m.nonce is not None else secrets.randbits(64),
                    )
            except discord.NotFound as exc:
                return Delivery(m.guild_id, m.channel_id, "gone", _reason("channel not found", exc))
            except discord.Forbidden as exc:
                return Delivery(m.guild_id, m.channel_id, "forbidden", _reason("not allowed to post", exc))
            except discord.HTTPException as exc:
                log.warning("alert to channel %s failed: %s", m.channel_id, exc)
                return Delivery(m.guild_id, m.channel_id, "failed", _reason("Discord error", exc))
            except TimeoutError:
                log.warning("alert to channel %s timed out after %ss", m.channel_id, self.timeout)
                return Delivery(m.guild_id, m.channel_id, "failed", f"timed out after {self.timeout:g} s")
            except Exception as exc:
                log.exception("alert to channel %s failed", m.channel_id)
                return Delivery(m.guild_id, m.channel_id, "failed", f"{type(exc).__name__}: {exc}"[:200])
            return Delivery(m.guild_id, m.channel_id, "sent", message_id=message.id)


async def _send(channel: discord.PartialMessageable, **kwargs: Any) -> discord.Message:
    """``channel.send``, waiting out rate limits for as long as the caller's timeout allows.
    discord.py waits out a 429 five times, then raises; a fan-out under Discord's global limit
    (50 requests/s, shared by every shard of the bot) meets more than five in a row, and a 429
    means nothing was posted, so trying again cannot double a message."""
    while True:
        try:
            return await channel.send(**kwargs)
        except discord.HTTPException as exc:
            if exc.status != 429:
                raise
            log.debug("alert to channel %s still rate limited; trying again", channel.id)
            await asyncio.sleep(RATE_LIMITED_PAUSE_S)


def _decoded(q: Queued) -> Outgoing:
    body = json.loads(q.body)
    return Outgoing(
        q.guild_id,
        q.channel_id,
        [discord.Embed.from_dict(e) for e in body["embeds"]],
        [(coin, window) for coin, window in body["buttons"]],
        content=body["content"],
        role_id=body["role_id"],
        nonce=q.nonce,
    )


def _reason(what: str, exc: discord.HTTPException) -> str:
    text = exc.text or exc.response.reason or ""
    return f"{what} ({exc.status}{' ' + text if text else ''})"
