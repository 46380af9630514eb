"""/levels in words and as a chart: supports below, resistances above, what a break means."""

from __future__ import annotations

from datetime import timedelta

import discord

from bot.analysis.findings import LevelReason, LevelZone
from bot.fmt import ago, pct, price, price_at, price_level
from bot.render import style
from bot.render.caveats import caveat_text, notes_text
from bot.render.charts import Band, ChartSpec
from bot.render.charts.spec import strength_tier
from bot.render.liquidations import liq_bars
from bot.render.live import live_from, with_live_bar
from bot.render.phrases import level_decimals, zone_range
from bot.views.levels import LevelsView


def level_reason(z: LevelZone, r: LevelReason) -> str:
    """One of a zone's reasons in words, from its numbers."""
    if r.kind == "touches":
        return f"{r.count} touch{'es' if r.count != 1 else ''} on {r.timeframe}"
    if r.kind == "average":
        return f"{r.days}-day average {price_level(r.level or 0.0)}"
    if r.kind == "round_number":
        return f"round number {price_level(r.level or 0.0)}"
    if r.kind == "broke":
        verb = "lost" if r.was == "support" else "reclaimed"
        return f"{verb} {r.was} {ago(r.ago or timedelta(0))}, now {z.kind}"
    return "high volume at price"


def zone_reasons(z: LevelZone) -> tuple[str, ...]:
    return tuple(level_reason(z, r) for r in z.reasons)


def zone_line(z: LevelZone, decimals: int | None = None) -> str:
    reasons = ", ".join(zone_reasons(z)[:3])
    return f"**{zone_range(z, decimals)}** ({pct(z.distance_pct)}) · strength {z.strength:.2f}" + (
        f" · {reasons}" if reasons else ""
    )


def levels_embed(view: LevelsView, *, chart: bool = False) -> discord.Embed:
    lv = view.levels
    d = level_decimals(lv)
    embed = discord.Embed(
        title=f"{view.coin} levels · price {price(lv.price)}",
        colour=style.INFO,
        description=None if lv.insufficient is None else caveat_text(lv.insufficient),
        timestamp=view.ticker.ts,
    )
    if lv.broken:
        b = lv.broken[0]
        embed.add_field(
            name="Just broken",
            value=f"{'Lost' if b.was == 'support' else 'Reclaimed'} {b.was} at {zone_range(b.zone, d)} "
            f"{ago(view.now - b.broke_at)}: now {b.zone.kind}.",
            inline=False,
        )
    if lv.resistances:
        embed.add_field(
            name="Resistance above",
            value="\n".join(zone_line(z, d) for z in lv.resistances[:3]),
            inline=False,
        )
    if lv.at_price is not None:
        embed.add_field(
            name="At the price", value=zone_line(lv.at_price, d) + " — being tested now", inline=False
        )
    if lv.supports:
        embed.add_field(
            name="Support below", value="\n".join(zone_line(z, d) for z in lv.supports[:3]), inline=False
        )
    meaning = []
    if lv.nearest_support is not None:
        s = lv.nearest_support
        after = (
            f"the next support is {zone_range(lv.next_below, d)}"
            if lv.next_below
            else "no stronger support within range"
        )
        meaning.append(f"Below {price_at(s.low, d)} {after}.")
    if lv.nearest_resistance is not None:
        r = lv.nearest_resistance
        after = (
            f"the next resistance is {zone_range(lv.next_above, d)}"
            if lv.next_above
            else "no resistance within range"
        )
        meaning.append(f"Above {price_at(r.high, d)} {after}.")
    if meaning:
        embed.add_field(name="What a break would mean", value="\n".join(meaning), inline=False)
    extras = []
    if lv.ma50:
        extras.append(f"50-day average {price_at(lv.ma50, d)}")
    if lv.ma200:
        extras.append(f"200-day average {price_at(lv.ma200, d)}")
    extras.extend(notes_text(lv.notes))
    if extras:
        embed.add_field(name="Context", value=" · ".join(extras), inline=False)
    if chart:
        embed.set_image(url="attachment://levels.png")
    embed.set_footer(
        text=f"Swing highs/lows on 1d and 1h bars, clustered by ATR · price {view.ticker.venue} "
        f"{view.ticker.market}"
    )
    return embed


def band_label(name: str, z: LevelZone, decimals: int) -> str:
    """A zone's chart label: its range as the text prints it, and its strength in words."""
    word, _ = strength_tier(z.strength)
    return f"{name} {zone_range(z, decimals)} · {word} {z.strength:.2f}"


def levels_chart(view: LevelsView) -> ChartSpec:
    lv = view.levels
    d = level_decimals(lv)
    bands = [
        *(
            Band(z.low, z.high, "support", band_label(f"S{i}", z, d), z.strength)
            for i, z in enumerate(lv.supports[:3], 1)
        ),
        *(
            Band(z.low, z.high, "resistance", band_label(f"R{i}", z, d), z.strength)
            for i, z in enumerate(lv.resistances[:3], 1)
        ),
    ]
    if lv.at_price is not None:
        z = lv.at_price
        bands.append(Band(z.low, z.high, "at_price", band_label("testing", z, d), z.strength))
    candles = with_live_bar(view.hourly, view.ticker.price, view.ticker.ts)
    first, last = candles[0].open_time, candles[-1].open_time
    return ChartSpec(
        title=f"{view.coin} · 1h · {first:%Y-%m-%d} → {last:%Y-%m-%d} UTC",
        candles=candles,
        live_from=live_from(candles, view.ticker.ts),
        bands=bands,
        current_price=lv.price,
        liq_bars=liq_bars(view.liquidations),
        liq_bucket=timedelta(hours=1),
        subtitle="support (green) and resistance (red) zones, shaded by strength; liquidations below",
        footer=f"prices {view.ticker.venue} {view.ticker.market} · liquidations: lower bound from public streams",
    )
