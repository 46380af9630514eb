"""The Discord client: owns the services, the scheduler and the cogs; reports errors once."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord import app_commands
from discord.ext import commands

from bot.controls import ControlButton
from bot.interactions import NO_MENTIONS, expired
from bot.presence import PresenceUpdater, register_presence
from bot.replies import reply_error

if TYPE_CHECKING:
    from bot.app import Services
    from bot.streams.manager import StreamManager

log = logging.getLogger(__name__)

# The bot has no voice features: silence discord.py's start-up warnings about voice libraries.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

# Unless a command says otherwise (the read-only ones do: cogs._common.everywhere), it is for
# servers that installed the bot, used in them: what alerts and settings need.
SERVER_ONLY = app_commands.AppCommandContext(guild=True)
SERVER_INSTALL = app_commands.AppInstallationType(guild=True)
COGS = (
    "cogs.market",
    "cogs.liquidations",
    "cogs.levels",
    "cogs.meta",
    "cogs.alerts",
    "cogs.movers",
    "cogs.derivatives",
    "cogs.watch",
    "cogs.help",
    "cogs.settings",
)


class TapewatchTree(app_commands.CommandTree["TapewatchBot"]):
    # counted for the offline `ask`, whose exit status says whether the command worked
    failures = 0  # crashed: the generic "something went wrong" reply
    refusals = 0  # refused with a message for the user (a bad option, a missing permission)

    async def interaction_check(self, interaction: discord.Interaction[TapewatchBot], /) -> bool:
        """Past the deadline Discord has already told the user it failed, and any reply would be
        refused: drop it without a request, so an overloaded bot spends its time on interactions
        that can still be answered instead of on ones that cannot."""
        if expired(interaction):
            return False
        if interaction.command is not None and not offered_here(self, interaction):
            # Discord offers a command only where it is allowed; refuse it anyway if one arrives
            # (an autocomplete cannot be answered with a message: it gets no choices)
            if interaction.type is discord.InteractionType.autocomplete:
                return False
            raise app_commands.NoPrivateMessage()
        return True

    async def on_error(
        self, interaction: discord.Interaction[TapewatchBot], error: app_commands.AppCommandError
    ) -> None:
        original: BaseException = error
        if isinstance(error, app_commands.TransformerError) and error.__cause__ is not None:
            original = error.__cause__
        if isinstance(error, app_commands.CommandInvokeError):
            original = error.original
        command = interaction.command.qualified_name if interaction.command else "?"
        outcome = await reply_error(interaction, original, what=f"/{command}")
        if outcome == "refused":
            self.refusals += 1
        elif outcome == "failed":
            self.failures += 1


def offered_here(tree: app_commands.CommandTree[Any], interaction: discord.Interaction[Any]) -> bool:
    """Whether the interaction's command is allowed in its context (server, bot DM, group DM)
    and under the installation that authorised it (the server's, or the user's)."""
    command = interaction.command
    root = command.root_parent or command if isinstance(command, app_commands.Command) else command
    contexts = tree.allowed_contexts.merge(getattr(root, "allowed_contexts", None) or tree.allowed_contexts)
    installs = tree.allowed_installs.merge(getattr(root, "allowed_installs", None) or tree.allowed_installs)
    where = interaction.context
    if interaction.guild_id is not None and not (where.dm_channel or where.private_channel):
        here = contexts.guild
    else:
        here = contexts.private_channel if where.private_channel else contexts.dm_channel
    by_server, by_user = interaction.is_guild_integration(), interaction.is_user_integration()
    if not (by_server or by_user):  # no installation named: Discord already chose what to offer
        return here
    return here and ((installs.guild and by_server) or (installs.user and by_user))


class TapewatchBot(commands.Bot):
    def __init__(
        self,
        *,
        services: Services,
        scheduler: AsyncIOScheduler | None = None,
        streams: StreamManager | None = None,
        sync_guild: int | None = None,
        sync_commands: bool = False,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=TapewatchTree,
            allowed_contexts=SERVER_ONLY,
            allowed_installs=SERVER_INSTALL,
            allowed_mentions=NO_MENTIONS,
            help_command=None,
            **options,
        )
        self.services = services
        self.data_label = services.data_label
        self.scheduler = scheduler
        self.streams = streams
        self.sync_guild = sync_guild
        self.sync_commands = sync_commands
        self.presence: PresenceUpdater | None = None  # with a scheduler: the price in the presence

    async def setup_hook(self) -> None:
        for name in COGS:
            await self.load_extension(name)
        # the reply controls of /why, /liquidations and /levels answer by their custom_id alone,
        # on any message ever sent, after a restart too
        self.add_dynamic_items(ControlButton)
        if self.scheduler is not None:
            self.presence = PresenceUpdater(self, self.services.market)
            seconds = self.services.market.settings.jobs.tickers_seconds
            register_presence(self.scheduler, self.presence, seconds)
            # AsyncIOScheduler binds to the running loop, so it must start here, not earlier.
            self.scheduler.start()
        if self.streams is not None:
            await self.streams.start()
        if self.sync_commands:
            await self.sync_tree()

    async def sync_tree(self) -> int:
        if self.sync_guild:
            guild = discord.Object(id=self.sync_guild)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to guild %s", len(synced), self.sync_guild)
        else:
            synced = await self.tree.sync()
            log.info("synced %d commands globally (may take up to an hour to appear)", len(synced))
        return len(synced)

    async def close(self) -> None:
        if self.streams is not None:
            await self.streams.stop()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        await super().close()


class ShardedTapewatchBot(TapewatchBot, commands.AutoShardedBot):
    """The same bot as gateway shards (discord.py's ``AutoShardedBot``): ``shard_ids`` of
    ``shard_count``, so several processes each hold some of the guilds. Discord sends each
    guild's events to the shard ``(guild_id >> 22) % shard_count``; the store is shared."""
