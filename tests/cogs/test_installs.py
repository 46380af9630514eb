"""User installs: the read-only commands are offered to users who install the app and work in
DMs and group DMs; /alerts stays with servers that installed the bot — in the synced payload
Discord receives, and refused by the bot itself should one arrive anyway."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.app import App
from bot.client import TapewatchBot
from bot.fake_discord import USER_ID, message_payload
from bot.offline import InvocationError, OfflineSession, parse_invocation
from tests.helpers import open_scenario

READ_ONLY = {"why", "price", "levels", "liquidations", "movers", "derivatives", "help", "status", "watch"}
SERVER_ONLY = {"alerts", "settings"}
GUILD, DM, PRIVATE = 0, 1, 2
GUILD_INSTALL, USER_INSTALL = 0, 1


@pytest.fixture(scope="module")
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


@pytest.fixture
async def synced(selloff: App, command_errors: list[BaseException]) -> AsyncIterator[OfflineSession]:
    """A session whose commands were synced to the fake, so it offers only what Discord would."""
    async with OfflineSession(TapewatchBot(services=selloff.services)) as s:
        await s.bot.sync_tree()
        yield s
        assert s.fake.refused == []
    assert command_errors == []


def reply(requests: list[Any]) -> dict[str, Any]:
    return next(
        message_payload(r)
        for r in reversed(requests)
        if ("/callback" in r.path or r.path.startswith("/webhooks/")) and message_payload(r).get("embeds")
    )


async def test_the_synced_payload_carries_contexts_and_install_types(synced: OfflineSession) -> None:
    commands = {c["name"]: c for c in synced.fake.synced[None]}
    assert set(commands) == READ_ONLY | SERVER_ONLY
    for name in READ_ONLY:
        assert commands[name]["contexts"] == [GUILD, DM, PRIVATE], name
        assert commands[name]["integration_types"] == [GUILD_INSTALL, USER_INSTALL], name
    assert commands["alerts"]["contexts"] == [GUILD]
    assert commands["alerts"]["integration_types"] == [GUILD_INSTALL]
    in_dms = {n for n in commands if synced.fake.offered(n, context=DM, install=USER_INSTALL)}
    assert in_dms == READ_ONLY


@pytest.mark.parametrize("where", ["dm", "private"])
async def test_a_read_only_command_answers_in_a_dm(synced: OfflineSession, where: str) -> None:
    requests = await synced.invoke("/why coin:ETH", where=where, install="user")  # type: ignore[arg-type]
    payload = reply(requests)
    assert payload["embeds"][0]["title"].startswith("ETH ")
    assert payload["allowed_mentions"] == {"parse": []}
    labels = [c["label"] for row in payload["components"] for c in row["components"]]
    assert "Delete" in labels
    assert "24h" in labels


async def test_buttons_work_in_a_dm(synced: OfflineSession) -> None:
    await synced.invoke("/liquidations coin:BTC", where="dm", install="user")
    message = next(m for m in reversed(synced.fake.stored.values()) if m.get("embeds"))
    custom_id = next(
        c["custom_id"] for row in message["components"] for c in row["components"] if c["label"] == "4h"
    )
    requests = await synced.click(message, custom_id, where="dm", install="user")
    assert not [r for r in requests if r.method == "POST" and r.path.startswith("/webhooks/")]
    assert synced.fake.stored[message["id"]]["embeds"][0]["fields"][0]["name"] == "4h"
    # through the interaction's token: no channel route, which a user install could not reach
    assert not [r for r in requests if r.path.startswith("/channels/")]


async def test_alerts_are_not_offered_in_a_dm_nor_to_a_user_install(synced: OfflineSession) -> None:
    with pytest.raises(InvocationError, match="does not offer /alerts"):
        await synced.invoke("/alerts list", where="dm", install="user")
    with pytest.raises(InvocationError, match="does not offer /alerts"):
        await synced.invoke("/alerts list", where="guild", install="user")


@pytest.mark.parametrize(("where", "install"), [("dm", "user"), ("private", "user"), ("guild", "user")])
async def test_alerts_sent_anyway_are_refused_and_change_nothing(
    synced: OfflineSession, selloff: App, where: str, install: str
) -> None:
    """Should Discord deliver /alerts where it is not allowed, the bot refuses it itself."""
    invocation = parse_invocation("/alerts test", synced.bot.tree)
    payload = synced._interaction(2, invocation, where=where, install=install)  # type: ignore[arg-type]
    requests = await synced._dispatch(payload)
    answer = reply(requests)
    assert answer["flags"] & 64
    assert answer["embeds"][0]["description"] == "This command only works inside a server."
    assert not [r for r in requests if r.path.startswith("/channels/")]  # no test alert posted
    assert selloff.store.sync.all_alert_subscriptions() == []


async def test_a_server_install_in_its_server_still_works(synced: OfflineSession) -> None:
    requests = await synced.invoke("/price coin:BTC", user=USER_ID)
    assert reply(requests)["embeds"][0]["title"].startswith("BTC ")


async def test_autocomplete_where_a_command_is_not_allowed_offers_nothing(synced: OfflineSession) -> None:
    invocation = parse_invocation("/alerts subscribe channel:1 coins:b", synced.bot.tree, partial=True)
    invocation.options[0]["options"][1]["focused"] = True
    payload = synced._interaction(4, invocation, where="dm", install="user")
    requests = await synced._dispatch(payload)
    assert requests == []  # no message sent to an autocomplete (Discord would refuse it)
