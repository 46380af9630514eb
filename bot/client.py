"""The Discord client: owns the services, the scheduler and the cogs; reports errors once."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import discord
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from discord import app_commands
from discord.ext import commands

from bot.interactions import NO_MENTIONS
from bot.replies import reply_error

if TYPE_CHECKING:
    from bot.app import Services
    from bot.streams.manager import StreamManager

log = logging.getLogger(__name__)

# The bot has no voice features: silence discord.py's start-up warnings about voice libraries.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

EXPIRED_AFTER = timedelta(seconds=3)
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
)


class TapewatchTree(app_commands.CommandTree["TapewatchBot"]):
    # counted for the offline `ask`, whose exit status says whether the command worked
    failures = 0  # crashed: the generic "something went wrong" reply
    refusals = 0  # refused with a message for the user (a bad option, a missing permission)

    async def interaction_check(self, interaction: discord.Interaction[TapewatchBot], /) -> bool:
        """Past the deadline Discord has already told the user it failed, and any reply would be
        refused: drop it without a request, so an overloaded bot spends its time on interactions
        that can still be answered instead of on ones that cannot."""
        if discord.utils.utcnow() - interaction.created_at > EXPIRED_AFTER:
            log.warning("dropped an interaction that was past Discord's 3 s deadline on arrival")
            return False
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

    async def setup_hook(self) -> None:
        for name in COGS:
            await self.load_extension(name)
        if self.scheduler is not None:
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
