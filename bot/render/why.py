"""The /why answer in words: a headline naming the move and its main driver, a field per
driver with its figures, what would stabilise it, and what is not known.

Every number is formatted by :mod:`bot.fmt` straight from the finding that carries it, with
its window and source, so the prose never says more than the data.
"""

from __future__ import annotations

from datetime import timedelta

import discord

from bot.analysis.why import Driver, Unknown, WhyAnswer
from bot.fmt import age, pct
from bot.render import style
from bot.render.caveats import caveat_text, gap_text
from bot.render.drivers import (
    DRIVER_TITLES,
    breadth_text,
    coverage_text,
    driver_text,
    levels_text,
    liquidation_text,
    stabiliser_text,
    top_traders_text,
)
from bot.render.phrases import VENUES, regime_phrase
from bot.render.sentiment import sentiment_text


def _phrase(d: Driver, a: WhyAnswer) -> str:
    down = a.direction == "down"
    i = a.inputs
    if d.kind == "leverage" and i.regime is not None:
        return regime_phrase(i.regime)
    if d.kind == "breadth":
        return "a broad, market-wide decline" if down else "a broad, market-wide rally"
    if d.kind == "coin_specific":
        return f"a {i.coin}-specific {'drop' if down else 'rise'}"
    if d.kind == "macro":
        return "a macro risk-off move" if down else "a macro risk-on move"
    return d.kind


def _subject_move(a: WhyAnswer) -> str:
    i = a.inputs
    who = "Market: BTC" if i.coin is None else i.coin
    if i.move_pct is None:
        return f"{who}: no {i.window} price change stored yet"
    return f"{who} {pct(i.move_pct)} in {i.window}"


def headline(a: WhyAnswer) -> str:
    subject = _subject_move(a)
    if a.inputs.move_pct is None:
        return subject
    if a.quiet:
        return f"{subject}: a quiet market, no driver stands out"
    if not a.drivers:
        return f"{subject}: no driver passes its evidence threshold"
    first = _phrase(a.drivers[0], a)
    text = f"{subject}: {first}"
    if len(a.drivers) > 1:
        second = a.drivers[1]
        joiner = {"breadth": " in ", "macro": " amid ", "leverage": " with ", "coin_specific": " plus "}[
            second.kind
        ]
        if "," in first and a.drivers[0].kind == "leverage":  # after a clause: set it apart
            joiner = "," + joiner
        text += joiner + _phrase(second, a)
    return text[:256]


def _clip(text: str, limit: int = 1024) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def why_embed(a: WhyAnswer) -> discord.Embed:
    i = a.inputs
    colour = style.FLAT if a.quiet else style.direction_colour(i.move_pct)
    embed = discord.Embed(title=headline(a), colour=colour)
    for rank, d in enumerate(a.drivers, 1):
        text = driver_text(d, a)
        if text:
            embed.add_field(name=f"{rank}. {DRIVER_TITLES[d.kind]}", value=_clip(text), inline=False)
    if i.coin is None and "breadth" not in {d.kind for d in a.drivers} and i.breadth is not None:
        # the market answer always shows the market, as context when it is not the driver
        gap = i.breadth.insufficient
        text = breadth_text(i.breadth, a) if gap is None else f"Breadth: {caveat_text(gap)}."
        embed.add_field(name="Market", value=_clip(text), inline=False)
    context = []
    if a.quiet:
        if i.coin is not None and i.breadth is not None and i.breadth.ok:
            context.append(breadth_text(i.breadth, a))
        if i.liquidations is not None:
            context.append(liquidation_text(i.liquidations, i.liq_totals))
    if i.sentiment is not None:  # context, never a driver; absent when not collected
        context.append(sentiment_text(i.sentiment))
    if context:
        embed.add_field(name="Context", value=_clip("\n".join(context)), inline=False)
    if "leverage" not in {d.kind for d in a.drivers} and not a.quiet and i.liquidations is not None:
        embed.add_field(
            name="Leverage (no signal)",
            value=_clip(
                liquidation_text(i.liquidations, i.liq_totals)
                + " "
                + coverage_text(i.liquidations)
                + (f"\n{top_traders_text(i.top_traders)}" if i.top_traders is not None else "")
            ),
            inline=False,
        )
    levels = levels_text(a)
    if levels:
        embed.add_field(name="Levels", value=_clip(levels), inline=False)
    stab = [t for t in (stabiliser_text(s, a) for s in a.stabilisers) if t]
    if stab:
        title = "What would stabilise it" if a.direction == "down" else "What would extend or reverse it"
        embed.add_field(name=title, value=_clip("\n".join(f"• {t}" for t in stab)), inline=False)
    if a.unknowns:
        embed.add_field(
            name=f"{style.STALE} Not known",
            value=_clip("\n".join(f"• {unknown_text(u, a)}" for u in a.unknowns)),
            inline=False,
        )
    embed.set_footer(text=footer(a))
    embed.timestamp = a.inputs.move_as_of or a.inputs.now
    return embed


UNKNOWN_FINDING = {
    "liquidations": "liquidations",
    "open_interest": "open interest",
    "funding": "funding",
    "beta": "beta to BTC",
    "macro": "macro",
    "levels": "levels",
}


def unknown_text(u: Unknown, a: WhyAnswer) -> str:
    """One line of the answer's "Not known" field."""
    if u.kind == "stale_prices":
        return f"prices are {age(u.age or timedelta(0))} old (stale): the last good values are shown"
    if u.kind == "streams_down":
        return "no liquidation stream is connected: liquidation figures end at the last connection"
    if u.kind == "no_move":
        return f"no price change stored for {a.inputs.coin or 'the market'} over {a.inputs.window}"
    return f"{UNKNOWN_FINDING[u.finding or 'levels']}: {gap_text(u.reason, 'unknown')}"


def footer(a: WhyAnswer) -> str:
    i = a.inputs
    parts = []
    if i.move_as_of is not None:
        parts.append(f"prices {VENUES.get(i.move_source, i.move_source)}, {age(i.now - i.move_as_of)} old")
    parts.append(f"window {i.window}")
    return " · ".join(parts)
