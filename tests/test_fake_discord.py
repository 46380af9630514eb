"""The fake Discord refuses what Discord refuses, so a test fails where production would."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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


def _row(*buttons: dict[str, object]) -> dict[str, object]:
    return {"type": 1, "components": list(buttons)}


def _button(custom_id: str, label: str = "b") -> dict[str, object]:
    return {"type": 2, "style": 2, "label": label, "custom_id": custom_id}


def test_components_past_discords_limits_are_refused() -> None:
    ok = [_row(*(_button(f"r{r}b{b}") for b in range(5))) for r in range(5)]
    assert message_problems({"components": ok}) == []
    six_rows = [*ok, _row(_button("x"))]
    assert message_problems({"components": six_rows}) == ["components: must be 5 or fewer in length"]
    six_buttons = [_row(*(_button(f"b{b}") for b in range(6)))]
    assert message_problems({"components": six_buttons}) == ["components.0.components: must be 1-5 in length"]
    long_label = [_row(_button("a", "x" * 81))]
    assert message_problems({"components": long_label}) == [
        "components.0.components.0.label: must be 80 or fewer in length"
    ]
    long_id = [_row(_button("i" * 101))]
    assert message_problems({"components": long_id}) == [
        "components.0.components.0.custom_id: must be 1-100 in length"
    ]
    twice = [_row(_button("same")), _row(_button("same"))]
    assert message_problems({"components": twice}) == [
        "components.1.components.0.custom_id: component custom id cannot be duplicated"
    ]
    fake = FakeDiscord()
    status, body = fake.respond(
        "POST",
        f"/api/v10/interactions/{_iid(timedelta(0))}/tok/callback",
        {},
        {"type": 7, "data": {"components": six_rows}},
    )
    assert (status, body["code"]) == (400, 50035)


def test_a_button_press_edits_and_deletes_the_message_it_is_on() -> None:
    fake = FakeDiscord()
    iid = _iid(timedelta(0))
    status, reply = fake.respond(
        "POST", f"/api/v10/interactions/{iid}/t1/callback", {}, {"type": 4, "data": {"content": "a"}}
    )
    message_id = reply["interaction"]["response_message_id"]
    assert fake.stored[message_id]["content"] == "a"
    press = _iid(timedelta(milliseconds=5))  # another interaction than the reply's
    fake.pressed_on("t2", fake.stored[message_id])
    assert fake.respond("POST", f"/api/v10/interactions/{press}/t2/callback", {}, {"type": 6})[0] == 200
    status, edited = fake.respond("PATCH", "/api/v10/webhooks/1/t2/messages/@original", {}, {"content": "b"})
    assert (status, edited["id"], fake.stored[message_id]["content"]) == (200, message_id, "b")
    assert fake.respond("DELETE", "/api/v10/webhooks/1/t2/messages/@original", {}, None)[0] == 204
    assert message_id not in fake.stored
    gone = fake.respond("DELETE", "/api/v10/webhooks/1/t2/messages/@original", {}, None)
    assert (gone[0], gone[1]["code"]) == (404, 10008)


def _post(fake: FakeDiscord, channel: int) -> tuple[int, Any]:
    return fake.respond("POST", f"/api/v10/channels/{channel}/messages", {}, {"content": "hi"})


def test_the_global_rate_limit_refuses_the_51st_request_in_a_second() -> None:
    fake = FakeDiscord(global_per_s=50)
    assert [_post(fake, 100 + n)[0] for n in range(50)] == [200] * 50  # 50 channels, one token
    status, body = _post(fake, 200)
    assert status == 429
    assert body["global"] is True
    assert 0 < body["retry_after"] <= 1.0
    assert [r.status for r in fake.refused] == [429]
    assert fake.accepted_posts() == {100 + n: 1 for n in range(50)}  # the refused one not counted


def test_no_global_rate_limit_unless_asked() -> None:
    fake = FakeDiscord()
    assert {_post(fake, 100 + n)[0] for n in range(500)} == {200}
    assert fake.refused == []
