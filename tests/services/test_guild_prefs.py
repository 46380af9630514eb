"""The server settings service: defaults outside a guild, one store read for a burst of
commands from one server, and a write that is seen at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bot.analysis.breadth import MAJORS
from bot.app import App
from bot.errors import UserFacingError
from bot.services.guild_prefs import GuildPrefs, parse_shortlist, parse_window

GUILD = 42


def count_reads(app: App, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    store = app.store.sync
    reads: list[int] = []
    original = store.guild_settings

    def counting(guild_id: int) -> Any:
        reads.append(guild_id)
        return original(guild_id)

    monkeypatch.setattr(store, "guild_settings", counting)
    return reads


async def test_a_burst_from_one_server_reads_the_store_once(
    app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = count_reads(app, monkeypatch)
    guilds = app.market.guilds
    found = await asyncio.gather(*(guilds.get(GUILD) for _ in range(50)))
    assert reads == [GUILD]
    assert all(p == GuildPrefs(guild_id=GUILD) for p in found)
    assert await guilds.get(None) == GuildPrefs()  # a DM: the bot's defaults, no read
    assert reads == [GUILD]


async def test_a_write_is_seen_at_once_and_by_its_server_only(app: App) -> None:
    guilds = app.market.guilds
    assert (await guilds.get(GUILD)).majors == MAJORS
    await guilds.set_shortlist(GUILD, ("SOL", "ETH"), 7)
    await guilds.set_window(GUILD, "4h", 7)
    prefs = await guilds.get(GUILD)
    assert (prefs.majors, prefs.window, prefs.updated_by) == (("SOL", "ETH"), "4h", 7)
    assert prefs.coin_order(["BTC", "ETH", "SOL", "XRP"]) == ["SOL", "ETH", "BTC", "XRP"]
    assert await guilds.window(GUILD, None) == "4h"
    assert await guilds.window(GUILD, "1h") == "1h"  # what the member asked wins
    assert await guilds.window(GUILD + 1, None) == "24h"
    assert await guilds.window(GUILD + 1, None, fallback=None) is None
    await guilds.reset(GUILD, "shortlist", 7)
    assert (await guilds.get(GUILD)).majors == MAJORS
    assert (await guilds.get(GUILD)).window == "4h"


def test_parsing_refuses_with_one_line(app: App) -> None:
    tracked = app.market.tracked
    assert parse_shortlist("btc, $ETH sol btc", app.registry, tracked) == ("BTC", "ETH", "SOL")
    with pytest.raises(UserFacingError, match="up to 8 coins; you gave 9"):
        parse_shortlist("btc eth sol bnb xrp doge ada trx avax", app.registry, tracked)
    with pytest.raises(UserFacingError, match="not a coin I know: zzz"):
        parse_shortlist("btc zzz", app.registry, tracked)
    with pytest.raises(UserFacingError, match="default window is one of 1h, 4h, 24h, 7d"):
        parse_window("30d")
