"""/watch in words: confirmations, the list (with a paused state), and the DM a crossing sends."""

from __future__ import annotations

import discord

from bot.fmt import pct, price, utc
from bot.models import Watch
from bot.render import style
from bot.render.why import headline
from bot.views.watches import Added, Crossing, WatchList

VERB = {"above": "rises to or above", "below": "falls to or below"}
CROSSED = {"above": "is above", "below": "is below"}


def watch_line(w: Watch, now_price: float | None) -> str:
    text = f"`#{w.id}` **{w.coin}** {w.direction} {price(w.price)}"
    if now_price is not None:
        text += f" (now {price(now_price)}, {pct((w.price / now_price - 1) * 100)} away)"
    if not w.armed:
        text += " · sent, waiting for the price to move back"
    if w.note:
        text += f" · “{w.note}”"
    return text


def added_embed(a: Added) -> discord.Embed:
    w = a.watch
    lines = [f"I'll DM you when {w.coin} {VERB[w.direction]} {price(w.price)} (now {price(a.price)})."]
    if a.met_already:
        lines.append(
            f"It {CROSSED[w.direction]} that already: the next crossing is sent, once it moves back."
        )
    if a.resumed:
        lines.append("Your paused watches are active again.")
    return discord.Embed(title=f"Watch #{w.id} added", description="\n".join(lines), colour=style.INFO)


def list_embed(view: WatchList) -> discord.Embed:
    lines = [watch_line(w, view.prices.get(w.coin)) for w in view.watches]
    embed = discord.Embed(
        title=f"Your watches ({len(view.watches)} of {view.limit})",
        description="\n".join(lines) or "None yet: `/watch add coin:BTC below:60000`",
        colour=style.WARN if view.pause else style.INFO,
    )
    if view.pause is not None:
        embed.add_field(
            name=f"{style.STALE} Paused",
            value=(
                f"since {utc(view.pause.since)}: {view.pause.reason}. Allow direct messages from this "
                "server's members (or from apps), then add a watch to resume."
            ),
            inline=False,
        )
    return embed


def crossing_embed(c: Crossing) -> discord.Embed:
    w = c.watch
    up = w.direction == "above"
    embed = discord.Embed(
        title=f"{w.coin} {CROSSED[w.direction]} {price(w.price)}: now {price(c.price)}",
        description=f"“{w.note}”" if w.note else None,
        colour=style.UP if up else style.DOWN,
    )
    if c.why is not None:
        embed.add_field(name="Why (24h)", value=headline(c.why), inline=False)
    embed.set_footer(text=f"Watch #{w.id} · /watch list · {utc(c.at)}")
    return embed
