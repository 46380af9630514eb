"""/alerts: a server's admins subscribe a channel to market alerts and a daily brief.

Who may use it: the group's default permissions are Manage Server (so Discord hides it from
everyone else), and every subcommand checks again at run time: Manage Server, or Manage
Channels in the channel concerned (a server can override the defaults per role or channel).

Where the bot may post, checked before anything is saved:
- the interaction's own channel: ``interaction.app_permissions`` (the bot's permissions there,
  sent by Discord with every interaction);
- another channel: ``channel.permissions_for(guild.me)`` from the gateway cache (the bot has
  the guilds intent, so guilds, channels, roles and its own member are cached), and without a
  cache the resolved channel's ``app_permissions`` field (Discord's permissions of the app in
  that channel, sent with the interaction since July 2026; discord.py 2.7 does not parse it yet,
  so it is read from the raw interaction data). The resolved channel's ``permissions`` field is
  *not* used for the bot: it is the invoking member's permissions (used here for their Manage
  Channels check). Without either, the command asks to be run from inside that channel.
Every query and write is keyed by the interaction's guild: one server never sees or changes
another's subscriptions. A rejected input writes nothing.
"""

from __future__ import annotations

import re
import zoneinfo
from datetime import timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

import discord
from discord import app_commands
from discord.ext import commands

from bot.alerts.config import RULES
from bot.alerts.models import Subscription
from bot.alerts.service import AlertsService
from bot.dispatch import Dispatcher, WhyButton
from bot.errors import UserFacingError
from bot.interactions import send
from bot.render import style
from bot.render.alerts import discord_time, list_embed, subscribed_embed
from bot.services import MarketService
from bot.timeparse import Duration, LocalTime, Timezone
from cogs._alerts_args import AlertTypes, Thresholds
from cogs._alerts_checks import (
    Channel,
    authorise,
    check_can_post,
    check_in_guild,
)

if TYPE_CHECKING:
    from bot.client import TapewatchBot

MIN_MUTE = timedelta(minutes=1)
MAX_MUTE = timedelta(days=7)


@cache
def _timezones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _done(text: str) -> discord.Embed:
    return discord.Embed(description=text, colour=style.UP)


@app_commands.guild_only()
@app_commands.default_permissions(manage_guild=True)
class AlertsCog(
    commands.GroupCog,
    group_name="alerts",
    group_description="Market alerts in a channel: subscribe, list, mute, test, and a daily brief",
):
    def __init__(self, service: AlertsService, market: MarketService) -> None:
        self.service = service
        self.market = market

    async def interaction_check(self, interaction: discord.Interaction[Any], /) -> bool:
        authorise(interaction)
        return True

    async def cog_unload(self) -> None:
        self.service.detach()

    def _guild(self, interaction: discord.Interaction[Any]) -> int:
        if interaction.guild_id is None:  # guild_only: Discord never sends this
            raise app_commands.NoPrivateMessage()
        return interaction.guild_id

    def _coins(self, text: str | None) -> tuple[str, ...]:
        if text is None or text.strip().lower() in ("", "all", "*", "every"):
            return ()
        chosen = {self.market.resolve(part).symbol for part in re.split(r"[,\s;]+", text) if part}
        return tuple(c for c in self.market.tracked if c in chosen)

    @app_commands.command(
        name="subscribe", description="Post market alerts to a channel (or change what it gets)"
    )
    @app_commands.describe(
        channel="The channel to post alerts in",
        coins="Coins to watch, e.g. BTC, ETH, SOL (default: every tracked coin)",
        types="Alert types: move, liquidations, large (single liquidations), levels, oi, funding (default: all)",
        thresholds="Your own thresholds, e.g. move_24h=6% liq_floor=2M cooldown=2h (default: /settings alerts)",
        role="A role to ping with each alert (default: no ping)",
    )
    async def subscribe(
        self,
        interaction: discord.Interaction[Any],
        channel: Channel,
        coins: app_commands.Range[str, 1, 200] | None = None,
        types: AlertTypes | None = None,
        thresholds: Thresholds | None = None,
        role: discord.Role | None = None,
    ) -> None:
        guild_id = self._guild(interaction)
        check_in_guild(interaction, channel)
        perms = check_can_post(interaction, channel.id)
        watched = self._coins(coins)
        rules = types if types is not None else RULES
        # the server's alert defaults (/settings alerts) first, this command's own on top
        server = (await self.market.guilds.get(guild_id)).alert_thresholds
        overrides = {**server, **(thresholds or {})}
        role_id = None
        if role is not None:
            if role.id == guild_id:
                raise UserFacingError("Alerts never ping @everyone: pick a role.")
            if not role.mentionable and not perms.mention_everyone:
                raise UserFacingError(
                    f"I can't ping <@&{role.id}>: make the role mentionable, or give me the "
                    "Mention All Roles permission in that channel."
                )
            role_id = role.id
        now = self.market.clock()
        sub = Subscription(
            guild_id=guild_id,
            channel_id=channel.id,
            coins=watched,
            rules=rules,
            thresholds=overrides,
            role_id=role_id,
            created_by=interaction.user.id,
            created_at=now,
            updated_at=now,
        )
        created = await self.service.subscribe(sub)
        saved = await self.service.subscription(guild_id, channel.id) or sub
        await send(
            interaction, embed=subscribed_embed(saved, self.service.config, created=created), ephemeral=True
        )

    @app_commands.command(name="list", description="This server's alert subscriptions and daily briefs")
    async def list_(self, interaction: discord.Interaction[Any]) -> None:
        found = await self.service.guild(self._guild(interaction))
        embed = list_embed(found.subscriptions, found.briefs, self.service.config, self.market.clock())
        await send(interaction, embed=embed, ephemeral=True)

    @app_commands.command(name="unsubscribe", description="Stop a channel's alerts and daily brief")
    @app_commands.describe(
        channel="The channel to stop posting in",
        number="Or its number in /alerts list (for a channel that no longer exists)",
    )
    async def unsubscribe(
        self,
        interaction: discord.Interaction[Any],
        channel: Channel | None = None,
        number: app_commands.Range[int, 1, 25] | None = None,
    ) -> None:
        guild_id = self._guild(interaction)
        if (channel is None) == (number is None):
            raise UserFacingError("Give either a channel or a subscription's number from /alerts list.")
        if channel is not None:
            check_in_guild(interaction, channel)
            channel_id = channel.id
        else:
            subs = (await self.service.guild(guild_id)).subscriptions
            if number is None or number > len(subs):
                raise UserFacingError(f"There is no subscription number {number}: see /alerts list.")
            channel_id = subs[number - 1].channel_id
        alerts, brief = await self.service.unsubscribe(guild_id, channel_id)
        if not alerts and not brief:
            raise UserFacingError(f"<#{channel_id}> has no alerts or daily brief in this server.")
        what = " and ".join(w for w, on in (("alerts", alerts), ("daily brief", brief)) if on)
        await send(interaction, embed=_done(f"Stopped the {what} in <#{channel_id}>."), ephemeral=True)

    @app_commands.command(name="mute", description="Pause alerts for a while (all channels, or one)")
    @app_commands.describe(
        duration="How long, e.g. 30m, 2h, 1d (at most 7d), or off to unmute",
        channel="Only this channel (default: every subscribed channel)",
    )
    async def mute(
        self,
        interaction: discord.Interaction[Any],
        duration: Duration,
        channel: Channel | None = None,
    ) -> None:
        guild_id = self._guild(interaction)
        span = duration
        if span is not None and not MIN_MUTE <= span <= MAX_MUTE:
            raise UserFacingError("Mute for between 1 minute and 7 days (or off).")
        if channel is not None:
            check_in_guild(interaction, channel)
        until = self.market.clock() + span if span is not None else None
        changed = await self.service.mute(guild_id, channel.id if channel else None, until)
        where = f"<#{channel.id}>" if channel else "this server"
        if not changed:
            raise UserFacingError(f"There are no alerts to mute in {where}: see /alerts list.")
        if until is None:
            text = f"🔔 Alerts in {where} are back on."
        else:
            text = (
                f"🔕 Alerts in {where} are muted until {discord_time(until)} ({discord_time(until, 'R')}). "
                "What fires meanwhile is not posted later."
            )
        await send(interaction, embed=_done(text), ephemeral=True)

    @app_commands.command(name="test", description="Post a sample alert to check the bot can post there")
    @app_commands.describe(channel="The channel to test (default: this channel)")
    async def test(self, interaction: discord.Interaction[Any], channel: Channel | None = None) -> None:
        guild_id = self._guild(interaction)
        if channel is not None:
            check_in_guild(interaction, channel)
        channel_id = channel.id if channel is not None else interaction.channel_id
        if channel_id is None:
            raise UserFacingError("Pick a channel to test.")
        await interaction.response.defer(ephemeral=True, thinking=True)
        result = await self.service.send_test(guild_id, channel_id)
        if result.status == "sent":
            await send(interaction, embed=_done(f"Posted a test alert in <#{channel_id}>."), ephemeral=True)
            return
        if result.status == "gone":
            raise UserFacingError(f"<#{channel_id}> no longer exists ({result.reason}).")
        if result.status == "forbidden":
            raise UserFacingError(
                f"I can't post in <#{channel_id}> ({result.reason}): give my role View Channel, "
                "Send Messages and Embed Links there."
            )
        raise UserFacingError(f"Discord did not take the test message ({result.reason}); try again shortly.")

    @app_commands.command(
        name="brief",
        description="A daily market brief (/why for the market plus liquidations) at a local time",
    )
    @app_commands.describe(
        time="Local time of day, HH:MM (24h), e.g. 08:00; or off to stop the brief",
        timezone="Your timezone, e.g. Europe/Berlin or America/New_York (default UTC)",
        channel="Where to post it (default: this channel)",
    )
    async def brief(
        self,
        interaction: discord.Interaction[Any],
        time: LocalTime,
        timezone: Timezone | None = None,
        channel: Channel | None = None,
    ) -> None:
        guild_id = self._guild(interaction)
        if channel is not None:
            check_in_guild(interaction, channel)
        channel_id = channel.id if channel is not None else interaction.channel_id
        if channel_id is None:
            raise UserFacingError("Pick a channel for the brief.")
        if time is None:  # "off"
            if not await self.service.remove_brief(guild_id, channel_id):
                raise UserFacingError(f"<#{channel_id}> has no daily brief.")
            await send(
                interaction, embed=_done(f"Stopped the daily brief in <#{channel_id}>."), ephemeral=True
            )
            return
        local, zone = time, timezone or ZoneInfo("UTC")
        check_can_post(interaction, channel_id)
        brief = await self.service.set_brief(guild_id, channel_id, local, zone.key, interaction.user.id)
        await send(
            interaction,
            embed=_done(
                f"📰 A daily market brief will be posted in <#{channel_id}> at {local} {zone.key}; "
                f"the next one {discord_time(brief.next_due)} ({discord_time(brief.next_due, 'R')})."
            ),
            ephemeral=True,
        )

    @brief.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction[Any], current: str
    ) -> list[app_commands.Choice[str]]:
        text = current.strip().lower().replace(" ", "_")
        names = _timezones()
        first = [n for n in names if n.lower().startswith(text)]
        rest = [n for n in names if text in n.lower() and n not in first]
        return [app_commands.Choice(name=n, value=n) for n in (first + rest)[:25]]


async def setup(bot: TapewatchBot) -> None:
    service = bot.services.alerts
    timeout = service.market.settings.discord.post_timeout_seconds
    service.attach(Dispatcher(bot, concurrency=service.concurrency, timeout=timeout))
    bot.add_dynamic_items(WhyButton)
    await bot.add_cog(AlertsCog(service, bot.services.market))
