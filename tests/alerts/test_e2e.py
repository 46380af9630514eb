"""End to end against the fake Discord: a stored selloff, channels subscribed through /alerts,
one evaluation, and exactly the channel messages Discord would receive; 403 and 404 channels
disabled while the others still get theirs; the "Why?" button answering after the fact."""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.alerts import store as db
from bot.alerts.service import AlertsService
from bot.app import App
from bot.client import TapewatchBot
from bot.dispatch import Dispatcher
from bot.fake_discord import GUILD_ID
from tests.alerts.conftest import (
    CH_A,
    CH_B,
    CH_FORBIDDEN,
    CH_GONE,
    ROLE_ID,
    ShapedSession,
    channel_posts,
    clear_alerts,
    replies,
    reply_text,
)

SNAPSHOTS = Path(__file__).parent / "snapshots"
MAJORS = 'coins:"BTC, SOL" types:"move, liquidations" thresholds:"move_24h=6% liq_floor=100K"'


def fresh_alerts(app: App) -> AlertsService:
    s = app.services
    s.alerts = AlertsService(s.market, s.why, s.liquidations)
    return s.alerts


@pytest.fixture
async def session(selloff: App, command_errors: list[BaseException]) -> AsyncIterator[ShapedSession]:
    clear_alerts(selloff)
    fresh_alerts(selloff)
    async with ShapedSession(TapewatchBot(services=selloff.services)) as s:
        yield s
    clear_alerts(selloff)
    assert command_errors == []


def check_snapshot(payload: dict[str, Any], name: str) -> None:
    path = SNAPSHOTS / name
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    assert payload == json.loads(path.read_text()), "run with UPDATE_SNAPSHOTS=1 if the change is intended"


async def subscribe(session: ShapedSession, channel: int, options: str) -> None:
    requests = await session.invoke(f"/alerts subscribe channel:{channel} {options}")
    assert replies(requests)[0]["embeds"][0]["title"] == "Alerts subscribed", reply_text(requests)


async def test_a_selloff_posts_exactly_these_messages(selloff: App, session: ShapedSession) -> None:
    await subscribe(session, CH_A, MAJORS)
    await subscribe(session, CH_B, f"coins:ETH types:oi thresholds:oi_24h=8 role:{ROLE_ID}")
    start = len(session.fake.requests)
    report = await selloff.services.alerts.run_cycle()
    assert [(f.obs.coin, f.obs.rule) for f in report.fired] == [
        ("BTC", "move"),
        ("BTC", "liquidations"),
        ("SOL", "move"),
        ("ETH", "oi_flush"),
    ]
    a, b = channel_posts(session.fake.requests[start:])
    assert a.path == f"/channels/{CH_A}/messages"
    assert a.json["allowed_mentions"] == {"parse": []}
    assert [e["title"] for e in a.json["embeds"]] == [
        "📉 BTC −6.1% in 24h",
        "💥 BTC liquidation spike: $174K in 15m",
        "📉 SOL −8.8% in 24h",
    ]
    buttons = [c["custom_id"] for row in a.json["components"] for c in row["components"]]
    assert buttons == ["tapewatch:why:BTC:24h", "tapewatch:why:SOL:24h"]
    check_snapshot(a.json, "selloff_majors.json")
    # the role the admin chose, and only it, is pinged
    assert b.path == f"/channels/{CH_B}/messages"
    assert b.json["content"] == f"<@&{ROLE_ID}>"
    assert b.json["allowed_mentions"] == {"parse": [], "roles": [ROLE_ID]}
    check_snapshot(b.json, "selloff_eth_oi.json")

    # once: the next evaluation, and one after a restart, send nothing
    start = len(session.fake.requests)
    await selloff.services.alerts.run_cycle()
    restarted = fresh_alerts(selloff)
    restarted.attach(Dispatcher(session.bot))
    await restarted.run_cycle()
    assert channel_posts(session.fake.requests[start:]) == []

    # the button answers with /why for that coin, privately, to whoever clicks
    message = session.fake._message(CH_A, a.json)
    requests = await session.click(message, "tapewatch:why:SOL:24h")
    [reply] = replies(requests)
    assert reply["flags"] & 64
    assert reply["embeds"][0]["title"].startswith("SOL −8.8% in 24h: ")
    # with the reply controls of /why, theirs to press (a private answer: nothing to delete)
    labels = [c["label"] for row in reply["components"] for c in row["components"]]
    assert labels == ["1h", "4h", "24h", "7d", "Chart", "Levels", "Liquidations"]


async def test_forbidden_and_gone_channels_are_disabled_while_others_still_receive(
    selloff: App, session: ShapedSession
) -> None:
    for channel in (CH_FORBIDDEN, CH_A, CH_GONE):
        await subscribe(session, channel, MAJORS)
    session.fake.channel_errors[CH_FORBIDDEN] = 403
    session.fake.channel_errors[CH_GONE] = 404
    report = await selloff.services.alerts.run_cycle()
    status = {d.channel_id: (d.status, d.reason) for d in report.deliveries}
    assert status == {
        CH_FORBIDDEN: ("forbidden", "not allowed to post (403 Missing Access)"),
        CH_A: ("sent", None),
        CH_GONE: ("gone", "channel not found (404 Unknown Channel)"),
    }
    subs = {s.channel_id: s for s in db.guild_subscriptions(selloff.store.sync, GUILD_ID)}
    assert subs[CH_A].disabled_reason is None
    assert subs[CH_A].alerts_sent == 3
    assert subs[CH_FORBIDDEN].disabled_reason == "not allowed to post (403 Missing Access)"
    assert subs[CH_GONE].disabled_reason == "channel not found (404 Unknown Channel)"
    text = reply_text(await session.invoke("/alerts list"))
    assert "⛔ disabled since 2026-03-10 15:00 UTC: not allowed to post (403 Missing Access)" in text
    assert "⛔ disabled since 2026-03-10 15:00 UTC: channel not found (404 Unknown Channel)" in text
    assert "🟢 active\nLast alert 0 s ago (3 sent)" in text
    # disabled channels are not tried again; subscribing anew re-enables one
    start = len(session.fake.requests)
    await selloff.services.alerts.run_cycle()
    assert channel_posts(session.fake.requests[start:]) == []
    del session.fake.channel_errors[CH_FORBIDDEN]
    await subscribe_again(session, CH_FORBIDDEN)
    assert db.guild_subscription(selloff.store.sync, GUILD_ID, CH_FORBIDDEN).disabled_reason is None  # type: ignore[union-attr]


async def subscribe_again(session: ShapedSession, channel: int) -> None:
    requests = await session.invoke(f"/alerts subscribe channel:{channel} {MAJORS}")
    assert replies(requests)[0]["embeds"][0]["title"] == "Alerts updated"


async def test_test_posts_a_sample_and_reports_a_forbidden_channel(
    selloff: App, session: ShapedSession
) -> None:
    requests = await session.invoke(f"/alerts test channel:{CH_A}")
    [post] = channel_posts(requests)
    assert (
        post.json["embeds"][0]["fields"][0]["value"]
        == "This channel is not subscribed yet: use /alerts subscribe."
    )
    assert [c["custom_id"] for row in post.json["components"] for c in row["components"]] == [
        "tapewatch:why:BTC:24h"
    ]
    session.fake.channel_errors[CH_B] = 403
    requests = await session.invoke(f"/alerts test channel:{CH_B}")
    assert reply_text(requests) == (
        f"I can't post in <#{CH_B}> (not allowed to post (403 Missing Access)): give my role View Channel, "
        "Send Messages and Embed Links there."
    )
