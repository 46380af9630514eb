"""The /alerts subscribe options that need parsing, as app-command transformers: a value that
does not parse reaches the user as one line through the tree's one error path (a
:class:`~bot.errors.UserFacingError` inside discord.py's ``TransformerError``), like the
durations and times of :mod:`bot.timeparse`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

import discord
from discord import app_commands

from bot.alerts.config import RuleName, ThresholdError, parse_rules, parse_thresholds
from bot.errors import UserFacingError

if TYPE_CHECKING:
    from bot.client import TapewatchBot


class _TextArg(app_commands.Transformer):
    """A string option of 1 to ``max_length`` characters."""

    max_length = 100

    @property
    def min_value(self) -> int:
        return 1

    @property
    def max_value(self) -> int:
        return self.max_length


class AlertTypesArg(_TextArg):
    """``move, liquidations`` (or ``all``) → the rule names in canonical order."""

    async def transform(self, interaction: discord.Interaction[Any], value: str, /) -> tuple[RuleName, ...]:
        try:
            return parse_rules(value)
        except ValueError as exc:
            raise UserFacingError(f"Types: {exc}.") from None


class ThresholdsArg(_TextArg):
    """``move_24h=6% liq_floor=2M`` → config overrides, checked against the bot's own alert
    config (the alerts service the bot was built with)."""

    max_length = 300

    async def transform(self, interaction: discord.Interaction[Any], value: str, /) -> dict[str, float]:
        bot = cast("TapewatchBot", interaction.client)
        try:
            return parse_thresholds(value, bot.services.alerts.config)
        except ThresholdError as exc:
            raise UserFacingError(f"Thresholds: {exc}.") from None


AlertTypes = app_commands.Transform[tuple[RuleName, ...], AlertTypesArg]
Thresholds = app_commands.Transform[dict[str, float], ThresholdsArg]
