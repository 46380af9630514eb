"""The Fear & Greed index in answers: /why's context line and /status, each with its source
and age, through the fake Discord; and both answering as before when no reading exists or
the reading cannot be read."""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest

from bot.app import App
from bot.client import TapewatchBot
from bot.models import FearGreed
from bot.offline import OfflineSession, message_payload
from tests.helpers import open_scenario


@pytest.fixture
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


@pytest.fixture
async def session(selloff: App, command_errors: list[BaseException]) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=selloff.services)) as s:
        yield s
    assert command_errors == []


def reading(app: App, hours_old: float, value: int = 23, label: str = "Extreme Fear") -> None:
    day = app.clock() - timedelta(hours=hours_old)
    app.store.sync.upsert_fear_greed([FearGreed(source="alternative.me", ts=day, value=value, label=label)])


def no_readings(app: App) -> None:
    """The bundled scenarios carry daily readings: start these cases from a store without any."""
    store = app.store.sync
    with store.lock, store.conn:
        store.conn.execute("DELETE FROM fear_greed")


async def answer(session: OfflineSession, text: str) -> dict[str, Any]:
    await session.invoke(text)
    [embed] = message_payload(session.fake.messages()[-1])["embeds"]
    return dict(embed)


def context(embed: dict[str, Any]) -> str | None:
    values = [f["value"] for f in embed.get("fields", []) if f["name"] == "Context"]
    return values[0] if values else None


async def test_why_and_status_show_the_reading_with_source_and_age(
    selloff: App, session: OfflineSession
) -> None:
    reading(selloff, hours_old=9)
    line = "Fear & Greed 23/100, Extreme Fear (alternative.me, daily; 9 h old)"
    for text in ("/why", "/why coin:SOL window:4h"):
        embed = await answer(session, text)
        assert context(embed) == line
    status = await answer(session, "/status")
    assert status["description"].splitlines()[-1] == line + "."


async def test_a_reading_days_old_says_it_is_stale(selloff: App, session: OfflineSession) -> None:
    no_readings(selloff)
    reading(selloff, hours_old=24 * 3, value=61, label="Greed")
    embed = await answer(session, "/why")
    assert context(embed) == "Fear & Greed 61/100, Greed (alternative.me, daily; 3 d old, stale)"


async def test_without_a_reading_the_answers_stand_as_before(
    selloff: App, session: OfflineSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_readings(selloff)
    embed = await answer(session, "/why")
    assert context(embed) is None  # nothing collected: no line, nothing shown as zero
    assert embed["title"]
    status = await answer(session, "/status")
    assert (
        status["description"].splitlines()[-1]
        == "Fear & Greed: no reading collected yet (alternative.me, daily)."
    )

    def broken(*_: object) -> None:
        raise sqlite3.OperationalError("no such table: fear_greed")

    monkeypatch.setattr(type(selloff.store.sync), "fear_greed_latest", broken)
    embed = await answer(session, "/why coin:ETH")
    assert context(embed) is None
    assert embed["title"]
    status = await answer(session, "/status")
    assert status["description"].splitlines()[-1].startswith("Fear & Greed: no reading collected yet")
