"""Pure embed builders: data in, :class:`discord.Embed` out (no I/O, unit-testable)."""

from __future__ import annotations

from datetime import datetime

import discord

from bot.fmt import age, money, pct, price, stamp
from bot.models import StreamConnection, Ticker
from bot.render import style
from bot.universe import HistoryLoading
from bot.views.answers import CacheStats
from bot.views.market import PriceView, SourceStatus

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
        timestamp=t.ts,  # Discord shows it beside the footer, in each reader's own time
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
            value=f"Last update {stamp(t.ts)}; the source may be down. Figures are the last good values.",
            inline=False,
        )
    embed.set_footer(text=f"Source: {venue_label(t)} · {freshness(age(view.age), view.stale)}")
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
        timestamp=max(v.primary.ts for v in views),
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


_STATE_ORDER = ("ok", "stale", "degraded", "failing", "disabled", "never run")
# What /status may spend: Discord refuses 6,000 characters in all, 25 fields, 1,024 per value.
_STATUS_BUDGET = 5_600
_STATUS_FIELDS = 20
_ERROR_EXCERPT = 140


def status_summary(statuses: list[SourceStatus]) -> str:
    """``18 ok · 3 stale · 3 failing``: every state that occurs, in a fixed order."""
    counts = {state: 0 for state in _STATE_ORDER}
    for s in statuses:
        counts[s.state] = counts.get(s.state, 0) + 1
    return " · ".join(f"{_STATE_MARK.get(k, '')} {n} {k}" for k, n in counts.items() if n)


def _one_line(text: str, limit: int) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _source_value(s: SourceStatus) -> str:
    h = s.health
    lines = [f"{_STATE_MARK.get(s.state, '')} {s.state}"]
    if h.last_success:
        lines.append(f"last success {age(s.now - h.last_success)} ago")
    if h.consecutive_failures:
        lines.append(f"{h.consecutive_failures} failure(s) in a row")
    if h.last_error:
        lines.append(f"last error: {_one_line(h.last_error, _ERROR_EXCERPT)}")
    if h.disabled_reason:
        lines.append(f"disabled: {_one_line(h.disabled_reason, _ERROR_EXCERPT)}")
    return "\n".join(lines)


def _streams_value(streams: list[StreamConnection] | None, now: datetime) -> str:
    if not streams:
        return "none has run yet: liquidation figures start when the bot streams"
    lines = []
    for session in streams:
        name = _VENUE_NAMES.get(session.venue, session.venue)
        if session.disconnected_at is None:
            since = session.connected_at
            lines.append(f"🟢 {name}: connected since {stamp(since)} ({age(now - since)})")
        else:
            lines.append(f"🔴 {name}: disconnected {age(now - session.disconnected_at)} ago")
    return _one_line_each(lines, 1024)


def _one_line_each(lines: list[str], limit: int) -> str:
    text = "\n".join(lines)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def answers_line(s: CacheStats) -> str:
    total = s.hits + s.misses + s.coalesced
    rate = (s.hits + s.coalesced) / total if total else 0.0
    return (
        f"{s.hits} hits, {s.coalesced} coalesced, {s.misses} computed "
        f"({rate:.0%} served without computing), {s.refused} refused as busy, "
        f"{s.lagging} served under load with liquidations up to the grace behind"
    )


def status_embed(
    statuses: list[SourceStatus],
    tracked: list[str],
    streams: list[StreamConnection] | None = None,
    now: datetime | None = None,
    answers: CacheStats | None = None,
    loading: list[HistoryLoading] | None = None,
    sentiment: str | None = None,
) -> discord.Embed:
    """A summary line, then only the sources that are not ok, then the streams: always within
    Discord's limits, however many sources fail and however long their errors are. ``loading``:
    coins newly tracked whose history is still coming in (not answered for yet)."""
    embed = discord.Embed(title="Tapewatch status", colour=style.INFO, timestamp=now)
    lines = (
        [status_summary(statuses)]
        if statuses
        else ["No source has been collected yet. Run `tapewatch collect --once` or start the bot."]
    )
    if answers is not None:  # the answer cache's counters, since start
        lines.append(f"Answers: {answers_line(answers)}.")
    if loading:
        each = ", ".join(f"{p.symbol} {len(set(p.done) & set(p.venues))}/{len(p.venues)}" for p in loading)
        lines.append(_one_line(f"History loading for {len(loading)} new coin(s) (venues done): {each}.", 600))
    if sentiment:  # the Fear & Greed line (bot.render.sentiment.sentiment_status)
        lines.append(sentiment)
    embed.description = "\n".join(lines)
    footer = f"Tracking {len(tracked)} coins: {', '.join(tracked)}"
    embed.set_footer(text=footer if len(footer) <= 300 else footer[:299] + "…")
    streams_value = _streams_value(streams, now) if now is not None else ""
    reserve = len(streams_value) + 1_000  # the streams field and an "…and N more" field
    problems = [s for s in statuses if s.state != "ok"]
    shown = 0
    for s in problems:
        value = _source_value(s)
        if (
            shown >= _STATUS_FIELDS
            or len(embed) + len(s.health.source) + len(value) + reserve > _STATUS_BUDGET
        ):
            break
        embed.add_field(name=s.health.source, value=value, inline=True)
        shown += 1
    rest = problems[shown:]
    if rest:
        names = _one_line(", ".join(s.health.source for s in rest), 900)
        embed.add_field(name=f"…and {len(rest)} more not ok", value=names, inline=False)
    if streams_value:
        embed.add_field(name="Liquidation streams", value=streams_value, inline=False)
    return embed


def error_embed(message: str) -> discord.Embed:
    return discord.Embed(description=message, colour=style.ERROR)
