"""The fake Discord refuses what Discord refuses, so a test fails where production would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import discord

from bot.fake_discord import FakeDiscord, message_problems


def _iid(age: timedelta) -> str:
    return str(discord.utils.time_snowflake(datetime.now(UTC) - age))


def test_a_callback_after_three_seconds_is_refused_as_unknown_interaction() -> None:
    fake = FakeDiscord()
    status, body = fake.respond(
        "POST", f"/api/v10/interactions/{_iid(timedelta(seconds=3.2))}/tok/callback", {}, {"type": 5}
    )
    assert (status, body["code"]) == (404, 10062)
    assert [r.code for r in fake.refused] == [10062]


def test_a_second_callback_is_refused_and_a_follow_up_needs_an_acknowledged_token() -> None:
    fake = FakeDiscord()
    iid = _iid(timedelta(seconds=1))
    early = fake.respond("POST", "/api/v10/webhooks/1/tok", {}, {"content": "too early"})
    assert (early[0], early[1]["code"]) == (404, 10015)
    assert fake.respond("POST", f"/api/v10/interactions/{iid}/tok/callback", {}, {"type": 5})[0] == 200
    again = fake.respond("POST", f"/api/v10/interactions/{iid}/tok/callback", {}, {"type": 4, "data": {}})
    assert (again[0], again[1]["code"]) == (400, 40060)
    assert fake.respond("POST", "/api/v10/webhooks/1/tok", {}, {"content": "answer"})[0] == 200


def test_no_deadline_when_switched_off() -> None:
    fake = FakeDiscord(deadline=None)
    status, _ = fake.respond(
        "POST", f"/api/v10/interactions/{_iid(timedelta(hours=1))}/t/callback", {}, {"type": 5}
    )
    assert status == 200


def test_messages_past_discords_limits_are_refused() -> None:
    field = {"name": "n", "value": "v" * 1000}
    assert message_problems({"embeds": [{"title": "t", "fields": [field] * 5}]}) == []
    too_many = {"embeds": [{"fields": [{"name": "n", "value": "v"}] * 26}]}
    assert any("fields" in p for p in message_problems(too_many))
    too_long = {"embeds": [{"description": "d" * 3000, "fields": [field] * 4}]}
    assert any("6000" in p for p in message_problems(too_long))
    empty_value = {"embeds": [{"fields": [{"name": "n", "value": " "}]}]}
    assert message_problems(empty_value) == ["embeds.0.fields.0.value: must be 1-1024 in length"]
    assert message_problems({"content": "x" * 2001}) == ["content: must be 2000 or fewer in length"]
    fake = FakeDiscord()
    iid = _iid(timedelta(0))
    status, body = fake.respond(
        "POST", f"/api/v10/interactions/{iid}/tok/callback", {}, {"type": 4, "data": too_many}
    )
    assert (status, body["code"]) == (400, 50035)
