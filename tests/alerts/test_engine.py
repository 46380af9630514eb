"""The state machine with an injected clock, the engine against a store it reads step by step,
liquidation-stream triggers, scheduler jobs and daily briefs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.alerts import store as db
from bot.alerts.jobs import register_alert_jobs
from bot.alerts.messages import Delivery, Queued
from bot.alerts.models import AlertState, Subscription
from bot.alerts.outbox import OUTBOX_JOB
from bot.alerts.service import ALERTS_JOB, BRIEFS_JOB, AlertsService
from bot.alerts.state import step
from bot.app import App
from bot.clock import FrozenClock
from bot.dispatch import Dispatcher
from bot.fake_discord import GUILD_ID
from bot.timeparse import next_brief_time, parse_duration, parse_local_time, resolve_timezone
from tests.alerts.conftest import (
    CH_A,
    CH_B,
    ShapedSession,
    channel_posts,
    liquidation,
    seed_flat_market,
    seed_liquidation_baseline,
    set_price,
)
from tests.conftest import NOW

COOLDOWN = timedelta(minutes=60)
H = 0.2


def run(states: Sequence[tuple[int, float]]) -> list[int]:
    """Feed (minute, score) pairs through one alert; the minutes at which it fired."""
    s: AlertState | None = None
    fired = []
    for minute, score in states:
        s, fire = step(s, score, NOW + timedelta(minutes=minute), cooldown=COOLDOWN, hysteresis=H)
        if fire:
            fired.append(minute)
    return fired


def test_no_second_alert_within_the_cooldown() -> None:
    # above, dips below the re-arm level, above again: still inside the cooldown
    assert run([(0, 1.2), (10, 1.5), (20, 0.5), (30, 1.3), (59, 1.4)]) == [0]


def test_rearmed_alert_fires_again_once_the_cooldown_is_over() -> None:
    assert run([(0, 1.2), (20, 0.5), (30, 1.3), (60, 1.3)]) == [0, 60]


def test_a_value_hovering_at_the_threshold_does_not_flap() -> None:
    # never back under 1 - h = 0.8, so one alert however long it wiggles
    wiggle = [(m, 1.05 if (m // 30) % 2 else 0.9) for m in range(0, 600, 10)]
    assert run([(0, 1.1), *wiggle]) == [0]


def test_rearm_needs_the_value_below_threshold_times_one_minus_h() -> None:
    s, fired = step(None, 1.2, NOW, cooldown=COOLDOWN, hysteresis=H)
    assert fired
    assert s.state == "fired"
    s, _ = step(s, 1.1, NOW + timedelta(minutes=90), cooldown=COOLDOWN, hysteresis=H)
    assert s.state == "cooling"  # cooldown over, never re-armed
    s, _ = step(s, 0.85, NOW + timedelta(minutes=95), cooldown=COOLDOWN, hysteresis=H)
    assert s.state == "cooling"
    s, _ = step(s, 0.79, NOW + timedelta(minutes=100), cooldown=COOLDOWN, hysteresis=H)
    assert s.state == "armed"
    s, fired = step(s, 1.01, NOW + timedelta(minutes=105), cooldown=COOLDOWN, hysteresis=H)
    assert fired


# -- the engine on a market moved step by step ---------------------------------------------------------


def subscription(channel: int, **kw: object) -> Subscription:
    fields: dict[str, object] = {
        "guild_id": GUILD_ID,
        "channel_id": channel,
        "coins": ("ETH",),
        "rules": ("move",),
        "created_at": NOW,
        "updated_at": NOW,
    }
    fields.update(kw)
    return Subscription.model_validate(fields)


async def subscribe(app: App, channel: int, **kw: object) -> None:
    await app.services.alerts.subscribe(subscription(channel, **kw))


async def cycle_posts(app: App, session: ShapedSession, service: AlertsService | None = None) -> list[str]:
    """Run one evaluation; the titles of the alerts it posted."""
    start = len(session.fake.requests)
    await (service or app.services.alerts).run_cycle()
    posts = channel_posts(session.fake.requests[start:])
    return [e["title"] for p in posts for e in p.json["embeds"]]


def move_to(app: App, clock: FrozenClock, minutes: int, price: float) -> None:
    clock.now = NOW + timedelta(minutes=minutes)
    set_price(app, "ETH", price, clock.now)


async def test_engine_alerts_once_then_rearms_after_hysteresis(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A)
    assert await cycle_posts(app, shaped) == []  # flat: nothing
    move_to(app, clock, 5, 106.0)  # +6% in 1h: past the 5% threshold
    assert await cycle_posts(app, shaped) == ["📈 ETH +6.0% in 1h"]
    move_to(app, clock, 15, 106.5)
    assert await cycle_posts(app, shaped) == []  # within the cooldown
    move_to(app, clock, 70, 105.5)
    assert await cycle_posts(app, shaped) == []  # cooldown over, but it never fell back: no re-send
    move_to(app, clock, 75, 103.0)  # +3%: under 5% × (1 − 0.2), re-armed
    assert await cycle_posts(app, shaped) == []
    move_to(app, clock, 80, 106.0)
    assert await cycle_posts(app, shaped) == ["📈 ETH +6.0% in 1h"]


async def test_a_restart_never_resends(app: App, clock: FrozenClock, shaped: ShapedSession) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A)
    move_to(app, clock, 5, 106.0)
    assert await cycle_posts(app, shaped) == ["📈 ETH +6.0% in 1h"]
    # a new process: the service is rebuilt and reads the states back from the store
    restarted = AlertsService(app.services.market, app.services.why, app.services.liquidations)
    restarted.attach(Dispatcher(shaped.bot))
    move_to(app, clock, 90, 106.0)  # still up, cooldown over
    assert await cycle_posts(app, shaped, restarted) == []
    [(key, state)] = db.load_states(app.store.sync, [CH_A]).items()
    assert key == (CH_A, "ETH", "move")
    assert state.state == "cooling"
    assert state.fired_at == NOW + timedelta(minutes=5)


async def test_several_alerts_for_one_channel_are_one_message(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A, coins=(), rules=("move",))
    clock.now = NOW + timedelta(minutes=5)
    set_price(app, "ETH", 106.0, clock.now)
    set_price(app, "BTC", 93.0, clock.now)
    start = len(shaped.fake.requests)
    await app.services.alerts.run_cycle()
    [post] = channel_posts(shaped.fake.requests[start:], CH_A)
    assert [e["title"] for e in post.json["embeds"]] == ["📉 BTC −7.0% in 1h", "📈 ETH +6.0% in 1h"]
    buttons = [c["custom_id"] for row in post.json["components"] for c in row["components"]]
    assert buttons == ["tapewatch:why:BTC:1h", "tapewatch:why:ETH:1h"]


class FailingOnce:
    """A dispatcher whose first posts fail for a passing reason (a 5xx, a timeout)."""

    def __init__(self, real: object) -> None:
        self.real = real
        self.calls = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.real, name)

    async def send(self, messages: Sequence[Queued]) -> list[Delivery]:
        self.calls += 1
        if self.calls == 1:
            return [Delivery(m.guild_id, m.channel_id, "failed", "Discord error (503)") for m in messages]
        return await self.real.send(messages)  # type: ignore[attr-defined, no-any-return]


async def test_a_transient_failure_is_retried_from_the_outbox(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A)
    service = app.services.alerts
    service.dispatcher = FailingOnce(service.dispatcher)  # type: ignore[assignment]
    move_to(app, clock, 5, 106.0)
    assert await cycle_posts(app, shaped) == []  # fired, queued, its post failed (503)
    [row] = app.store.sync.outbox_rows()
    assert (row["done_ms"], row["detail"]) == (None, "Discord error (503)")
    clock.now += timedelta(seconds=3)
    assert await service.drain() == []  # still waiting out its pause
    move_to(app, clock, 6, 106.0)
    assert await cycle_posts(app, shaped) == []  # the state says fired: nothing new
    start = len(shaped.fake.requests)
    [delivery] = await service.drain()  # the outbox job: the same message, posted once
    assert delivery.status == "sent"
    [post] = channel_posts(shaped.fake.requests[start:], CH_A)
    assert [e["title"] for e in post.json["embeds"]] == ["📈 ETH +6.0% in 1h"]
    assert post.json["nonce"] == row["nonce"]
    sub = await service.subscription(GUILD_ID, CH_A)
    assert sub is not None
    assert sub.disabled_reason is None
    assert sub.alerts_sent == 1
    assert await service.drain() == []


async def test_a_muted_channel_posts_nothing_and_catches_nothing_up(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A)
    await subscribe(app, CH_B)
    await app.services.alerts.mute(GUILD_ID, CH_A, NOW + timedelta(hours=1))
    move_to(app, clock, 5, 106.0)
    start = len(shaped.fake.requests)
    await app.services.alerts.run_cycle()
    assert [p.path for p in channel_posts(shaped.fake.requests[start:])] == [f"/channels/{CH_B}/messages"]
    move_to(app, clock, 65, 106.0)  # unmuted; the move is the same episode
    assert await cycle_posts(app, shaped) == []


async def test_a_liquidation_batch_alerts_within_seconds(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app)
    seed_liquidation_baseline(app, "ETH")  # $10K an hour: $2.5K per 15 min
    await subscribe(app, CH_A, rules=("liquidations",))
    clock.now = NOW + timedelta(seconds=30)
    batch = [liquidation("ETH", 400_000.0, NOW + timedelta(seconds=k), 1000 + k) for k in range(3)]
    app.store.sync.insert_liquidations(batch)  # what the stream's sink does before the hook
    await app.services.alerts.on_liquidations(batch)  # returns at once: evaluation runs in the background
    await app.services.alerts.idle()
    [post] = channel_posts(shaped.fake.requests, CH_A)
    [embed] = post.json["embeds"]
    assert embed["title"] == "💥 ETH liquidation spike: $1.20M in 15m"
    assert embed["description"] == (
        "$1.20M liquidated in 15m (100% longs): 480.7× its 7-day average of $2.50K per 15m; "
        "alerts above $500K. [public streams, a lower bound]"
    )
    # the next batch in the same episode stays quiet
    more = [liquidation("ETH", 50_000.0, NOW + timedelta(seconds=40), 2000)]
    app.store.sync.insert_liquidations(more)
    clock.now = NOW + timedelta(seconds=45)
    await app.services.alerts.on_liquidations(more)
    await app.services.alerts.idle()
    assert len(channel_posts(shaped.fake.requests, CH_A)) == 1


async def test_a_liquidation_batch_only_evaluates_spikes(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app)
    seed_liquidation_baseline(app, "ETH")
    await subscribe(app, CH_A, rules=("move", "liquidations"))
    move_to(app, clock, 5, 106.0)  # a move is waiting for the next refresh cycle
    await app.services.alerts.on_liquidations([liquidation("ETH", 10.0, clock.now, 1)])
    await app.services.alerts.idle()
    assert channel_posts(shaped.fake.requests) == []


# -- scheduling ------------------------------------------------------------------------------------


async def test_jobs_run_after_each_refresh_and_on_an_interval(app: App) -> None:
    scheduler = AsyncIOScheduler(timezone="UTC")
    register_alert_jobs(scheduler, app.services.alerts, app.settings)
    evaluate = scheduler.get_job(ALERTS_JOB)
    assert evaluate.trigger.interval == timedelta(seconds=app.settings.jobs.tickers_seconds)
    assert evaluate.max_instances == 1
    assert scheduler.get_job(BRIEFS_JOB).trigger.interval == timedelta(minutes=1)
    outbox = scheduler.get_job(OUTBOX_JOB)
    assert outbox.trigger.interval == timedelta(seconds=2)  # what other processes queued
    assert outbox.func == app.services.alerts.drain_soon  # in the background: never held by a fan-out
    before = evaluate.next_run_time
    scheduler._dispatch_event(JobExecutionEvent(EVENT_JOB_EXECUTED, "refresh-macro", "default", NOW))
    assert scheduler.get_job(ALERTS_JOB).next_run_time == before  # not a market refresh
    scheduler._dispatch_event(JobExecutionEvent(EVENT_JOB_EXECUTED, "refresh-tickers", "default", NOW))
    assert scheduler.get_job(ALERTS_JOB).next_run_time == NOW  # at once


# -- daily briefs ---------------------------------------------------------------------------------


def test_brief_times_follow_the_local_clock_across_dst() -> None:
    berlin_winter = next_brief_time(NOW, "08:00", "Europe/Berlin")  # NOW is 12:00 UTC, 13:00 in Berlin
    assert berlin_winter == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    before_dst = datetime(2027, 3, 27, 12, 0, tzinfo=UTC)  # clocks go forward on 28 March
    assert next_brief_time(before_dst, "08:00", "Europe/Berlin") == datetime(2027, 3, 28, 6, 0, tzinfo=UTC)
    assert next_brief_time(NOW, "12:00", "UTC") == NOW + timedelta(days=1)  # strictly after
    assert resolve_timezone("europe/berlin").key == "Europe/Berlin"
    assert resolve_timezone("America/New York").key == "America/New_York"


@pytest.mark.parametrize(
    ("text", "expected"), [("8", "08:00"), ("08:30", "08:30"), ("8:30pm", "20:30"), ("12am", "00:00")]
)
def test_local_times(text: str, expected: str) -> None:
    assert parse_local_time(text) == expected


@pytest.mark.parametrize(
    ("text", "minutes"), [("30m", 30), ("2h", 120), ("1d", 1440), ("1h30m", 90), ("45", 45)]
)
def test_durations(text: str, minutes: int) -> None:
    assert parse_duration(text) == timedelta(minutes=minutes)
    assert parse_duration("off") is None
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("soon")


async def test_brief_posts_once_at_local_time(app: App, clock: FrozenClock, shaped: ShapedSession) -> None:
    seed_flat_market(app)
    service = app.services.alerts
    brief = await service.set_brief(GUILD_ID, CH_A, "08:00", "Europe/Berlin", None)
    assert brief.next_due == datetime(2026, 11, 27, 7, 0, tzinfo=UTC)
    assert await service.run_briefs() == []  # not due yet
    clock.now = brief.next_due + timedelta(seconds=20)
    [sent] = await service.run_briefs()
    assert sent.status == "sent"
    [post] = channel_posts(shaped.fake.requests, CH_A)
    assert post.json["content"] == "📰 **Daily market brief** · Fri 27 Nov 2026, 08:00 Europe/Berlin"
    assert post.json["allowed_mentions"] == {"parse": []}
    titles = [e["title"] for e in post.json["embeds"]]
    assert titles[0].startswith("Market: BTC")
    assert titles[1] == "All tracked coins liquidations"
    assert await service.run_briefs() == []  # once
    restarted = AlertsService(app.services.market, app.services.why, app.services.liquidations)
    restarted.attach(Dispatcher(shaped.bot))
    assert await restarted.run_briefs() == []  # and not again after a restart
    [saved] = db.guild_briefs(app.store.sync, GUILD_ID)
    assert saved.next_due == datetime(2026, 11, 28, 7, 0, tzinfo=UTC)


async def test_a_brief_missed_for_hours_waits_for_the_next_day(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    service = app.services.alerts
    brief = await service.set_brief(GUILD_ID, CH_A, "08:00", "UTC", None)
    clock.now = brief.next_due + timedelta(hours=5)  # the bot was down
    assert await service.run_briefs() == []
    assert channel_posts(shaped.fake.requests) == []
    [saved] = db.guild_briefs(app.store.sync, GUILD_ID)
    assert saved.next_due == brief.next_due + timedelta(days=1)
