"""The outbox in one process against the fake Discord: an alert decided by a process that dies
before (or while) posting is posted once by the next; rows of another shard's guilds wait for
that shard's process; a message past its time is dropped, not posted; a drain asked for while
one runs is folded into it."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Sequence
from datetime import timedelta

import pytest

from bot.alerts.messages import Delivery, Queued, SamplePost
from bot.alerts.outbox import EXPIRES, POSTER_GONE, outbox_row
from bot.alerts.service import AlertsService
from bot.app import App
from bot.clock import FrozenClock
from bot.dispatch import Dispatcher
from bot.fake_discord import GUILD_ID
from bot.store.outbox import OutboxRow
from tests.alerts.conftest import CH_A, ShapedSession, channel_posts, seed_flat_market
from tests.alerts.test_engine import move_to, subscribe

ALERT = "📈 ETH +6.0% in 1h"


class Dying:
    """A dispatcher whose process is killed while its posts are in flight: ``send`` never
    returns (Discord received them when ``delivered``, else never)."""

    def __init__(self, real: Dispatcher, *, delivered: bool) -> None:
        self.real = real
        self.delivered = delivered
        self.in_flight = asyncio.Event()

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    async def send(self, messages: Sequence[Queued]) -> list[Delivery]:
        if self.delivered:
            await self.real.send(messages)
        self.in_flight.set()
        await asyncio.Event().wait()  # killed here
        raise AssertionError("unreachable")


class OnShards(Dispatcher):
    def __init__(self, real: Dispatcher, ids: list[int]) -> None:
        super().__init__(real.client)
        self.ids = ids

    def shards(self) -> tuple[int, list[int]] | None:
        return 2, self.ids


def restarted(app: App, shaped: ShapedSession) -> AlertsService:
    """The next process: a new service reading everything back from the store."""
    service = AlertsService(app.services.market, app.services.why, app.services.liquidations)
    service.attach(Dispatcher(shaped.bot))
    return service


async def kill_mid_post(app: App, clock: FrozenClock, shaped: ShapedSession, *, delivered: bool) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A)
    dying = Dying(app.services.alerts.dispatcher, delivered=delivered)  # type: ignore[arg-type]
    app.services.alerts.dispatcher = dying  # type: ignore[assignment]
    move_to(app, clock, 5, 106.0)
    cycle = asyncio.create_task(app.services.alerts.run_cycle())
    await dying.in_flight.wait()
    cycle.cancel()  # the process is gone: its states and the queued message are in the store
    await asyncio.gather(cycle, return_exceptions=True)


async def test_a_message_not_received_before_the_crash_is_posted_by_the_next_process(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    await kill_mid_post(app, clock, shaped, delivered=False)
    assert channel_posts(shaped.fake.requests) == []
    nxt = restarted(app, shaped)
    move_to(app, clock, 6, 106.0)
    assert await nxt.drain() == []  # the dead process's claim still stands
    await nxt.run_cycle()
    assert channel_posts(shaped.fake.requests) == []  # its state says fired: nothing re-decided
    clock.now += timedelta(seconds=2 * 30 + 5)  # the claim ran out
    [d] = await nxt.drain()
    assert d.status == "sent"
    [post] = channel_posts(shaped.fake.requests, CH_A)
    assert [e["title"] for e in post.json["embeds"]] == [ALERT]
    assert shaped.fake.deduplicated == []
    [row] = app.store.sync.outbox_rows()
    assert (row["outcome"], row["attempts"]) == ("sent", 2)
    sub = await nxt.subscription(GUILD_ID, CH_A)
    assert sub is not None
    assert sub.alerts_sent == 1


async def test_a_message_received_before_the_crash_is_not_doubled(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    await kill_mid_post(app, clock, shaped, delivered=True)
    assert len(channel_posts(shaped.fake.requests, CH_A)) == 1  # Discord has it; the poster never heard
    nxt = restarted(app, shaped)
    clock.now += timedelta(minutes=2)
    [d] = await nxt.drain()  # posted again with its nonce: Discord returns the first message
    assert d.status == "sent"
    assert shaped.fake.accepted_posts() == {CH_A: 1}
    assert len(shaped.fake.deduplicated) == 1
    [row] = app.store.sync.outbox_rows()
    assert row["outcome"] == "sent"
    assert row["message_id"] is not None


async def test_another_shards_guild_waits_for_its_process_then_anyone_posts_it(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A)
    real = app.services.alerts.dispatcher
    assert isinstance(real, Dispatcher)
    shard = (GUILD_ID >> 22) % 2
    app.services.alerts.attach(OnShards(real, [1 - shard]))  # this process holds the other shard
    app.store.sync.beat_posters(2, [shard], clock.now)  # and another process posts for GUILD_ID's
    move_to(app, clock, 5, 106.0)
    app.store.sync.beat_posters(2, [shard], clock.now)
    report = await app.services.alerts.run_cycle()
    assert len(report.fired) == 1
    assert report.deliveries == []  # queued for the process holding GUILD_ID's shard
    assert channel_posts(shaped.fake.requests) == []
    clock.now += POSTER_GONE - timedelta(seconds=1)
    assert await app.services.alerts.drain() == []
    clock.now += timedelta(seconds=2)  # that process has not said it is alive for 30 s: down
    [d] = await app.services.alerts.drain()
    assert d.status == "sent"
    assert len(channel_posts(shaped.fake.requests, CH_A)) == 1
    [row] = app.store.sync.outbox_rows()
    assert row["claimed_by"] == app.services.alerts.outbox.owner


async def test_a_message_past_its_time_is_dropped_not_posted(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A)
    service = app.services.alerts
    service.detach()  # no bot: nothing can be formatted, the alert stays armed
    move_to(app, clock, 5, 106.0)
    assert (await service.run_cycle()).fired != []
    assert app.store.sync.outbox_rows() == []
    # a bot holding the other shard: the message waits for the process of GUILD_ID's shard,
    # alive when the message is queued, which then goes down with it for 15 minutes
    shard = (GUILD_ID >> 22) % 2
    service.attach(OnShards(Dispatcher(shaped.bot), [1 - shard]))
    move_to(app, clock, 6, 106.0)
    app.store.sync.beat_posters(2, [shard], clock.now)
    await service.run_cycle()
    clock.now += EXPIRES["alerts"] + timedelta(seconds=1)
    assert await service.drain() == []
    [row] = app.store.sync.outbox_rows()
    assert row["outcome"] == "expired"
    assert channel_posts(shaped.fake.requests) == []


class Gated(Dispatcher):
    """Posts wait for the gate."""

    def __init__(self, real: Dispatcher) -> None:
        super().__init__(real.client)
        self.gate = asyncio.Event()
        self.waiting = asyncio.Event()

    async def send(self, messages: Sequence[Queued]) -> list[Delivery]:
        self.waiting.set()
        await self.gate.wait()
        return await super().send(messages)


async def test_a_drain_asked_for_while_one_runs_is_folded_into_it(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A)
    service = app.services.alerts
    assert isinstance(service.dispatcher, Dispatcher)
    gated = Gated(service.dispatcher)
    service.attach(gated)
    move_to(app, clock, 5, 106.0)
    cycle = asyncio.create_task(service.run_cycle())
    await gated.waiting.wait()  # the cycle's drain is posting
    # another process queued a message meanwhile (the large-liquidation pass, say)
    [row] = app.store.sync.outbox_rows()
    again = OutboxRow(
        guild_id=GUILD_ID,
        channel_id=CH_A,
        kind="large",
        nonce="other",
        body=row["body"],
        alerts=1,
        created_at=clock.now,
        expires_at=clock.now + timedelta(minutes=15),
    )
    app.store.sync.queue_outbox([again])
    assert await service.drain() == []  # one drain at a time: this one is folded into it
    gated.gate.set()
    report = await cycle
    assert [d.status for d in report.deliveries] == ["sent", "sent"]  # the running drain took both
    assert len(channel_posts(shaped.fake.requests, CH_A)) == 2


async def test_the_outbox_job_drains_in_the_background_and_outlives_a_failing_store(
    app: App,
    clock: FrozenClock,
    shaped: ShapedSession,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    service = app.services.alerts
    assert service.dispatcher is not None
    post = SamplePost(GUILD_ID, CH_A, clock.now, None, "BTC")
    app.store.sync.queue_outbox([outbox_row(service.dispatcher, post, "alerts", 1, "n-1", clock.now)])
    caplog.set_level(logging.INFO, logger="bot.alerts.outbox")
    await service.drain_soon()
    await service.drain_soon()  # the first still runs: not a second drain
    await service.idle()
    assert "posted 1 alert message(s) in " in caplog.text  # one line per drain, for the operator
    [sent] = channel_posts(shaped.fake.requests, CH_A)
    assert sent.json["nonce"] == "n-1"
    assert sent.json["components"][0]["components"][0]["custom_id"] == "tapewatch:why:BTC:24h"

    def locked(*_: object, **__: object) -> None:
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(app.store.sync, "claim_outbox", locked)
    await service.drain_soon()
    await service.idle()  # logged, not raised: the next run tries again
    assert "posting from the alert outbox failed (OperationalError: database is locked)" in caplog.text
