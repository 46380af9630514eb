"""Pure embed builders: data in, :class:`discord.Embed` out (no I/O, unit-testable)."""

from __future__ import annotations

from datetime import datetime

import discord

from bot.fmt import age, money, pct, price, utc
from bot.models import StreamConnection, Ticker
from bot.render import style
from bot.services import PriceView, SourceStatus

_VENUE_NAMES = {
    "binance": "Binance",
    "bybit": "Bybit",
    "okx": "OKX",
    "coingecko": "CoinGecko",
    "yahoo": "Yahoo",
}


def venue_label(t: Ticker) -> str:
    name = _VENUE_NAMES.get(t.venue, t.venue)
    return f"{name} {t.market}" if t.venue != "coingecko" else name


def freshness(view_age_text: str, stale: bool) -> str:
    return f"{style.STALE} stale: data is {view_age_text} old" if stale else f"data {view_age_text} old"


def price_embed(view: PriceView) -> discord.Embed:
    t = view.primary
    change = t.change_24h_pct
    title = f"{view.coin} {price(t.price)}"
    if change is not None:
        title += f"  {style.arrow(change)} {pct(change)} (24h)"
    embed = discord.Embed(
        title=title,
        description=f"{view.name} · {venue_label(t)}",
        colour=style.WARN if view.stale else style.direction_colour(change),
    )
    if t.high_24h is not None and t.low_24h is not None:
        embed.add_field(name="24h high / low", value=f"{price(t.high_24h)} / {price(t.low_24h)}", inline=True)
    if t.quote_volume_24h is not None:
        embed.add_field(name="24h volume", value=money(t.quote_volume_24h), inline=True)
    if t.change_7d_pct is not None:
        embed.add_field(name="7d change", value=pct(t.change_7d_pct), inline=True)
    if view.others:
        lines = [
            f"{venue_label(o)}: {price(o.price)}"
            + (f" ({pct(o.change_24h_pct)})" if o.change_24h_pct is not None else "")
            for o in view.others
        ]
        embed.add_field(name="Other venues", value="\n".join(lines), inline=False)
    if view.stale:
        embed.add_field(
            name=f"{style.STALE} Stale data",
            value=f"Last update {utc(t.ts)}; the source may be down. Figures are the last good values.",
            inline=False,
        )
    embed.set_footer(
        text=f"Source: {venue_label(t)} · {freshness(age(view.age), view.stale)} · as of {utc(t.ts)}"
    )
    return embed


def price_table_embed(views: list[PriceView]) -> discord.Embed:
    """Several coins side by side: price, 24h and 7d change, 24h volume, in one code block."""
    rows = [f"{'coin':<6}{'price':>14}{'24h':>8}{'7d':>8}{'volume':>9}"]
    for v in views:
        t = v.primary
        rows.append(
            f"{v.coin:<6}{price(t.price):>14}"
            f"{pct(t.change_24h_pct) if t.change_24h_pct is not None else '–':>8}"
            f"{pct(t.change_7d_pct) if t.change_7d_pct is not None else '–':>8}"
            f"{money(t.quote_volume_24h) if t.quote_volume_24h is not None else '–':>9}"
            + (f" {style.STALE}" if v.stale else "")
        )
    changes = [v.primary.change_24h_pct for v in views if v.primary.change_24h_pct is not None]
    mean = sum(changes) / len(changes) if changes else None
    embed = discord.Embed(
        title=" · ".join(v.coin for v in views),
        description="```\n" + "\n".join(rows) + "\n```",
        colour=_table_colour(views, mean),
    )
    stale = [v.coin for v in views if v.stale]
    if stale:
        embed.add_field(
            name=f"{style.STALE} Stale data",
            value=f"{', '.join(stale)}: the source may be down; the last good values are shown.",
            inline=False,
        )
    sources = sorted({venue_label(v.primary) for v in views})
    oldest = max(v.age for v in views)
    embed.set_footer(text=f"Source: {', '.join(sources)} · oldest data {age(oldest)} old")
    return embed


def _table_colour(views: list[PriceView], mean: float | None) -> int:
    return style.WARN if any(v.stale for v in views) else style.direction_colour(mean)


_STATE_MARK = {
    "ok": "🟢",
    "stale": "🟡",
    "degraded": "🟠",
    "failing": "🔴",
    "disabled": "⛔",
    "never run": "⚪",
}


def status_embed(
    statuses: list[SourceStatus],
    tracked: list[str],
    streams: list[StreamConnection] | None = None,
    now: datetime | None = None,
    answers: str | None = None,
) -> discord.Embed:
    embed = discord.Embed(title="Tapewatch status", colour=style.INFO)
    if not statuses:
        embed.description = (
            "No source has been collected yet. Run `tapewatch collect --once` or start the bot."
        )
    if answers:  # the answer cache's counters, since start
        embed.description = (embed.description + "\n" if embed.description else "") + f"Answers: {answers}."
    for s in statuses:
        h = s.health
        lines = [f"{_STATE_MARK.get(s.state, '')} {s.state}"]
        if h.last_success:
            lines.append(f"last success {age(s.now - h.last_success)} ago")
        if h.consecutive_failures:
            lines.append(f"{h.consecutive_failures} failure(s) in a row")
        if h.last_error:
            lines.append(f"last error: {h.last_error[:180]}")
        if h.disabled_reason:
            lines.append(f"disabled: {h.disabled_reason[:180]}")
        embed.add_field(name=h.source, value="\n".join(lines), inline=True)
    if streams and now is not None:
        lines = []
        for session in streams:
            name = _VENUE_NAMES.get(session.venue, session.venue)
            if session.disconnected_at is None:
                since = session.connected_at
                lines.append(f"🟢 {name}: connected since {utc(since)} ({age(now - since)})")
            else:
                lines.append(f"🔴 {name}: disconnected {age(now - session.disconnected_at)} ago")
        embed.add_field(name="Liquidation streams", value="\n".join(lines), inline=False)
    elif now is not None:
        embed.add_field(
            name="Liquidation streams",
            value="none has run yet: liquidation figures start when the bot streams",
            inline=False,
        )
    embed.set_footer(text=f"Tracking {len(tracked)} coins: {', '.join(tracked)}")
    return embed


def error_embed(message: str) -> discord.Embed:
    return discord.Embed(description=message, colour=style.ERROR)
