"""/alerts through the real discord.py path: who may use each subcommand (an admin, a member,
a channel manager, members of another server), what is validated, and that a rejected input
writes nothing."""

from __future__ import annotations

from typing import Any

import discord
import pytest

from bot.alerts import store as db
from bot.app import App
from bot.fake_discord import CHANNEL_ID, GUILD_ID
from tests.alerts.conftest import (
    ADMIN,
    CH_A,
    CH_B,
    MEMBER,
    OTHER_GUILD_ID,
    ROLE_ID,
    ShapedSession,
    channel_posts,
    replies,
    reply_text,
    role_payload,
)
from tests.alerts.test_engine import subscription


def alert_rows(app: App) -> dict[str, list[dict[str, Any]]]:
    store = app.store.sync
    out = {}
    for table in ("alert_subscriptions", "alert_state", "alert_briefs"):
        with store.lock:
            cur = store.conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
            names = [d[0] for d in cur.description]
            out[table] = [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
    return out


async def seed_guild(app: App) -> None:
    """The test server already has two subscribed channels."""
    await app.services.alerts.subscribe(subscription(CH_A, coins=("ETH",)))
    await app.services.alerts.subscribe(subscription(CH_B, coins=("SOL",)))


COMMANDS = {
    "subscribe": f"/alerts subscribe channel:{CH_B} coins:BTC",
    "list": "/alerts list",
    "unsubscribe": f"/alerts unsubscribe channel:{CH_B}",
    "mute": f"/alerts mute duration:1h channel:{CH_B}",
    "mute-all": "/alerts mute duration:1h",
    "test": f"/alerts test channel:{CH_B}",
    "brief": f"/alerts brief time:08:00 timezone:Europe/Berlin channel:{CH_B}",
}
MANAGE_CHANNELS_IN_B = MEMBER | discord.Permissions(manage_channels=True)

# who → (member permissions, their permissions in CH_B, guild)
WHO = {
    "admin": (ADMIN, ADMIN, GUILD_ID),
    "member": (MEMBER, MEMBER, GUILD_ID),
    "channel manager": (MEMBER, MANAGE_CHANNELS_IN_B, GUILD_ID),
    "other server's admin": (ADMIN, ADMIN, OTHER_GUILD_ID),
    "other server's member": (MEMBER, MEMBER, OTHER_GUILD_ID),
}
DENIED = "Managing this server's alerts needs the Manage Server permission, or Manage Channels in"
# what each one gets: ok, denied, or elsewhere (they manage another server: this one's
# channels and subscriptions are out of their reach)
EXPECTED = {
    "admin": dict.fromkeys(COMMANDS, "ok"),
    "member": dict.fromkeys(COMMANDS, "denied"),
    "channel manager": {**dict.fromkeys(COMMANDS, "ok"), "list": "denied", "mute-all": "denied"},
    "other server's admin": dict.fromkeys(COMMANDS, "elsewhere"),
    "other server's member": dict.fromkeys(COMMANDS, "denied"),
}


@pytest.mark.parametrize("who", list(WHO))
@pytest.mark.parametrize("command", list(COMMANDS))
async def test_permission_matrix(app: App, shaped: ShapedSession, who: str, command: str) -> None:
    await seed_guild(app)
    member, in_b, guild = WHO[who]
    shaped.as_member(member, guild)
    shaped.in_channel[CH_B] = in_b
    before = alert_rows(app)
    requests = await shaped.invoke(COMMANDS[command])
    [reply] = replies(requests)
    assert reply["flags"] & 64  # every /alerts answer is private
    assert reply["allowed_mentions"] == {"parse": []}
    text = reply_text(requests)
    outcome = EXPECTED[who][command]
    if outcome == "denied":
        assert text.startswith(DENIED), text
        assert alert_rows(app) == before
        assert channel_posts(requests) == []
        return
    if outcome == "elsewhere":
        if command == "list":
            assert "No channel is subscribed" in text
        elif command == "mute-all":
            assert text == "There are no alerts to mute in this server: see /alerts list."
        else:
            assert text == "That channel is not in this server."
        assert alert_rows(app) == before
        assert channel_posts(requests) == []
        return
    after = alert_rows(app)
    if command == "subscribe":
        sub = db.guild_subscription(app.store.sync, GUILD_ID, CH_B)
        assert sub is not None
        assert sub.coins == ("BTC",)
        assert reply["embeds"][0]["title"] == "Alerts updated"
    elif command == "list":
        assert f"<#{CH_A}>: ETH" in text
        assert f"<#{CH_B}>: SOL" in text
        assert after == before
    elif command == "unsubscribe":
        assert [r["channel_id"] for r in after["alert_subscriptions"]] == [CH_A]
        assert text == f"Stopped the alerts in <#{CH_B}>."
    elif command.startswith("mute"):
        muted = {r["channel_id"]: r["muted_until_ms"] for r in after["alert_subscriptions"]}
        assert muted[CH_B] is not None
        assert (muted[CH_A] is not None) == (command == "mute-all")
        assert "muted until" in text
    elif command == "test":
        [post] = channel_posts(requests)
        assert post.path == f"/channels/{CH_B}/messages"
        assert post.json["allowed_mentions"] == {"parse": []}
        assert post.json["embeds"][0]["title"] == "🧪 Test alert: Tapewatch can post here"
        assert text == f"Posted a test alert in <#{CH_B}>."
        assert after == before
    elif command == "brief":
        [brief] = after["alert_briefs"]
        assert (brief["channel_id"], brief["local_time"], brief["timezone"]) == (
            CH_B,
            "08:00",
            "Europe/Berlin",
        )


async def test_the_group_is_for_server_managers_and_servers_only(shaped: ShapedSession) -> None:
    group = shaped.bot.tree.get_command("alerts")
    assert group is not None
    schema = group.to_dict(shaped.bot.tree)
    assert schema["default_member_permissions"] == discord.Permissions(manage_guild=True).value
    assert schema["contexts"] == [0]  # guild only
    assert sorted(c["name"] for c in schema["options"]) == [
        "brief",
        "list",
        "mute",
        "subscribe",
        "test",
        "unsubscribe",
    ]
    subscribe = next(c for c in schema["options"] if c["name"] == "subscribe")
    channel = next(o for o in subscribe["options"] if o["name"] == "channel")
    assert channel["channel_types"] == [0, 5]  # text and announcement channels


# -- validation: rejected input writes nothing ---------------------------------------------------------


@pytest.mark.parametrize(
    ("invocation", "message"),
    [
        (f"/alerts subscribe channel:{CH_A} coins:DOGGO", "unknown coin 'DOGGO'. Tracked coins: BTC, ETH"),
        (f"/alerts subscribe channel:{CH_A} types:whales", "Types: unknown alert type 'whales'"),
        (f"/alerts subscribe channel:{CH_A} thresholds:speed=3", "Thresholds: unknown threshold 'speed'"),
        (
            f"/alerts subscribe channel:{CH_A} thresholds:move_1h=0",
            "Thresholds: move_1h: input should be greater than 0",
        ),
        (f"/alerts subscribe channel:{CH_A} role:{GUILD_ID}", "Alerts never ping @everyone: pick a role."),
        (f"/alerts brief time:25:00 channel:{CH_A}", "'25:00' is not a time of day"),
        (f"/alerts brief time:08:00 timezone:Mars/Olympus channel:{CH_A}", "Unknown timezone 'Mars/Olympus'"),
        ("/alerts mute duration:soon", "Duration: 'soon' is not a duration"),
        ("/alerts mute duration:30d", "Mute for between 1 minute and 7 days (or off)."),
        (f"/alerts unsubscribe channel:{CH_A}", f"<#{CH_A}> has no alerts or daily brief in this server."),
        ("/alerts unsubscribe", "Give either a channel or a subscription's number from /alerts list."),
    ],
)
async def test_bad_input_is_explained_and_changes_nothing(
    app: App, shaped: ShapedSession, invocation: str, message: str
) -> None:
    before = alert_rows(app)
    requests = await shaped.invoke(invocation)
    assert reply_text(requests).startswith(message), reply_text(requests)
    assert alert_rows(app) == before


async def test_the_bot_must_be_able_to_post_there(app: App, shaped: ShapedSession) -> None:
    shaped.bot_in[CH_A] = discord.Permissions(view_channel=True, send_messages=True)
    requests = await shaped.invoke(f"/alerts subscribe channel:{CH_A}")
    assert reply_text(requests) == (
        f"I can't post alerts in <#{CH_A}>: I'm missing Embed Links there. "
        "Give my role those permissions in the channel's settings, then try again."
    )
    shaped.bot_in[CH_A] = discord.Permissions.none()
    requests = await shaped.invoke(f"/alerts brief time:08:00 channel:{CH_A}")
    assert "I'm missing View Channel, Send Messages, Embed Links there" in reply_text(requests)
    assert alert_rows(app) == {"alert_subscriptions": [], "alert_state": [], "alert_briefs": []}


async def test_in_the_channel_itself_the_interactions_app_permissions_decide(
    app: App, shaped: ShapedSession
) -> None:
    # "channel:console" is the channel the command is used in: its permissions come with the
    # interaction (app_permissions), not from the resolved channel
    shaped.bot_in[CHANNEL_ID] = discord.Permissions.none()
    requests = await shaped.invoke("/alerts subscribe channel:console coins:BTC,ETH types:move,oi")
    assert replies(requests)[0]["embeds"][0]["title"] == "Alerts subscribed"
    sub = db.guild_subscription(app.store.sync, GUILD_ID, CHANNEL_ID)
    assert sub is not None
    assert (sub.coins, sub.rules) == (("BTC", "ETH"), ("move", "oi_flush"))


async def test_a_channel_of_another_server_is_refused(app: App, shaped: ShapedSession) -> None:
    shaped.channel_guild[CH_A] = OTHER_GUILD_ID
    for invocation in (
        f"/alerts subscribe channel:{CH_A}",
        f"/alerts test channel:{CH_A}",
        f"/alerts brief time:08:00 channel:{CH_A}",
    ):
        requests = await shaped.invoke(invocation)
        assert reply_text(requests) == "That channel is not in this server."
        assert channel_posts(requests) == []
    assert alert_rows(app)["alert_subscriptions"] == []


async def test_subscribe_with_thresholds_and_a_role(app: App, shaped: ShapedSession) -> None:
    requests = await shaped.invoke(
        f'/alerts subscribe channel:{CH_A} coins:"btc, $SOL" types:"move, liquidations" '
        f'thresholds:"move_24h=6% liq_floor=2M cooldown=2h" role:{ROLE_ID}'
    )
    [reply] = replies(requests)
    embed = reply["embeds"][0]
    assert embed["title"] == "Alerts subscribed"
    assert embed["description"] == (
        f"<#{CH_A}>: BTC, SOL\nTypes: large move, liquidation spike\n"
        f"Thresholds: cooldown=2h, liq_floor=$2.00M, move_24h=6%\nPing: <@&{ROLE_ID}>"
    )
    sub = db.guild_subscription(app.store.sync, GUILD_ID, CH_A)
    assert sub is not None
    assert sub.role_id == ROLE_ID
    assert sub.thresholds == {"move_24h_pct": 6.0, "liq_floor_usd": 2_000_000.0, "cooldown_minutes": 120}
    # a role that cannot be pinged
    shaped.roles[ROLE_ID + 1] = role_payload(ROLE_ID + 1, mentionable=False)
    shaped.bot_in[CH_B] = ADMIN & ~discord.Permissions(mention_everyone=True, administrator=True)
    requests = await shaped.invoke(f"/alerts subscribe channel:{CH_B} role:{ROLE_ID + 1}")
    assert reply_text(requests).startswith(f"I can't ping <@&{ROLE_ID + 1}>: make the role mentionable")
    assert db.guild_subscription(app.store.sync, GUILD_ID, CH_B) is None


async def test_unsubscribe_by_number_for_a_channel_that_is_gone(app: App, shaped: ShapedSession) -> None:
    await seed_guild(app)
    db.disable_subscription(
        app.store.sync, GUILD_ID, CH_B, "channel not found (404 Unknown Channel)", app.clock()
    )
    text = reply_text(await shaped.invoke("/alerts list"))
    assert "⛔ disabled since 2026-11-26 12:00 UTC: channel not found (404 Unknown Channel)" in text
    assert (
        reply_text(await shaped.invoke("/alerts unsubscribe number:2")) == f"Stopped the alerts in <#{CH_B}>."
    )
    assert reply_text(await shaped.invoke("/alerts unsubscribe number:5")).startswith(
        "There is no subscription number 5"
    )
    assert [s.channel_id for s in db.guild_subscriptions(app.store.sync, GUILD_ID)] == [CH_A]


async def test_timezones_autocomplete(shaped: ShapedSession) -> None:
    choices = await shaped.autocomplete("/alerts brief time:08:00 timezone:berl", "timezone")
    assert [c["value"] for c in choices] == ["Europe/Berlin"]
    choices = await shaped.autocomplete("/alerts brief time:08:00 timezone:new_y", "timezone")
    assert "America/New_York" in [c["value"] for c in choices]
