"""Alerts in words: one embed per alert (what crossed which threshold, and why the market moved
according to the /why analysis), the channel message several alerts make together, the daily
brief, and the /alerts replies. Pure: data in, embeds out."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import discord

from bot.alerts.config import RULE_TITLES, AlertConfig, describe_thresholds
from bot.alerts.messages import AlertPost, BriefPost, LargeLiqPost, Observation, Post, why_window
from bot.alerts.models import Brief, Subscription
from bot.analysis.why import WhyAnswer
from bot.fmt import age, money, pct, price, utc
from bot.render import style
from bot.render.basis import share as share_text
from bot.render.basis import size_text
from bot.render.drivers import DRIVER_TITLES, driver_text
from bot.render.large_liq import large_liq_buttons, large_liq_embed
from bot.render.liquidations import liquidations_embed
from bot.render.phrases import zone_range
from bot.render.why import headline, why_embed

MAX_EMBEDS = 10  # Discord's limit per message
MAX_MESSAGE_CHARS = 5800  # …and on the text of all embeds (6,000), with room for a footer label
MAX_BUTTONS = 25
_LOWER_BOUND = "[public streams, a lower bound]"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def discord_time(dt: datetime, style_code: str = "f") -> str:
    """Discord's timestamp markup: each reader sees it in their own timezone."""
    return f"<t:{int(dt.timestamp())}:{style_code}>"


def pct_8h_text(rate_pct: float) -> str:
    """A funding rate already in percent per 8h (0.01) → "+0.010%/8h"."""
    return f"{pct(rate_pct, digits=3)}/8h"


def alert_title(o: Observation) -> str:
    up = o.direction == "up"
    if o.rule == "move":
        return f"{'📈' if up else '📉'} {o.coin} {pct(o.value)} in {o.window}"
    if o.rule == "liquidations":
        return f"💥 {o.coin} liquidation spike: {money(o.value)} in {o.window}"
    if o.rule == "large_liq":
        side = "long" if o.direction == "down" else "short"
        at = f" at {price(o.price)}" if o.price else ""
        return f"💥 {money(o.value)} {o.coin} {side} liquidated{at}"
    if o.rule == "level" and o.zone is not None:
        if o.zone_was == "support":
            return f"🧱 {o.coin} closed below support {zone_range(o.zone)}"
        return f"🚀 {o.coin} closed above resistance {zone_range(o.zone)}"
    if o.rule == "oi_flush":
        return f"🔻 {o.coin} open interest {pct(o.value)} in {o.window}"
    if o.rule == "funding":
        return f"💸 {o.coin} funding {pct_8h_text(o.value)}: extreme"
    return f"{o.coin} {RULE_TITLES[o.rule]}"


def trigger_text(o: Observation) -> str:
    """What crossed which threshold, with the figures."""
    if o.rule == "move":
        if o.basis == "sigma" and o.sigma:
            k = o.threshold / o.sigma
            return (
                f"{abs(o.value) / o.sigma:.1f}σ of {o.coin}'s own {o.window} moves "
                f"(σ {o.sigma:.2f}% over 30 days; alerts from {k:g}σ)."
            )
        return f"Past the {o.threshold:g}% threshold for {o.window} moves."
    if o.rule == "liquidations":
        share = f" ({o.long_share:.0%} longs)" if o.long_share is not None else ""
        text = f"{money(o.value)} liquidated in {o.window}{share}"
        if o.multiple is not None and o.baseline_usd is not None:
            days = f"{o.baseline_days:.0f}-day " if o.baseline_days else ""
            text += f": {o.multiple:.1f}× its {days}average of {money(o.baseline_usd)} per {o.window}"
        elif o.liq_basis in ("open_interest", "volume") and o.basis_ratio is not None:
            text += "; " + size_text(o.liq_basis, o.basis_ratio, o.window, needed_days=o.own_needed_days)
            if o.basis == "baseline" and o.basis_bar is not None:  # the band set the bar, not the floor
                return f"{text}; alerts from {share_text(o.basis_bar)} ({money(o.threshold)}). {_LOWER_BOUND}"
        return text + f"; alerts above {money(o.threshold)}. {_LOWER_BOUND}"
    if o.rule == "level" and o.zone is not None and o.close is not None:
        side = "below" if o.zone_was == "support" else "above"
        when = f" to {utc(o.bar_time + timedelta(hours=1))}" if o.bar_time else ""
        return (
            f"The 1h bar{when} closed at {price(o.close)}, {o.value:.2f}% {side} the zone "
            f"(strength {o.zone.strength:.2f}); a break needs a close {o.threshold:g}% beyond it, "
            "a wick does not count."
        )
    if o.rule == "oi_flush":
        to = f" to {money(o.oi_usd)}" if o.oi_usd else ""
        return f"Open interest {pct(o.value)} in {o.window}{to}; alerts from {pct(o.threshold)}."
    if o.rule == "funding":
        who = "longs pay shorts" if o.value > 0 else "shorts pay longs"
        return f"Mean funding across venues {pct_8h_text(o.value)} ({who}), beyond the ±{abs(o.threshold):g}%/8h band."
    return ""


def _shorten(text: str, limit: int) -> str:
    """Cut at the last clause (``; `` or ``. ``) that fits, else at the limit."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    at = max(cut.rfind("; "), cut.rfind(". "))
    return (cut[:at] if at > limit // 2 else cut).rstrip(" ;.,") + "…"


def why_text(a: WhyAnswer, drivers: int = 2, limit: int = 600) -> str:
    """The /why headline and the first line of its top drivers: a short explanation."""
    lines = [f"**{headline(a)}**"]
    for d in a.drivers[:drivers]:
        first = driver_text(d, a).split("\n")[0].strip()
        if first:
            lines.append(f"• {DRIVER_TITLES[d.kind]}: {_shorten(first, 200)}")
    return _clip("\n".join(lines), limit)


def alert_embed(o: Observation, why: WhyAnswer | None = None) -> discord.Embed:
    colour = style.WARN if o.rule == "funding" else style.UP if o.direction == "up" else style.DOWN
    embed = discord.Embed(title=_clip(alert_title(o), 256), description=trigger_text(o), colour=colour)
    if why is not None:
        embed.add_field(name=f"Why ({why.inputs.window}, from /why)", value=why_text(why), inline=False)
    embed.set_footer(text=f"{RULE_TITLES[o.rule]} · data as of {utc(o.at)}")
    return embed


def _size(e: discord.Embed) -> int:
    return len(e)


def message_embeds(alerts: Sequence[tuple[Observation, WhyAnswer | None]]) -> list[discord.Embed]:
    """One channel message for the alerts of one cycle: an embed each (up to Discord's ten, the
    rest summed up in the last), trimmed to fit the 6,000-character limit."""
    items = list(alerts)
    if len(items) > MAX_EMBEDS:
        shown, rest = items[: MAX_EMBEDS - 1], items[MAX_EMBEDS - 1 :]
    else:
        shown, rest = items, []
    embeds = [alert_embed(o, w) for o, w in shown]
    if rest:
        lines = [f"• {_clip(alert_title(o), 120)}" for o, _ in rest]
        embeds.append(
            discord.Embed(
                title=f"…and {len(rest)} more alert{'s' if len(rest) > 1 else ''}",
                description=_clip("\n".join(lines), 4000),
                colour=style.INFO,
            )
        )
    return fit(embeds)


def fit(embeds: list[discord.Embed]) -> list[discord.Embed]:
    """Drop fields, last embed first, until the message fits Discord's 6,000 characters."""
    for e in reversed(embeds):
        while e.fields and sum(_size(x) for x in embeds) > MAX_MESSAGE_CHARS:
            e.remove_field(len(e.fields) - 1)
    return embeds


def why_buttons(alerts: Sequence[Observation]) -> list[tuple[str, str]]:
    """One "Why?" button per coin, in alert order: ``(coin, /why window)``."""
    seen: dict[str, str] = {}
    for o in alerts:
        seen.setdefault(o.coin, why_window(o))
    return list(seen.items())[:MAX_BUTTONS]


def sample_alert_embed(now: datetime, sub: Subscription | None) -> discord.Embed:
    embed = discord.Embed(
        title="🧪 Test alert: Tapewatch can post here",
        description=(
            "This is what an alert looks like: a title with the move, the threshold it crossed, "
            "and why the market moved (from /why), with a button that opens the full /why answer."
        ),
        colour=style.INFO,
    )
    if sub is None:
        embed.add_field(
            name="Subscription", value="This channel is not subscribed yet: use /alerts subscribe."
        )
    else:
        embed.add_field(name="Subscription", value=subscription_text(sub), inline=False)
    embed.set_footer(text=f"test sent {utc(now)}")
    return embed


def _coins(sub: Subscription) -> str:
    return ", ".join(sub.coins) if sub.coins else "every tracked coin"


def _types(sub: Subscription) -> str:
    return ", ".join(RULE_TITLES[r] for r in sub.rules)


def status_text(sub: Subscription, now: datetime) -> str:
    if sub.disabled_reason:
        when = f" since {utc(sub.disabled_at)}" if sub.disabled_at else ""
        return f"⛔ disabled{when}: {sub.disabled_reason}. Fix it, then run /alerts subscribe again."
    if sub.muted(now) and sub.muted_until is not None:
        return f"🔕 muted until {discord_time(sub.muted_until)}"
    return "🟢 active"


def subscription_text(sub: Subscription, now: datetime | None = None) -> str:
    lines = [
        f"<#{sub.channel_id}>: {_coins(sub)}",
        f"Types: {_types(sub)}",
        f"Thresholds: {describe_thresholds(sub.thresholds)}",
        f"Ping: {f'<@&{sub.role_id}>' if sub.role_id else 'nobody'}",
    ]
    if now is not None:
        lines.append(f"Status: {status_text(sub, now)}")
        if sub.last_alert_at is not None:
            lines.append(f"Last alert {age(now - sub.last_alert_at)} ago ({sub.alerts_sent} sent)")
    return "\n".join(lines)


def defaults_text(cfg: AlertConfig) -> str:
    return (
        f"move {cfg.move_1h_pct:g}% (1h) / {cfg.move_24h_pct:g}% (24h) or {cfg.sigma_k:g}σ; "
        f"liquidations {cfg.liq_multiple:g}× baseline and ≥ {money(cfg.liq_floor_usd)} per "
        f"{cfg.liq_window_minutes} min; large liquidation one event ≥ {cfg.large_oi_pct:g}% of open interest "
        f"(≥ {money(cfg.large_min_usd)}; {money(cfg.large_usd)} without it), one message a minute; level break {cfg.level_buffer_pct:g}% beyond the zone on a 1h close; "
        f"OI −{cfg.oi_drop_1h_pct:g}% (1h) / −{cfg.oi_drop_24h_pct:g}% (24h); funding ±{cfg.funding_band_pct:g}%/8h; "
        f"cooldown {cfg.cooldown_minutes} min ({cfg.level_cooldown_minutes} min for level breaks), "
        f"re-arm below {1 - cfg.hysteresis:.0%} of a threshold"
    )


def subscribed_embed(sub: Subscription, cfg: AlertConfig, *, created: bool) -> discord.Embed:
    embed = discord.Embed(
        title="Alerts subscribed" if created else "Alerts updated",
        description=subscription_text(sub),
        colour=style.UP,
    )
    embed.add_field(name="Defaults", value=defaults_text(cfg), inline=False)
    embed.set_footer(text="Checked after every refresh and on each liquidation batch · /alerts test to try")
    return embed


def brief_text(b: Brief, now: datetime) -> str:
    if b.disabled_reason:
        return f"<#{b.channel_id}> at {b.local_time} {b.timezone}: ⛔ disabled: {b.disabled_reason}"
    return f"<#{b.channel_id}> daily at {b.local_time} {b.timezone} (next {discord_time(b.next_due, 'R')})"


def list_embed(
    subs: Sequence[Subscription], briefs: Sequence[Brief], cfg: AlertConfig, now: datetime
) -> discord.Embed:
    embed = discord.Embed(title="Alerts in this server", colour=style.INFO)
    if not subs and not briefs:
        embed.description = "No channel is subscribed. Use /alerts subscribe to start."
    for n, sub in enumerate(subs, 1):
        embed.add_field(
            name=f"{n}. Subscription", value=_clip(subscription_text(sub, now), 1024), inline=False
        )
    if briefs:
        embed.add_field(
            name="Daily briefs",
            value=_clip("\n".join(brief_text(b, now) for b in briefs), 1024),
            inline=False,
        )
    embed.set_footer(text=_clip(f"Defaults: {defaults_text(cfg)}", 2048))
    return embed


def brief_content(local: datetime, timezone: str) -> str:
    return f"📰 **Daily market brief** · {local:%a %d %b %Y, %H:%M} {timezone}"


# -- the presenter: posts the alerts engine emits → Discord messages ------------------------------


@dataclass(frozen=True)
class Outgoing:
    """One channel message, formatted: what :class:`bot.dispatch.Dispatcher` sends."""

    guild_id: int
    channel_id: int
    embeds: Sequence[discord.Embed]
    buttons: Sequence[tuple[str, str]] = ()  # a "Why?" button each: (coin, /why window)
    content: str | None = None
    role_id: int | None = None  # ping this role (and no one else)
    # With ``enforce_nonce`` Discord drops a second message with the same nonce for a few
    # minutes: a retried post of the same alerts cannot land twice.
    nonce: str | None = None


def present(post: Post) -> Outgoing:
    """Format one post of the alerts engine."""
    if isinstance(post, AlertPost):
        return Outgoing(
            post.guild_id,
            post.channel_id,
            message_embeds(post.alerts),
            why_buttons([o for o, _ in post.alerts]),
            role_id=post.role_id,
            nonce=post.nonce,
        )
    if isinstance(post, LargeLiqPost):
        return Outgoing(
            post.guild_id,
            post.channel_id,
            [large_liq_embed(post)],
            large_liq_buttons(post),
            role_id=post.role_id,
            nonce=post.nonce,
        )
    if isinstance(post, BriefPost):
        return Outgoing(
            post.guild_id,
            post.channel_id,
            fit([why_embed(post.why), liquidations_embed(post.liquidations)]),
            content=brief_content(post.local_due, post.timezone),
            nonce=post.nonce,
        )
    buttons = [(post.coin, "24h")] if post.coin else []
    return Outgoing(post.guild_id, post.channel_id, [sample_alert_embed(post.at, post.subscription)], buttons)
