"""Meta-tests of the slash command tree: a schema snapshot (what ``tree.sync()`` would send),
descriptions, unique names, and the README's command table."""

from __future__ import annotations

import json
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from discord import app_commands

from bot.app import App
from bot.client import COGS, TapewatchBot

SNAPSHOT = Path(__file__).parent / "snapshots" / "commands.json"
README = Path(__file__).parents[1] / "README.md"


@pytest.fixture
async def bot(app: App) -> AsyncIterator[TapewatchBot]:
    b = TapewatchBot(services=app.services)
    for name in COGS:
        await b.load_extension(name)
    yield b
    await b.close()


def schema(bot: TapewatchBot) -> list[dict[str, Any]]:
    return sorted((c.to_dict(bot.tree) for c in bot.tree.get_commands()), key=lambda c: c["name"])


async def test_schema_matches_snapshot(bot: TapewatchBot) -> None:
    current = schema(bot)
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text()), (
        "run with UPDATE_SNAPSHOTS=1 if the change is intended"
    )


async def test_every_command_is_described_and_unique(bot: TapewatchBot) -> None:
    names = [c.qualified_name for c in bot.tree.walk_commands()]
    assert len(names) == len(set(names))
    for cmd in bot.tree.walk_commands():
        assert cmd.description not in ("", "…"), cmd.qualified_name
        if isinstance(cmd, app_commands.Command):
            for p in cmd.parameters:
                assert p.description not in ("", "…"), f"{cmd.qualified_name} {p.name}"


async def test_every_command_is_in_the_readme(bot: TapewatchBot) -> None:
    text = README.read_text()
    for cmd in bot.tree.walk_commands():
        if isinstance(cmd, app_commands.Command):
            assert re.search(rf"`/{re.escape(cmd.qualified_name)}\b", text), (
                f"/{cmd.qualified_name} missing from README"
            )
