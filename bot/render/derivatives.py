"""/derivatives in words: one coin's funding, open interest, positioning and basis, or one
compact table across the tracked coins (in the description, well inside Discord's limits)."""

from __future__ import annotations

import discord

from bot.fmt import money, pct
from bot.render import style
from bot.render.caveats import gap_text
from bot.render.phrases import VENUES, venues
from bot.views.derivatives import CoinDerivatives, DerivativesView

STATE = {"elevated": "elevated (longs pay)", "negative": "negative (shorts pay)", "normal": "normal"}


def funding_rate(rate: float) -> str:
    return pct(rate * 100, digits=4)


def ordinal(p: float) -> str:
    n = round(p)
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _funding_field(d: CoinDerivatives) -> str:
    f = d.funding
    if not f.ok:
        return gap_text(f.insufficient, "no funding rate stored")
    lines = []
    for p in d.percentiles:
        where = (
            f"{ordinal(p.percentile)} percentile of 30 d"
            if p.percentile is not None
            else f"percentile needs 24 h of history ({p.hours} h stored)"
        )
        lines.append(f"{VENUES.get(p.venue, p.venue)}: {funding_rate(p.rate_8h)} · {where}")
    if f.mean_8h is not None and f.state is not None:
        lines.append(f"mean {funding_rate(f.mean_8h)}/8h: {STATE[f.state]}")
    return "\n".join(lines)


def _oi_field(d: CoinDerivatives) -> str:
    now = next((o for o in d.oi if o.end_usd is not None), None)
    if now is None or now.end_usd is None:
        return gap_text(d.oi[0].insufficient, "no open interest stored")
    changes = [
        f"{o.window} {pct(o.change_pct)}" if o.change_pct is not None else f"{o.window} n/a" for o in d.oi
    ]
    return f"{money(now.end_usd)} ({venues(now.venues)}) · " + " · ".join(changes)


def _positioning_field(d: CoinDerivatives) -> str:
    ls, top = d.long_short, d.top_traders
    lines = []
    if ls.long_share is not None:
        change = f" ({pct(ls.change_pp, digits=1).rstrip('%')} pp in 24h)" if ls.change_pp is not None else ""
        crowded = f", {ls.crowded} crowded" if ls.crowded else ""
        lines.append(f"all accounts: {ls.long_share:.0%} long{change}{crowded} ({venues(ls.sources)})")
    if top.position_long_share is not None:
        gap = f", {pct(top.gap_pp).rstrip('%')} pp vs all accounts" if top.gap_pp is not None else ""
        lines.append(f"top traders by position: {top.position_long_share:.0%} long{gap}")
    if top.account_long_share is not None:
        lines.append(f"top traders by account: {top.account_long_share:.0%} long")
    return "\n".join(lines) or gap_text(ls.insufficient, "no long/short ratio stored")


def _basis_field(d: CoinDerivatives) -> str:
    if not d.basis:
        return "no perp and spot price stored together"
    ref = VENUES.get(d.basis[0].spot_venue, d.basis[0].spot_venue)
    parts = [f"{VENUES.get(b.venue, b.venue)} {pct(b.pct, digits=3)}" for b in d.basis]
    return " · ".join(parts) + f" (perp vs {ref} spot)"


def coin_embed(view: DerivativesView) -> discord.Embed:
    d = view.coins[0]
    mean = d.funding.mean_8h
    title = f"{d.coin} derivatives"
    if mean is not None:
        title += f": funding {funding_rate(mean)}/8h"
        if d.mean_percentile is not None:
            title += f", {ordinal(d.mean_percentile)} percentile of 30 d"
    embed = discord.Embed(title=title, colour=style.INFO)
    embed.timestamp = d.funding.as_of or d.oi[0].end
    embed.add_field(name="Funding per 8h", value=_funding_field(d), inline=False)
    embed.add_field(name="Open interest", value=_oi_field(d), inline=False)
    embed.add_field(name="Long/short", value=_positioning_field(d), inline=False)
    embed.add_field(name="Basis", value=_basis_field(d), inline=False)
    embed.set_footer(text="Funding normalised to 8h; percentile against the venue's own 30-day history")
    return embed


def _cell(value: str, width: int) -> str:
    return value.rjust(width)


def table_row(d: CoinDerivatives) -> str:
    mean = d.funding.mean_8h
    fund = funding_rate(mean) if mean is not None else "–"
    pctl = f"{d.mean_percentile:.0f}" if d.mean_percentile is not None else "–"
    oi = d.oi[0].change_pct
    ls = d.long_short.long_share
    basis = sum(b.pct for b in d.basis) / len(d.basis) if d.basis else None
    return (
        f"{d.coin:<6}{_cell(fund, 10)}{_cell(pctl, 5)}"
        f"{_cell(pct(oi) if oi is not None else '–', 8)}"
        f"{_cell(f'{ls:.0%}' if ls is not None else '–', 5)}"
        f"{_cell(pct(basis, digits=2) if basis is not None else '–', 8)}"
    )


def table_embed(view: DerivativesView) -> discord.Embed:
    header = f"{'coin':<6}{_cell('fund/8h', 10)}{_cell('pctl', 5)}{_cell('OI 24h', 8)}{_cell('long', 5)}{_cell('basis', 8)}"
    rows = [table_row(d) for d in view.coins]
    embed = discord.Embed(
        title="Derivatives across the tracked coins",
        description="Sorted by how unusual funding is against its own 30 days.\n```\n"
        + "\n".join([header, *rows])
        + "\n```",
        colour=style.INFO,
        timestamp=view.now,
    )
    embed.set_footer(
        text="fund/8h: mean over venues · pctl: its percentile of 30 d · long: share of accounts net long · "
        "basis: perp vs spot, mean over venues · /derivatives coin: for one coin"
    )
    return embed


def derivatives_embed(view: DerivativesView) -> discord.Embed:
    return coin_embed(view) if view.single else table_embed(view)
