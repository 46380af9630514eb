"""/liquidations in words and as a chart spec: per window longs vs shorts, shares, events, the
largest one, venues, the coin's own baseline, acceleration, and honest coverage."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta

import discord

from bot.analysis.findings import LiquidationFinding
from bot.analysis.liquidations import LiqMinute
from bot.fmt import age, money, price, stamp
from bot.render import style
from bot.render.basis import finding_size_text
from bot.render.caveats import gap_text, notes_text
from bot.render.charts import ChartSpec, LiqBar
from bot.render.live import live_from, with_live_bar
from bot.render.phrases import venues
from bot.views.liquidations import LiquidationsView

RECENT = timedelta(days=2)  # coverage younger than this says how long it has streamed


def window_text(f: LiquidationFinding) -> str:
    if not f.ok or f.total_usd is None:
        return gap_text(f.insufficient, "no data")
    lines = [
        f"**≥ {money(f.total_usd)}** · longs {money(f.long_usd or 0)} / shorts {money(f.short_usd or 0)}"
    ]
    if f.long_share is not None:
        lines[0] += f" ({f.long_share:.0%} / {1 - f.long_share:.0%})"
    detail = [f"{f.events} events"]
    if f.largest_usd:
        detail.append(f"largest {money(f.largest_usd)}")
    sized = finding_size_text(f)
    if sized is not None:
        detail.append(sized)
    elif f.baseline_multiple is not None:
        detail.append(f"{f.baseline_multiple:.1f}× its {f.baseline_days:.0f}-day average for {f.window}")
    lines.append(", ".join(detail))
    if f.acceleration is not None:
        trend = "accelerating" if f.acceleration >= 1.3 else "slowing" if f.acceleration <= 0.7 else "steady"
        lines.append(
            f"last hour {money(f.last_hour_usd or 0)}: {trend} ({f.acceleration:.1f}× the window's rate)"
        )
    venue_parts = [
        f"{venues([v.venue])} {money(v.long_usd + v.short_usd)}"
        for v in f.by_venue
        if v.long_usd + v.short_usd > 0
    ]
    if venue_parts:
        lines.append(" · ".join(venue_parts))
    lines.extend(f"_{n}_" for n in notes_text(f.notes))
    return "\n".join(lines)


def liquidations_embed(view: LiquidationsView) -> discord.Embed:
    subject = view.coin or "All tracked coins"
    main = max(view.windows, key=lambda f: f.end - f.start)
    long_share = next((f.long_share for f in view.windows if f.long_share is not None), None)
    colour = style.FLAT if long_share is None else style.DOWN if long_share >= 0.5 else style.UP
    embed = discord.Embed(title=f"{subject} liquidations", colour=colour, timestamp=view.now)
    for f in view.windows:
        embed.add_field(name=f.window, value=window_text(f)[:1024], inline=len(view.windows) > 1)
    if view.top_coins:
        embed.add_field(
            name=f"Most liquidated ({main.window})",
            value="\n".join(
                f"{coin}: {money(usd)} ({long / usd:.0%} longs)" for coin, usd, long in view.top_coins if usd
            ),
            inline=False,
        )
    cover = view.coverage
    if cover.covered_since is None:
        coverage_line = "No liquidation stream has run yet: figures start when the bot streams."
    else:
        coverage_line = (
            f"Lower bound from {venues(cover.venues)} public streams (Binance shows at most one liquidation "
            f"per symbol per second; OKX's feed is partial), covered since {stamp(cover.covered_since)}"
        )
        if view.now - cover.covered_since < RECENT:
            coverage_line += f" (streaming for {age(view.now - cover.covered_since)})"
        if cover.gap_minutes:
            coverage_line += f", {cover.gap_minutes} min of gaps"
        coverage_line += ". Windows longer than the coverage are not scaled up."
    embed.add_field(name="Coverage", value=coverage_line, inline=False)
    embed.set_footer(
        text=f"streams connected now: {venues(cover.connected_now) if cover.connected_now else 'none'}"
    )
    return embed


def liq_bars(rows: Sequence[LiqMinute], bucket: timedelta = timedelta(hours=1)) -> list[LiqBar]:
    """Rows summed into chart bars (longs and shorts per bucket, all venues)."""
    sums: dict[datetime, list[float]] = defaultdict(lambda: [0.0, 0.0])
    step = bucket.total_seconds()
    for r in rows:
        start = datetime.fromtimestamp(r.minute.timestamp() // step * step, tz=r.minute.tzinfo)
        sums[start][0 if r.side == "long" else 1] += r.usd
    return [LiqBar(start=t, long_usd=v[0], short_usd=v[1]) for t, v in sorted(sums.items())]


def liquidations_chart(view: LiquidationsView) -> ChartSpec | None:
    """Price bars of the coin (BTC, the market's gauge, for all tracked coins) over the chart's
    span for the window asked (``view.chart_span``), liquidation bars below, the window shaded."""
    if not view.candles:
        return None
    who = view.coin or "BTC"
    t = view.ticker
    candles = with_live_bar(view.candles, t.price if t else None, view.now if t else None)
    first, last = candles[0].open_time, candles[-1].open_time
    label = f"now {price(t.price)}" if t else f"last close {price(candles[-1].close)}"
    when = "%Y-%m-%d %H:%M" if view.chart_span <= timedelta(days=1) else "%Y-%m-%d"
    subject = view.coin or "All tracked coins"
    what = f"liquidations, {view.window} window" if view.window else "liquidations"
    bars = (
        f"{candles[0].interval} bars"
        if view.chart_bucket == _INTERVAL_SPAN.get(candles[0].interval)
        else (f"{candles[0].interval} bars, liquidations per {_span_text(view.chart_bucket)}")
    )
    scope = view.coin or "every tracked coin"
    price_note = "" if view.coin else "; price: BTC, the market's gauge"
    window_start = view.now - view.window_span if view.window_span else None
    return ChartSpec(
        title=f"{subject} · {what} · {first:{when}} → {last:{'%H:%M' if first.date() == last.date() else when}} UTC",
        candles=candles,
        current_price=t.price if t else candles[-1].close,
        current_label=label,
        live_from=live_from(candles, view.now) if t else None,
        liq_bars=liq_bars(view.hourly, view.chart_bucket),
        liq_bucket=view.chart_bucket,
        subtitle=f"{bars} · liquidations of {scope} (longs below, shorts above){price_note}",
        footer="liquidations: lower bound from the venues' public streams",
        price_label=f"{who} price (USD)",
        window_start=window_start if window_start is not None and window_start > first else None,
        window_label=f"{view.window} window" if view.window else None,
    )


_INTERVAL_SPAN = {"1h": timedelta(hours=1), "1d": timedelta(days=1)}


def _span_text(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    if minutes % 1440 == 0:
        return f"{minutes // 1440} d" if minutes > 1440 else "day"
    if minutes % 60 == 0:
        return f"{minutes // 60} h" if minutes > 60 else "hour"
    return f"{minutes} min"
