"""A burst through the real discord.py path, against the fake Discord with Discord's 3 s deadline
enforced: every interaction acknowledged in time, identical requests computed once (a counter,
not a clock), and a cached answer never served after its data changed."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import pytest

import bot.services.why as why_module
from bot.app import App
from bot.client import TapewatchBot
from bot.models import Ticker
from bot.offline import OfflineSession, drain_command_tasks, message_payload, parse_invocation
from tests.helpers import open_scenario


@pytest.fixture
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


@pytest.fixture
async def burst_session(selloff: App, command_errors: list[BaseException]) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=selloff.services)) as s:
        yield s
    assert command_errors == []


def callbacks(session: OfflineSession) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for r in session.fake.requests:
        if r.path.endswith("/callback"):
            out.setdefault(r.path.split("/")[2], []).append(r.json)
    return out


async def dispatch_all(session: OfflineSession, texts: list[str]) -> list[str]:
    payloads = [session._interaction(2, parse_invocation(t, session.bot.tree)) for t in texts]
    for p in payloads:
        session.bot._connection.parse_interaction_create(p)  # type: ignore[arg-type]
    await drain_command_tasks()
    return [p["id"] for p in payloads]


async def test_a_mixed_burst_is_acknowledged_in_time_and_every_deferral_followed_up(
    burst_session: OfflineSession,
) -> None:
    coins = ["BTC", "ETH", "SOL", "BNB", "XRP"]
    texts = []
    for i in range(60):
        coin = coins[i % len(coins)]
        texts.append(
            [
                "/why",
                f"/why window:{['1h', '4h', '24h', '7d'][i % 4]}",
                f"/why coin:{coin} window:{['1h', '4h', '24h', '7d'][i % 4]}",
                f"/price coin:{coin}",
                f"/liquidations coin:{coin}",
                f"/levels coin:{coin}",
            ][i % 6]
        )
    ids = await dispatch_all(burst_session, texts)
    fake = burst_session.fake
    assert fake.refused == []  # no callback late, none twice, no follow-up without one, no oversize message
    acked = callbacks(burst_session)
    assert sorted(acked) == sorted(ids)
    deferred = [i for i in ids if acked[i][0]["type"] == 5]
    follow_ups = [r for r in fake.requests if r.path.startswith("/webhooks/") and r.method == "POST"]
    assert len(follow_ups) == len(deferred)
    assert all(acked[i][0]["type"] in (4, 5) for i in ids)


async def test_identical_requests_share_one_computation(
    burst_session: OfflineSession, selloff: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    runs = []
    real = why_module.gather

    def counted(*args: Any, **kwargs: Any) -> Any:
        runs.append(kwargs.get("coin"))
        return real(*args, **kwargs)

    monkeypatch.setattr(why_module, "gather", counted)
    ids = await dispatch_all(burst_session, ["/why coin:BTC"] * 100)
    assert runs == ["BTC"]
    stats = selloff.services.market.answers.stats
    assert stats.misses == 1
    assert stats.coalesced + stats.hits == 99
    answers = {
        message_payload(r)["embeds"][0]["title"]
        for r in burst_session.fake.messages()
        if message_payload(r).get("embeds")
    }
    assert len(answers) == 1  # everyone read the same answer
    assert burst_session.fake.refused == []
    assert len(ids) == 100


async def test_a_slow_answer_is_deferred_before_the_deadline_and_followed_up(
    burst_session: OfflineSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = threading.Event()
    real = why_module.gather

    def held(*args: Any, **kwargs: Any) -> Any:
        release.wait(timeout=30)
        return real(*args, **kwargs)

    monkeypatch.setattr(why_module, "gather", held)
    payload = burst_session._interaction(2, parse_invocation("/why coin:ETH", burst_session.bot.tree))
    burst_session.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
    for _ in range(500):  # until the deferral reached the fake Discord (the answer is still held)
        if callbacks(burst_session).get(payload["id"]):
            break
        await asyncio.sleep(0.01)
    [deferral] = callbacks(burst_session)[payload["id"]]
    assert deferral["type"] == 5
    release.set()
    await drain_command_tasks()
    [follow_up] = [r for r in burst_session.fake.requests if r.path.startswith("/webhooks/")]
    assert message_payload(follow_up)["embeds"][0]["title"].startswith("ETH")


async def test_a_cached_answer_is_never_served_after_its_data_changed(
    burst_session: OfflineSession, selloff: App
) -> None:
    await burst_session.invoke("/price coin:BTC")
    first = message_payload(burst_session.fake.messages()[-1])["embeds"][0]["title"]
    await burst_session.invoke("/price coin:BTC")
    assert message_payload(burst_session.fake.messages()[-1])["embeds"][0]["title"] == first
    assert selloff.services.market.answers.stats.hits == 1
    now = selloff.clock()
    selloff.store.sync.upsert_tickers(
        [Ticker(coin="BTC", venue="binance", market="spot", price=12_345.0, change_24h_pct=-50.0, ts=now)],
        now,
    )
    await burst_session.invoke("/price coin:BTC")
    assert message_payload(burst_session.fake.messages()[-1])["embeds"][0]["title"].startswith("BTC $12,345")


async def test_an_interaction_past_the_deadline_on_arrival_is_dropped_with_one_line(
    selloff: App, caplog: pytest.LogCaptureFixture
) -> None:
    async with OfflineSession(TapewatchBot(services=selloff.services)) as session:
        payload = session._interaction(2, parse_invocation("/price coin:BTC", session.bot.tree))
        payload["id"] = str(int(payload["id"]) - (5000 << 22))  # created 5 s ago
        before = len(session.fake.requests)
        session.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        await drain_command_tasks()
        assert session.fake.requests[before:] == []  # no request that Discord would refuse
    dropped = [r for r in caplog.records if "past Discord's 3 s deadline" in r.getMessage()]
    assert len(dropped) == 1
    assert not [r for r in caplog.records if r.exc_info]  # no traceback


async def test_an_interaction_that_expires_while_being_answered_logs_one_line(
    selloff: App, caplog: pytest.LogCaptureFixture
) -> None:
    async with OfflineSession(TapewatchBot(services=selloff.services)) as session:
        session.fake.deadline = timedelta(0)  # every callback arrives too late
        payload = session._interaction(2, parse_invocation("/price coin:BTC", session.bot.tree))
        session.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        await drain_command_tasks()
        assert [r.code for r in session.fake.refused] == [10062]
    expired = [r for r in caplog.records if "expired before it was answered" in r.getMessage()]
    assert len(expired) == 1
    assert not [r for r in caplog.records if r.exc_info]  # no traceback
