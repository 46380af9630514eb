"""Reply controls through the real discord.py path against the fake Discord: the author's press
edits the message in place, anyone else gets a private copy, the buttons work after a restart
(their state is the custom_id), only the author deletes, and the window pressed is answered."""

from __future__ import annotations

import asyncio
import logging
import re
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import discord
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.app import App, scenario_app
from bot.client import TapewatchBot
from bot.controls import TEMPLATE, ControlButton, Shown, actions, controls_view
from bot.discord_limits import LIMITS, component_problems
from bot.fake_discord import USER_ID, DiscordRequest, FakeDiscord, message_payload
from bot.offline import Invocation, OfflineSession, drain_tasks
from bot.render.controls import LABELS, NO_CHART, NOT_YOURS_DELETE, Action
from bot.replies import GENERIC
from bot.scenarios import bundled
from bot.settings import load_settings
from tests.cogs.test_market import store_btc
from tests.helpers import every_venue_at

OTHER = USER_ID + 7


@pytest.fixture(scope="module")
def crash() -> Iterator[App]:
    settings = load_settings(providers=every_venue_at("http://127.0.0.1:9"))
    with tempfile.TemporaryDirectory() as workdir:
        app = scenario_app(settings, Path(bundled()["coin_crash"]), Path(workdir))
        yield app
        app.close()


@pytest.fixture
async def session(
    crash: App, command_errors: list[BaseException], caplog: pytest.LogCaptureFixture
) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=crash.services)) as s:
        yield s
        assert s.fake.refused == []  # nothing Discord would refuse: limits, the 3 s deadline
    assert command_errors == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]  # no button crashed


def last_message(fake: FakeDiscord) -> dict[str, Any]:
    """The newest message that exists (as Discord holds it, edits applied)."""
    return next(m for m in reversed(fake.stored.values()) if m.get("embeds"))


def buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Label → button, for the message's controls."""
    return {c["label"]: c for row in message["components"] for c in row["components"]}


def posted(requests: list[DiscordRequest]) -> list[DiscordRequest]:
    """Requests that created a new message (a reply, a follow-up, a channel post)."""
    return [
        r
        for r in requests
        if r.method == "POST"
        and (
            r.path.startswith(("/webhooks/", "/channels/"))
            or ("/callback" in r.path and r.json.get("type") in (4, 5))
        )
    ]


def title(message: dict[str, Any]) -> str:
    return str(message["embeds"][0]["title"])


async def test_why_carries_window_chart_crosslinks_and_delete(session: OfflineSession) -> None:
    await session.invoke("/why coin:SOL")
    message = last_message(session.fake)
    rows = [[c["label"] for c in row["components"]] for row in message["components"]]
    assert rows == [["1h", "4h", "24h", "7d"], ["Chart", "Levels", "Liquidations", "Delete"]]
    b = buttons(message)
    assert b["24h"]["disabled"]
    assert b["24h"]["style"] == 1
    assert not b["1h"]["disabled"]
    assert all(str(USER_ID) in c["custom_id"] for c in b.values())
    assert message["flags"] & 64 == 0


async def test_the_authors_press_edits_the_message_in_place(session: OfflineSession, crash: App) -> None:
    await session.invoke("/why coin:SOL")
    message = last_message(session.fake)
    requests = await session.click(message, buttons(message)["4h"]["custom_id"])
    assert posted(requests) == []  # no new message
    [edit] = [
        r
        for r in requests
        if (r.method == "PATCH" and r.path.endswith("/messages/@original"))
        or ("/callback" in r.path and r.json["type"] == 7)
    ]
    assert message_payload(edit)["allowed_mentions"] == {"parse": []}  # an edit never pings either
    edited = session.fake.stored[message["id"]]
    assert edited["edited_timestamp"] is not None
    assert title(edited).startswith("SOL ")
    assert " in 4h" in title(edited)
    assert edited["embeds"][0]["footer"]["text"].endswith("window 4h")
    assert buttons(edited)["4h"]["disabled"]
    assert not buttons(edited)["24h"]["disabled"]
    # the same answer as the command with that window
    await session.invoke("/why coin:SOL window:4h")
    assert title(last_message(session.fake)) == title(edited)


async def test_anyone_else_gets_a_private_copy_and_the_message_stays(session: OfflineSession) -> None:
    await session.invoke("/why coin:SOL")
    message = last_message(session.fake)
    requests = await session.click(message, buttons(message)["7d"]["custom_id"], user=OTHER)
    [copy] = [message_payload(r) for r in requests if message_payload(r).get("embeds")]
    assert copy["flags"] & 64  # ephemeral: only they see it
    assert " in 7d" in title(copy)
    assert copy["allowed_mentions"] == {"parse": []}
    labels = buttons(copy)
    assert "Delete" not in labels  # a private copy is dismissed, not deleted
    assert all(str(OTHER) in c["custom_id"] for c in labels.values())  # their copy's buttons are theirs
    assert session.fake.stored[message["id"]] == message  # the author's message untouched


async def test_buttons_work_after_a_restart(crash: App, caplog: pytest.LogCaptureFixture) -> None:
    async with OfflineSession(TapewatchBot(services=crash.services)) as first:
        await first.invoke("/liquidations coin:SOL")
        message = last_message(first.fake)
    custom_id = buttons(message)["1h"]["custom_id"]
    # a new bot process: no view was kept, the custom_id alone carries the state
    async with OfflineSession(TapewatchBot(services=crash.services)) as second:
        second.fake.stored[message["id"]] = message
        requests = await second.click(message, custom_id)
        assert posted(requests) == []
        edited = second.fake.stored[message["id"]]
        assert next(f["name"] for f in edited["embeds"][0]["fields"]) == "1h"  # one window: 1h
        assert buttons(edited)["1h"]["disabled"]
        assert second.fake.refused == []
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_only_the_author_deletes(session: OfflineSession) -> None:
    await session.invoke("/why")
    message = last_message(session.fake)
    delete = buttons(message)["Delete"]["custom_id"]
    requests = await session.click(message, delete, user=OTHER)
    [refusal] = [message_payload(r) for r in requests if message_payload(r).get("embeds")]
    assert refusal["flags"] & 64
    assert refusal["embeds"][0]["description"] == NOT_YOURS_DELETE
    assert message["id"] in session.fake.stored
    requests = await session.click(message, delete)
    assert [(r.method, r.path.rsplit("/", 2)[-2:]) for r in requests if r.method == "DELETE"] == [
        ("DELETE", ["messages", "@original"])
    ]
    assert message["id"] not in session.fake.stored


async def test_chart_is_attached_in_place_and_kept_across_windows(session: OfflineSession) -> None:
    await session.invoke("/why coin:SOL")
    message = last_message(session.fake)
    requests = await session.click(message, buttons(message)["Chart"]["custom_id"])
    assert posted(requests) == []
    [edit] = [r for r in requests if r.files]
    # the chart is drawn after a deferred update (type 6), then the message PATCHed through its token
    assert [r.json["type"] for r in requests if r.path.endswith("/callback")] == [6]
    assert (edit.method, edit.path.rsplit("/", 1)[-1]) == ("PATCH", "@original")
    assert edit.files["liquidations.png"].startswith(b"\x89PNG")
    charted = session.fake.stored[message["id"]]
    assert charted["embeds"][0]["image"]["url"] == "attachment://liquidations.png"
    assert buttons(charted)["Chart"]["disabled"]
    requests = await session.click(charted, buttons(charted)["1h"]["custom_id"])
    [edit] = [r for r in requests if r.files]  # the chart follows the window
    after = session.fake.stored[message["id"]]
    assert " in 1h" in title(after)
    assert after["embeds"][0]["image"]["url"] == "attachment://liquidations.png"


async def test_cross_links_switch_the_answer_in_place(session: OfflineSession) -> None:
    await session.invoke("/why coin:SOL window:4h")
    message = last_message(session.fake)
    await session.click(message, buttons(message)["Levels"]["custom_id"])
    levels = session.fake.stored[message["id"]]
    assert title(levels).startswith("SOL levels")
    assert [[c["label"] for c in row["components"]] for row in levels["components"]] == [
        ["Why", "Liquidations", "Delete"]
    ]
    await session.click(levels, buttons(levels)["Liquidations"]["custom_id"])
    liq = session.fake.stored[message["id"]]
    assert title(liq) == "SOL liquidations"
    await session.click(liq, buttons(liq)["Why"]["custom_id"])
    back = session.fake.stored[message["id"]]
    assert " in 24h" in title(back)  # /levels has no window: back to /why's default


async def test_the_market_answer_offers_no_levels(session: OfflineSession) -> None:
    await session.invoke("/why")
    labels = list(buttons(last_message(session.fake)))
    assert labels == ["1h", "4h", "24h", "7d", "Chart", "Liquidations", "Delete"]


async def test_a_press_on_a_private_copy_edits_that_copy(session: OfflineSession) -> None:
    await session.invoke("/why coin:SOL")
    message = last_message(session.fake)
    await session.click(message, buttons(message)["1h"]["custom_id"], user=OTHER)
    copy = last_message(session.fake)
    assert copy["flags"] & 64
    requests = await session.click(copy, buttons(copy)["4h"]["custom_id"], user=OTHER)
    assert posted(requests) == []
    assert " in 4h" in title(session.fake.stored[copy["id"]])
    assert "Delete" not in buttons(session.fake.stored[copy["id"]])


async def test_a_failing_answer_is_one_private_line(session: OfflineSession) -> None:
    """An unknown coin in a hand-made custom_id: a friendly refusal, nothing edited."""
    await session.invoke("/why coin:SOL")
    message = last_message(session.fake)
    forged = f"tapewatch:ctl:1h:why:ZZQQXX:24h:{USER_ID}"
    button = {**buttons(message)["1h"], "custom_id": forged}
    message = {**message, "components": [{"type": 1, "components": [button]}]}
    session.fake.stored[message["id"]] = message
    requests = await session.click(message, forged)
    [reply] = [message_payload(r) for r in requests if message_payload(r).get("embeds")]
    assert reply["flags"] & 64
    assert reply["embeds"][0]["description"].startswith("unknown coin 'ZZQQXX'")
    assert reply["embeds"][0]["description"] != GENERIC
    assert session.fake.stored[message["id"]] == message


@pytest.mark.parametrize("kind", ["why", "liq", "lvl"])
@pytest.mark.parametrize("window", [None, "1h", "24h", "7d", "30d"])
@pytest.mark.parametrize("chart", [False, True])
def test_every_control_set_is_within_discords_limits(kind: str, window: str | None, chart: bool) -> None:
    longest = Shown(kind, "A" * 20, window, author=2**64 - 1, chart=chart)  # type: ignore[arg-type]
    view = controls_view(longest)
    rows = view.to_components()
    assert component_problems(rows) == []
    assert all(len(c["custom_id"]) <= LIMITS["custom_id"] for row in rows for c in row["components"])
    assert sum(len(r) for r in actions(longest, deletable=True)) == len(view.children)


async def test_a_press_past_the_deadline_is_dropped_without_a_request(session: OfflineSession) -> None:
    await session.invoke("/why coin:SOL")
    message = last_message(session.fake)
    old = discord.utils.time_snowflake(discord.utils.utcnow() - timedelta(seconds=5))
    payload = session._interaction(2, Invocation(name="", path=[]))
    payload |= {"id": str(old), "token": f"offline-{old}", "type": 3, "message": message}
    payload["data"] = {"custom_id": buttons(message)["1h"]["custom_id"], "component_type": 2}
    start = len(session.fake.requests)
    session.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    await drain_tasks("discord-ui-")
    assert session.fake.requests[start:] == []
    assert session.fake.stored[message["id"]] == message


async def test_a_burst_of_presses_is_each_acknowledged_once_in_time(session: OfflineSession) -> None:
    """Authors and others pressing every window, the chart and the cross-links at once: every
    press acknowledged within the deadline (the fake refuses a late or second callback), every
    deferral followed by its edit or its private copy."""
    await session.invoke("/why coin:SOL")
    message = last_message(session.fake)
    ids = [
        c["custom_id"] for c in buttons(message).values() if not c["disabled"] and "del" not in c["custom_id"]
    ]
    payloads = []
    for i in range(48):
        user = USER_ID if i % 2 else OTHER + i
        payload = session._interaction(2, Invocation(name="", path=[]), user=user)
        payload |= {"type": 3, "message": message}
        payload["data"] = {"custom_id": ids[i % len(ids)], "component_type": 2}
        session.fake.pressed_on(payload["token"], message)
        payloads.append(payload)
    start = len(session.fake.requests)
    for payload in payloads:
        session.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    await drain_tasks("discord-ui-")
    requests = session.fake.requests[start:]
    callbacks: dict[str, list[int]] = {}
    for r in requests:
        if r.path.endswith("/callback"):
            callbacks.setdefault(r.path.split("/")[2], []).append(r.json["type"])
    assert sorted(callbacks) == sorted(p["id"] for p in payloads)
    assert all(len(kinds) == 1 for kinds in callbacks.values())
    for payload in payloads:
        [kind] = callbacks[payload["id"]]
        token = payload["token"]
        after = [r for r in requests if f"/{token}" in r.path and not r.path.endswith("/callback")]
        if kind == 6:  # the author's press, deferred: then the edit
            assert [r.method for r in after] == ["PATCH"]
        elif kind == 5:  # someone else's, deferred: then their private copy
            assert [r.method for r in after] == ["POST"]
            assert message_payload(after[0])["flags"] & 64
        else:
            assert kind in (4, 7)
            assert after == []


async def test_a_chart_with_no_price_bars_says_so(app: App, command_errors: list[BaseException]) -> None:
    store_btc(app)  # a price, and no bars to draw
    async with OfflineSession(TapewatchBot(services=app.services)) as s:
        await s.invoke("/why coin:BTC")
        message = last_message(s.fake)
        requests = await s.click(message, buttons(message)["Chart"]["custom_id"])
        assert not [r for r in requests if r.files]
        fields = {f["name"]: f["value"] for f in s.fake.stored[message["id"]]["embeds"][0]["fields"]}
        assert fields["Chart"] == NO_CHART[1]
        assert "image" not in s.fake.stored[message["id"]]["embeds"][0]
        assert s.fake.refused == []
    assert command_errors == []


@settings(max_examples=200, deadline=None)
@given(
    kind=st.sampled_from(["why", "liq", "lvl"]),
    coin=st.none() | st.from_regex(r"[A-Z0-9]{1,20}", fullmatch=True),
    window=st.sampled_from([None, "1h", "4h", "24h", "7d", "30d"]),
    author=st.integers(0, 2**64 - 1),
    chart=st.booleans(),
    action=st.sampled_from(list(LABELS)),
)
def test_a_custom_id_carries_the_whole_state(
    kind: str, coin: str | None, window: str | None, author: int, chart: bool, action: Action
) -> None:
    """What a button encodes is exactly what a press after a restart decodes, within 100 characters."""
    shown = Shown(kind, coin, window, author, chart)  # type: ignore[arg-type]
    custom_id = shown.custom_id(action)
    assert len(custom_id) <= LIMITS["custom_id"]
    match = re.fullmatch(TEMPLATE, custom_id)
    assert match is not None
    button = asyncio.run(ControlButton.from_custom_id(None, None, match))  # type: ignore[arg-type]
    assert (button.shown, button.action) == (shown, action)
