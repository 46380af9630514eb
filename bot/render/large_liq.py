"""Large single liquidations in words: "$12.0M BTC long liquidated on Binance at $67,420",
the largest of a batch first, the rest counted and summed, each coin's bar and what it stood
on (a share of open interest, or the fixed size when the open interest is not known)."""

from __future__ import annotations

import discord

from bot.alerts.messages import LargeBar, LargeLiqPost
from bot.fmt import money, price, stamp, utc
from bot.models import Liquidation
from bot.render import style

VENUE_NAMES = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX"}
LOWER_BOUND = "public streams, a lower bound"


def event_text(e: Liquidation) -> str:
    """``$12.0M BTC long liquidated on Binance at $67,420``."""
    venue = VENUE_NAMES.get(e.venue, e.venue)
    return f"{money(e.usd)} {e.coin} {e.side} liquidated on {venue} at {price(e.price)}"


def bar_text(b: LargeBar) -> str:
    if b.basis == "open_interest" and b.oi_usd is not None and b.oi_pct is not None:
        floor = " (the floor)" if b.min_usd is not None and b.usd <= b.min_usd else ""
        return f"{b.coin} ≥ {money(b.usd)}{floor}: {b.oi_pct:g}% of its open interest of {money(b.oi_usd)}"
    return f"{b.coin} ≥ {money(b.usd)}: a fixed size, its open interest not known"


def title(post: LargeLiqPost) -> str:
    if post.count == 1 and post.events:
        return f"💥 {event_text(post.events[0])}"
    return f"💥 {post.count} large liquidations, {money(post.total_usd)} in all"


def large_liq_embed(post: LargeLiqPost) -> discord.Embed:
    lines = [f"• **{event_text(e)}** · {stamp(e.ts, 'T')}" for e in post.events]
    rest = post.count - len(post.events)
    if rest > 0:
        lines.append(f"…and {rest} more, {money(post.total_usd)} in all")
    longs = sum(1 for e in post.events if e.side == "long")
    colour = style.DOWN if longs * 2 >= len(post.events) else style.UP
    embed = discord.Embed(title=title(post)[:256], description="\n".join(lines), colour=colour)
    embed.add_field(
        name="Large means",
        value="\n".join(bar_text(b) for b in post.bars.values())[:1024],
        inline=False,
    )
    embed.set_footer(text=f"large liquidation · {LOWER_BOUND} · data as of {utc(post.at)}")
    return embed


def large_liq_buttons(post: LargeLiqPost) -> list[tuple[str, str]]:
    """A "Why?" button per coin, the largest event's first (the 1h /why)."""
    return [(c, "1h") for c in dict.fromkeys(e.coin for e in post.events)]
