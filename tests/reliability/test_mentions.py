"""Mentions: data and input containing ``@everyone``, ``@here``, ``<@&role>`` or ``<@user>`` never
produce a ping. Discord pings whatever the message text says unless ``allowed_mentions`` says
otherwise, so the assertion is on ``allowed_mentions`` of every message the fake Discord
received (replies, deferred follow-ups, channel posts) — scanned from ``FakeDiscord.requests``,
not from what the bot meant to send.

The poison sits everywhere a message takes text from: the user's input (coin options), a coin's
name (the registry), a venue's error text and a source name (``/status``), the data label of a
scenario store (every footer), an unexpected exception's message, a user-facing error's message,
and every string option of every command in the tree.
"""

from __future__ import annotations

import dataclasses
import shlex
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from discord import app_commands

from bot.app import App
from bot.client import TapewatchBot
from bot.coins import CoinRegistry
from bot.errors import UserFacingError
from bot.fake_discord import CHANNEL_ID
from bot.offline import OfflineSession
from tests.reliability.conftest import BuiltScenario, assert_no_pings, message_payloads, scenario_app_copy

EVERYONE, HERE, ROLE, USER = "@everyone", "@here", "<@&123>", "<@456>"
POISON = f"{EVERYONE} {HERE} {ROLE} {USER}"
EXACT: dict[str, list[str]] = {"parse": []}


@pytest.fixture
def poisoned_app(selloff_db: BuiltScenario, tmp_path: Path) -> Iterator[App]:
    app = scenario_app_copy(selloff_db, tmp_path, data_label=f"scenario {POISON}")
    market = app.services.market
    # a coin whose name carries mentions (registry data)
    coins = [
        dataclasses.replace(c, name=f"Bitcoin {POISON}") if c.symbol == "BTC" else c
        for c in market.registry.coins.values()
    ]
    market.registry = CoinRegistry(coins)
    # a venue's error text and a source name (shown by /status)
    now = market.clock()
    store = app.store.sync
    store.record_failure("binance-futures", now, f"HTTP 400 on /fapi: {POISON}")
    # stale, so /status lists it (sources that are ok are only counted)
    store.record_success(f"{USER}-feed", now - timedelta(days=3), f"2 rows {ROLE}")
    yield app
    app.close()


@pytest.fixture
async def poisoned(poisoned_app: App, command_errors: list[BaseException]) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=poisoned_app.services)) as session:
        yield session


def texts(payloads: list[dict[str, Any]]) -> str:
    return repr(payloads)


MARKET_COMMANDS = [
    "/price coin:btc",
    f"/price {shlex.quote('coin:' + EVERYONE)}",
    f"/price {shlex.quote('coin:' + ROLE + ' btc')}",
    "/why",
    "/why coin:btc window:1h",
    f"/why {shlex.quote('coin:' + USER)}",
    "/liquidations",
    "/liquidations coin:btc window:24h",
    f"/liquidations {shlex.quote('coin:' + HERE)}",
    "/levels coin:btc",
    f"/levels {shlex.quote('coin:' + POISON)}",
    "/status",
]


async def test_market_commands_never_ping(
    poisoned: OfflineSession, command_errors: list[BaseException]
) -> None:
    for text in MARKET_COMMANDS:
        await poisoned.invoke(text)
    assert command_errors == []
    payloads = assert_no_pings(poisoned.fake.requests)
    assert len(payloads) >= len(MARKET_COMMANDS)
    assert all(p["allowed_mentions"] == EXACT for p in payloads)
    # the poison did reach the messages: the test would catch a ping
    shown = texts(payloads)
    for needle in (EVERYONE, HERE, ROLE, USER, f"Bitcoin {POISON}", f"scenario {POISON}", "-feed"):
        assert needle in shown, f"{needle!r} never reached a message: the check proves nothing"


async def test_error_replies_never_ping(
    poisoned: OfflineSession,
    poisoned_app: App,
    command_errors: list[BaseException],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    market = poisoned_app.services.market

    async def user_error(*_: Any) -> None:
        raise UserFacingError(f"nothing for {POISON}")

    async def crash(*_: Any) -> None:
        raise RuntimeError(f"boom {POISON}")

    monkeypatch.setattr(market, "price", user_error)
    await poisoned.invoke("/price coin:btc")
    monkeypatch.setattr(market, "price", crash)
    await poisoned.invoke("/price coin:eth")
    assert [type(e) for e in command_errors] == [RuntimeError]  # the crash, reported and logged
    command_errors.clear()
    payloads = assert_no_pings(poisoned.fake.requests)
    assert [p["allowed_mentions"] for p in payloads] == [EXACT, EXACT]
    assert all(p["flags"] & 64 for p in payloads)  # both ephemeral
    assert POISON in texts(payloads[:1])  # the user-facing error is shown as written
    assert "boom" not in texts(payloads[1:])  # the crash is not


def _filled(param: app_commands.Parameter) -> str | None:
    if param.choices:
        return str(param.choices[0].value)
    if param.type is discord.AppCommandOptionType.string:
        # as long as Discord would let a user type into this option
        return POISON[: int(param.max_value)] if param.max_value else POISON
    if param.type is discord.AppCommandOptionType.channel:
        return str(CHANNEL_ID)
    if param.type in (discord.AppCommandOptionType.integer, discord.AppCommandOptionType.number):
        return str(int(param.min_value or 1))
    if param.type is discord.AppCommandOptionType.boolean:
        return "true"
    return None


async def test_every_command_with_mentions_in_every_option_never_pings(
    poisoned: OfflineSession, command_errors: list[BaseException]
) -> None:
    """Walks the whole tree, so commands added later are covered too."""
    ran = 0
    for cmd in poisoned.bot.tree.walk_commands():
        if not isinstance(cmd, app_commands.Command):
            continue
        options = {p.name: _filled(p) for p in cmd.parameters}
        if any(v is None for p, v in zip(cmd.parameters, options.values(), strict=True) if p.required):
            continue  # an option type the offline parser cannot type
        typed = " ".join(shlex.quote(f"{k}:{v}") for k, v in options.items() if v is not None)
        await poisoned.invoke(f"/{cmd.qualified_name} {typed}")
        ran += 1
    assert ran >= len(MARKET_COMMANDS) // 3
    assert command_errors == []
    payloads = assert_no_pings(poisoned.fake.requests)
    assert payloads
    assert POISON in texts(payloads)


async def test_every_request_with_a_message_is_scanned(poisoned: OfflineSession) -> None:
    """The scan has no blind spot: each answered command left a message payload that
    ``message_payloads`` found (deferred replies are found through their follow-ups)."""
    for text in ("/levels coin:btc", "/liquidations coin:btc", "/status"):
        start = len(poisoned.fake.requests)
        await poisoned.invoke(text)
        found = message_payloads(poisoned.fake.requests[start:])
        assert found, text
