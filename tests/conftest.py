from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.app import App, build_app
from bot.client import TapewatchBot, TapewatchTree
from bot.clock import FrozenClock
from bot.errors import UserFacingError
from bot.offline import OfflineSession
from bot.settings import Settings, load_settings
from tests.helpers import every_venue_at

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit the developer's TAPEWATCH_* settings or token."""
    import os

    for key in list(os.environ):
        if key.startswith("TAPEWATCH_") or key == "DISCORD_TOKEN":
            monkeypatch.delenv(key)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Every venue points at a closed loopback port: no test can reach the internet by accident.
    return load_settings(
        db=tmp_path / "store.db",
        coins=["BTC", "ETH", "SOL", "BNB", "XRP", "PEPE"],
        providers=every_venue_at("http://127.0.0.1:9"),
    )


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[App]:
    built = build_app(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def command_errors(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Every error a command raised that is not a user-facing one: tests assert it stays empty."""
    errors: list[BaseException] = []
    original = TapewatchTree.on_error

    async def collecting(
        self: TapewatchTree,
        interaction: discord.Interaction[TapewatchBot],
        error: app_commands.AppCommandError,
    ) -> None:
        cause = getattr(error, "original", None) or error.__cause__ or error
        if not isinstance(cause, UserFacingError | app_commands.CheckFailure):
            errors.append(cause)
        await original(self, interaction, error)

    monkeypatch.setattr(TapewatchTree, "on_error", collecting)
    return errors


@pytest.fixture
async def session(app: App, command_errors: list[BaseException]) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=app.services)) as s:
        yield s
    assert command_errors == []
