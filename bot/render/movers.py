"""/movers in words: who led the move each way, with each mover's liquidations and open-interest
change beside its move, and how much of the market moved each way."""

from __future__ import annotations

import discord

from bot.analysis.findings import Breadth
from bot.fmt import age, money, pct, price
from bot.render import style
from bot.render.phrases import venues
from bot.views.movers import Mover, MoversView, TopMove


def mover_line(m: Mover) -> str:
    """``SOL −9.8% $142.30 · liq $84M (92% longs) · OI −12.4%``"""
    parts = [f"**{m.coin}** {pct(m.move_pct)} {price(m.ticker.price)}"]
    liq = m.liquidations
    if liq.total_usd:
        side = ""
        if liq.long_share is not None:
            longs = liq.long_share >= 0.5
            side = (
                f" ({(liq.long_share if longs else 1 - liq.long_share):.0%} {'longs' if longs else 'shorts'})"
            )
        parts.append(f"liq {money(liq.total_usd)}{side}")
    elif liq.ok:
        parts.append("no liquidations")
    if liq.baseline_multiple is not None and liq.total_usd:
        parts[-1] += f", {liq.baseline_multiple:.1f}× usual"
    if m.oi.change_pct is not None:
        parts.append(f"OI {pct(m.oi.change_pct)}")
    return " · ".join(parts)


def share_line(b: Breadth, what: str) -> str:
    """``18 of 20 tracked coins fell (90%), 2 rose, 0 flat; median −6.2%``"""
    if not b.n:
        return f"no {what} with a move yet"
    text = f"{b.n_down} of {b.n} {what} fell ({b.n_down / b.n:.0%}), {b.n_up} rose ({b.n_up / b.n:.0%})"
    if b.n_flat:
        text += f", {b.n_flat} flat"
    if b.median_pct is not None:
        text += f"; median {pct(b.median_pct)}"
    if b.cap_share_down is not None:
        text += f"; {b.cap_share_down:.0%} of their market cap fell"
    return text


def _top_line(moves: tuple[TopMove, ...]) -> str:
    return ", ".join(f"{m.symbol} {pct(m.change_pct)}" for m in moves)


def movers_embed(view: MoversView) -> discord.Embed:
    b = view.tracked
    lead = view.losers[0] if (b.median_pct or 0) < 0 and view.losers else None
    lead = lead or (view.gainers[0] if view.gainers else None)
    title = f"Top movers · {view.window}"
    if lead is not None:
        title += f": {lead.coin} leads with {pct(lead.move_pct)}"
    embed = discord.Embed(
        title=title,
        description=share_line(b, "tracked coins"),
        colour=style.WARN if view.stale else style.direction_colour(b.median_pct),
    )
    embed.add_field(
        name=f"{style.ARROW_DOWN} Down most",
        value="\n".join(mover_line(m) for m in view.losers) or f"no tracked coin fell over {view.window}",
        inline=False,
    )
    embed.add_field(
        name=f"{style.ARROW_UP} Up most",
        value="\n".join(mover_line(m) for m in view.gainers) or f"no tracked coin rose over {view.window}",
        inline=False,
    )
    if view.top100 is not None:
        lines = [share_line(view.top100, "top-100 coins")]
        if view.top100_losers:
            lines.append(f"untracked down most: {_top_line(view.top100_losers)}")
        if view.top100_gainers:
            lines.append(f"untracked up most: {_top_line(view.top100_gainers)}")
        at = f", {age(view.now - view.top100_as_of)} old" if view.top100_as_of else ""
        embed.add_field(
            name=f"Top 100 by market cap (CoinGecko, 24h{at})", value="\n".join(lines), inline=False
        )
    elif view.window != "24h":
        embed.add_field(
            name="Top 100 by market cap",
            value="the stored top-100 snapshot carries 24h changes only: ask `/movers window:24h`",
            inline=False,
        )
    if view.stale and view.as_of is not None:
        embed.add_field(
            name=f"{style.STALE} Stale data",
            value=f"Prices are {age(view.now - view.as_of)} old; the last good values are shown.",
            inline=False,
        )
    footer = (
        f"Moves: {venues(view.sources)} · liquidations: public streams, a lower bound · OI: venues summed"
    )
    embed.timestamp = view.as_of or view.now
    embed.set_footer(text=footer)
    return embed
