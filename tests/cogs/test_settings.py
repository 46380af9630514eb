"""/settings through the real discord.py path against the fake Discord: who may change a
server's settings, isolation between servers, bad input that saves nothing, and the settings
reaching the answers (the market /why's majors line, default windows, autocomplete order, the
thresholds new alert subscriptions start from)."""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.alerts import store as alerts_db
from bot.app import App
from bot.client import TapewatchBot
from bot.fake_discord import GUILD_ID, DiscordRequest
from tests.alerts.conftest import ADMIN, CH_B, MEMBER, ShapedSession, replies, reply_text
from tests.helpers import open_scenario

_guilds = itertools.count(GUILD_ID + 100)


@pytest.fixture(scope="module")
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


@pytest.fixture
async def shaped(selloff: App, command_errors: list[BaseException]) -> AsyncIterator[ShapedSession]:
    async with ShapedSession(TapewatchBot(services=selloff.services)) as s:
        yield s
    assert command_errors == []


@pytest.fixture
def two_guilds() -> tuple[int, int]:
    """Two servers of their own for each test (the scenario store is shared by the module)."""
    return next(_guilds), next(_guilds)


def stored(app: App, guild_id: int) -> dict[str, Any] | None:
    row = app.store.sync.guild_settings(guild_id)
    return None if row is None else dict(row)


async def as_admin(shaped: ShapedSession, guild_id: int, text: str) -> list[DiscordRequest]:
    shaped.as_member(ADMIN, guild_id)
    return await shaped.invoke(text)


def only_reply(requests: list[DiscordRequest]) -> dict[str, Any]:
    [reply] = replies(requests)
    return reply


def breadth_line(requests: list[DiscordRequest]) -> str:
    [embed] = only_reply(requests)["embeds"]
    return next(f["value"] for f in embed["fields"] if "Breadth" in f["name"])


def footer(requests: list[DiscordRequest]) -> str:
    [embed] = only_reply(requests)["embeds"]
    return str(embed["footer"]["text"])


CHANGES = [
    "/settings shortlist coins:btc,eth",
    "/settings window value:4h",
    "/settings alerts thresholds:move_24h=8%",
    "/settings reset",
    "/settings show",
]


@pytest.mark.parametrize("command", CHANGES)
async def test_a_member_without_manage_server_is_refused(
    selloff: App, shaped: ShapedSession, two_guilds: tuple[int, int], command: str
) -> None:
    guild, _ = two_guilds
    await as_admin(shaped, guild, "/settings window value:7d")
    before = stored(selloff, guild)
    shaped.as_member(MEMBER, guild)
    requests = await shaped.invoke(command)
    reply = only_reply(requests)
    assert reply["flags"] & 64
    assert reply_text(requests) == "Changing this server's settings needs the Manage Server permission."
    assert stored(selloff, guild) == before


async def test_the_group_is_guild_only_and_hidden_from_members(shaped: ShapedSession) -> None:
    bot = shaped.bot
    schema = next(c for c in bot.tree.get_commands() if c.name == "settings").to_dict(bot.tree)
    assert int(schema["default_member_permissions"]) == 32  # Manage Server
    assert schema["contexts"] == [0]  # servers only


async def test_settings_are_isolated_between_servers(
    selloff: App, shaped: ShapedSession, two_guilds: tuple[int, int]
) -> None:
    a, b = two_guilds
    await as_admin(shaped, a, '/settings shortlist coins:"doge ada pepe"')
    await as_admin(shaped, a, "/settings window value:4h")
    shown_b = reply_text(await as_admin(shaped, b, "/settings show"))
    assert "DOGE" not in shown_b
    assert "the bot's default" in shown_b
    assert stored(selloff, b) is None
    # B's admin resetting B leaves A's settings alone
    await as_admin(shaped, b, "/settings reset")
    row = stored(selloff, a)
    assert row is not None
    assert row["shortlist"] == ["DOGE", "ADA", "PEPE"]
    assert row["default_window"] == "4h"
    shown_a = reply_text(await as_admin(shaped, a, "/settings show"))
    assert "DOGE, ADA, PEPE" in shown_a
    assert "4h" in shown_a


async def test_the_market_answer_shows_each_servers_shortlist(
    shaped: ShapedSession, two_guilds: tuple[int, int]
) -> None:
    a, b = two_guilds
    await as_admin(shaped, a, '/settings shortlist coins:"doge ada"')
    await as_admin(shaped, b, "/settings shortlist coins:link,pepe,sui")
    line_a = breadth_line(await as_admin(shaped, a, "/why"))
    line_b = breadth_line(await as_admin(shaped, b, "/why"))
    assert line_a.startswith("DOGE −"), line_a
    assert ", ADA −" in line_a
    assert "LINK" not in line_a.split(";")[0]
    assert line_b.startswith("LINK −"), line_b
    assert ", PEPE −" in line_b
    assert ", SUI −" in line_b
    assert "DOGE" not in line_b.split(";")[0]
    # asked again, each gets its own answer back from the cache, never the other's
    assert breadth_line(await as_admin(shaped, a, "/why")) == line_a
    assert breadth_line(await as_admin(shaped, b, "/why")) == line_b
    # a server without a shortlist sees the bot's majors
    other = next(_guilds)
    assert breadth_line(await as_admin(shaped, other, "/why")).startswith("BTC −")


async def test_the_default_window_applies_when_none_is_given(
    shaped: ShapedSession, two_guilds: tuple[int, int]
) -> None:
    a, b = two_guilds
    await as_admin(shaped, a, "/settings window value:4h")
    assert "window 4h" in footer(await as_admin(shaped, a, "/why coin:eth"))
    assert "window 24h" in footer(await as_admin(shaped, b, "/why coin:eth"))
    # a window given by the member wins over the server's
    assert "window 1h" in footer(await as_admin(shaped, a, "/why coin:eth window:1h"))
    movers = reply_text(await as_admin(shaped, a, "/movers"))
    assert movers.startswith("Top movers · 4h"), movers[:80]
    assert "24h" not in movers.split("\n")[0]
    liq_a = only_reply(await as_admin(shaped, a, "/liquidations coin:btc"))
    liq_b = only_reply(await as_admin(shaped, b, "/liquidations coin:btc"))
    names_a = [f["name"] for f in liq_a["embeds"][0]["fields"]]
    names_b = [f["name"] for f in liq_b["embeds"][0]["fields"]]
    assert names_a[0] == "4h", names_a
    assert "30d" not in names_a
    assert {"1h", "24h", "7d", "30d"} <= set(names_b)  # the bot's default: side by side


@pytest.mark.parametrize(
    ("command", "says"),
    [
        ("/settings shortlist coins:btc,notacoin", "not a coin I know: notacoin"),
        ("/settings shortlist coins:btc,inj", "not tracked on this bot: INJ"),
        ("/settings shortlist coins:btc,eth,sol,bnb,xrp,doge,ada,trx,avax", "up to 8 coins; you gave 9"),
        ("/settings alerts thresholds:move_24h=lots", "move_24h: 'lots' is not a number"),
        ("/settings alerts thresholds:nope=1", "unknown threshold 'nope'"),
    ],
)
async def test_bad_input_is_one_private_line_and_saves_nothing(
    selloff: App, shaped: ShapedSession, two_guilds: tuple[int, int], command: str, says: str
) -> None:
    guild, _ = two_guilds
    requests = await as_admin(shaped, guild, command)
    reply = only_reply(requests)
    assert reply["flags"] & 64
    text = reply_text(requests)
    assert says in text, text
    assert "\n" not in text
    assert stored(selloff, guild) is None


async def test_new_subscriptions_start_from_the_servers_alert_defaults(
    selloff: App, shaped: ShapedSession
) -> None:
    from bot.fake_discord import GUILD_ID as guild  # the channels of the alerts tests live here

    try:
        await as_admin(shaped, guild, "/settings alerts thresholds:move_24h=8%,cooldown=2h")
        await as_admin(shaped, guild, f"/alerts subscribe channel:{CH_B} thresholds:cooldown=3h")
        sub = alerts_db.guild_subscription(selloff.store.sync, guild, CH_B)
        assert sub is not None
        assert sub.thresholds == {"move_24h_pct": 8.0, "cooldown_minutes": 180}
    finally:
        await selloff.services.alerts.unsubscribe(guild, CH_B)
        await selloff.market.guilds.reset(guild, None, None)


async def test_reset_one_setting_keeps_the_others(
    selloff: App, shaped: ShapedSession, two_guilds: tuple[int, int]
) -> None:
    guild, _ = two_guilds
    await as_admin(shaped, guild, "/settings shortlist coins:eth")
    await as_admin(shaped, guild, "/settings window value:7d")
    await as_admin(shaped, guild, "/settings reset what:window")
    row = stored(selloff, guild)
    assert row is not None
    assert (row["shortlist"], row["default_window"]) == (["ETH"], None)


async def test_autocomplete_offers_the_shortlist_first(
    shaped: ShapedSession, two_guilds: tuple[int, int]
) -> None:
    a, b = two_guilds
    await as_admin(shaped, a, "/settings shortlist coins:pepe,sui")
    shaped.as_member(MEMBER, a)
    first = [c["value"] for c in await shaped.autocomplete("/price coin:", "coin")][:3]
    assert first == ["PEPE", "SUI", "BTC"]
    shaped.as_member(MEMBER, b)
    assert [c["value"] for c in await shaped.autocomplete("/price coin:", "coin")][:2] == ["BTC", "ETH"]
