"""/watch end to end through the fake Discord: a DM once per crossing, hysteresis, no resend
after a restart, a closed DM pauses the user's watches, one user never sees another's, and bad
input is one private line with nothing stored."""

from __future__ import annotations

from typing import Any, cast

import pytest

from bot.app import App, build_app
from bot.client import TapewatchBot
from bot.clock import FrozenClock
from bot.fake_discord import USER_ID, message_payload
from bot.models import Ticker
from bot.offline import OfflineSession, parse_invocation
from bot.settings import Settings
from cogs.watch import WatchCog

OTHER_USER = USER_ID + 1


def set_price(app: App, value: float, coin: str = "BTC") -> None:
    now = app.clock()
    ticker = Ticker(coin=coin, venue="binance", market="spot", price=value, change_24h_pct=-1.0, ts=now)
    app.store.sync.upsert_tickers([ticker], now)


async def run(session: OfflineSession, text: str, user: int = USER_ID) -> dict[str, Any]:
    payload = session._interaction(2, parse_invocation(text, session.bot.tree))
    payload["member"]["user"]["id"] = str(user)
    requests = await session._dispatch(payload)
    replies = [r for r in requests if "/callback" in r.path or r.path.startswith("/webhooks/")]
    return message_payload(replies[-1])


def reply_text(payload: dict[str, Any]) -> str:
    embeds = payload.get("embeds") or []
    return payload.get("content") or (embeds[0].get("description") or "") if embeds else payload["content"]


def cog(session: OfflineSession) -> WatchCog:
    return cast(WatchCog, session.bot.get_cog("WatchCog"))


@pytest.fixture
async def watching(app: App, session: OfflineSession) -> OfflineSession:
    set_price(app, 67_000)
    payload = await run(session, '/watch add coin:btc below:60000 note:"buy the dip"')
    assert payload["flags"] == 64
    assert payload["embeds"][0]["title"] == "Watch #1 added"
    return session


async def test_one_dm_per_crossing_with_hysteresis(app: App, watching: OfflineSession) -> None:
    clock = cast(FrozenClock, app.clock)
    fake = watching.fake
    assert await cog(watching).deliver() == []
    clock.advance(minutes=1)
    set_price(app, 59_500)
    [sent] = await cog(watching).deliver()
    assert sent.watch.note == "buy the dip"
    [dm] = fake.dms_to(USER_ID)
    assert dm["embeds"][0]["title"].startswith("BTC is below $60,000")
    assert dm["embeds"][0]["description"] == "“buy the dip”"
    clock.advance(minutes=1)
    set_price(app, 59_000)  # still below: the same crossing, not sent again
    assert await cog(watching).deliver() == []
    clock.advance(minutes=1)
    set_price(app, 60_100)  # back above, but inside the 0.5% band: not re-armed
    assert await cog(watching).deliver() == []
    clock.advance(minutes=1)
    set_price(app, 59_900)
    assert await cog(watching).deliver() == []
    assert len(fake.dms_to(USER_ID)) == 1
    clock.advance(minutes=1)
    set_price(app, 60_400)  # past the band: re-armed…
    assert await cog(watching).deliver() == []
    clock.advance(minutes=1)
    set_price(app, 59_800)  # …so the next crossing is sent
    assert len(await cog(watching).deliver()) == 1
    assert len(fake.dms_to(USER_ID)) == 2


async def test_a_restart_does_not_resend(
    app: App, watching: OfflineSession, settings: Settings, clock: FrozenClock
) -> None:
    clock.advance(minutes=1)
    set_price(app, 59_000)
    assert len(await cog(watching).deliver()) == 1
    restarted = build_app(settings, clock=clock)
    try:
        async with OfflineSession(TapewatchBot(services=restarted.services)) as again:
            clock.advance(minutes=1)
            set_price(restarted, 58_000)
            assert await cog(again).deliver() == []
            assert again.fake.dms_to(USER_ID) == []
            listing = await run(again, "/watch list")
            assert "`#1` **BTC** below $60,000" in listing["embeds"][0]["description"]
    finally:
        restarted.close()


async def test_two_processes_on_one_store_send_a_crossing_once(
    app: App,
    watching: OfflineSession,
    settings: Settings,
    clock: FrozenClock,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock.advance(minutes=1)
    set_price(app, 59_000)
    other = build_app(settings, clock=clock)  # another bot process on the same store
    try:
        seen_before = other.store.sync.active_watches()  # it read the watch while still armed…
        [sent] = await app.services.watches.due()  # …and this process fired it meanwhile
        monkeypatch.setattr(other.store.sync, "active_watches", lambda: seen_before)
        assert await other.services.watches.due() == []  # its update found it fired: not sent twice
        assert sent.watch.id == seen_before[0].id
        [w] = app.store.sync.watches_of(USER_ID)
        assert w.fired_count == 1
    finally:
        other.close()


async def test_a_closed_dm_pauses_the_watches_and_the_list_says_so(
    app: App, watching: OfflineSession
) -> None:
    clock = cast(FrozenClock, app.clock)
    watching.fake.dms_closed.add(USER_ID)
    clock.advance(minutes=1)
    set_price(app, 59_000)
    assert await cog(watching).deliver() == []
    assert [r.code for r in watching.fake.refused] == [50007]
    [field] = (await run(watching, "/watch list"))["embeds"][0]["fields"]
    assert field["name"].endswith("Paused")
    assert "50007" in field["value"]
    # paused: later crossings are not attempted at all
    clock.advance(minutes=5)
    set_price(app, 70_000)
    clock.advance(minutes=5)
    set_price(app, 58_000)
    attempts = len(watching.fake.requests)
    assert await cog(watching).deliver() == []
    assert len(watching.fake.requests) == attempts
    # the user opens their DMs and adds a watch: they are active again
    watching.fake.dms_closed.clear()
    added = await run(watching, "/watch add coin:btc above:62000")
    assert "active again" in added["embeds"][0]["description"]
    assert "fields" not in (await run(watching, "/watch list"))["embeds"][0]


async def test_watches_are_their_owners_alone(app: App, watching: OfflineSession) -> None:
    other = await run(watching, "/watch list", user=OTHER_USER)
    assert other["embeds"][0]["title"] == "Your watches (0 of 25)"
    refused = await run(watching, "/watch remove number:1", user=OTHER_USER)
    assert refused["flags"] == 64
    assert "You have no watch #1" in reply_text(refused)
    assert len(app.store.sync.watches_of(USER_ID)) == 1
    clock = cast(FrozenClock, app.clock)
    clock.advance(minutes=1)
    set_price(app, 59_000)
    await cog(watching).deliver()
    assert watching.fake.dms_to(OTHER_USER) == []
    assert len(watching.fake.dms_to(USER_ID)) == 1
    removed = await run(watching, "/watch remove number:1")
    assert reply_text(removed) == "Watch #1 removed."
    assert app.store.sync.watches_of(USER_ID) == []


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("/watch add coin:btc below:0", "The price must be above zero."),
        ("/watch add coin:btc below:-5", "The price must be above zero."),
        ("/watch add coin:btc above:700000", "is more than 10× away from BTC's"),
        ("/watch add coin:btc below:6000", "is more than 10× away from BTC's"),
        ("/watch add coin:nosuchcoin below:5", "nosuchcoin"),
        ("/watch add coin:inj below:5", "not tracked"),
        ("/watch add coin:btc", "Give one of `above:` or `below:`"),
        ("/watch add coin:btc above:70000 below:60000", "Give one of `above:` or `below:`"),
    ],
)
async def test_bad_input_is_one_private_line_and_nothing_is_stored(
    app: App, session: OfflineSession, command: str, expected: str
) -> None:
    set_price(app, 67_000)
    payload = await run(session, command)
    assert payload["flags"] == 64
    assert expected.lower() in reply_text(payload).lower()
    assert app.store.sync.watches_of(USER_ID) == []


async def test_the_limit_is_per_user(app: App, session: OfflineSession) -> None:
    set_price(app, 67_000)
    for i in range(25):
        await run(session, f"/watch add coin:btc above:{70_000 + i}")
    full = await run(session, "/watch add coin:btc above:80000")
    assert full["flags"] == 64
    assert "the limit" in reply_text(full)
    assert len(app.store.sync.watches_of(USER_ID)) == 25
    other = await run(session, "/watch add coin:btc above:80000", user=OTHER_USER)
    assert other["embeds"][0]["title"].startswith("Watch #26")


async def test_a_watch_already_met_waits_for_the_next_crossing(app: App, session: OfflineSession) -> None:
    set_price(app, 67_000)
    added = await run(session, "/watch add coin:btc above:66000")
    assert "already" in added["embeds"][0]["description"]
    assert await cog(session).deliver() == []


async def test_watch_works_in_dms_and_user_installs(session: OfflineSession) -> None:
    [group] = [c for c in session.bot.tree.get_commands() if c.name == "watch"]
    data = group.to_dict(session.bot.tree)
    assert sorted(data["contexts"]) == [0, 1, 2]
    assert sorted(data["integration_types"]) == [0, 1]
