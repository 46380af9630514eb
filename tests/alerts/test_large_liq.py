"""Large single liquidations: each coin's bar (open interest, or the fixed size without it), a
cascade replayed batch by batch through the stream hook becoming one message per channel per
minute (largest first, nothing lost or doubled across a restart), mutes, transient failures,
the wording, and subscribing through /alerts subscribe."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from bot.alerts import store as db
from bot.alerts.config import AlertConfig, parse_rules
from bot.alerts.large import LOOKBACK, bar_for
from bot.alerts.messages import LargeBar, LargeLiqPost
from bot.alerts.service import AlertsService
from bot.app import App
from bot.clock import FrozenClock
from bot.dispatch import Dispatcher
from bot.fake_discord import GUILD_ID, DiscordRequest
from bot.models import Liquidation, OpenInterest
from bot.render.alerts import present
from tests.alerts.conftest import CH_A, CH_B, ShapedSession, channel_posts, replies, seed_flat_market
from tests.alerts.test_engine import FailingOnce, subscribe
from tests.conftest import NOW

BTC_OI = 10e9  # 0.02% of it: a $2M bar
BTC_BAR = 2e6
ETH_BAR = 1e6  # no ETH open interest: the fixed size


def event(
    coin: str, usd: float, at: datetime, n: int, side: str = "long", venue: str = "binance"
) -> Liquidation:
    return Liquidation(
        venue=venue,  # type: ignore[arg-type]
        coin=coin,
        side=side,  # type: ignore[arg-type]
        price=67_420.0 if coin == "BTC" else 3_210.0,
        qty=usd / 67_420.0,
        usd=usd,
        ts=at,
        event_id=f"{coin}-{n}",
    )


def seed(app: App) -> None:
    seed_flat_market(app)
    app.store.sync.upsert_open_interest(
        [OpenInterest(coin="BTC", venue="binance", ts=NOW - timedelta(minutes=5), oi_usd=BTC_OI)]
    )


def cascade() -> list[list[Liquidation]]:
    """Four minutes of batches, one every 10 s: a large BTC long every batch (sizes vary so the
    order is visible), a large ETH short every third, and small ones that never qualify."""
    batches = []
    for k in range(24):
        at = NOW + timedelta(seconds=10 * k + 1)
        batch = [
            event("BTC", BTC_BAR * (1.1 + (k * 7 % 11) / 4), at, k),
            event("BTC", BTC_BAR * 0.9, at, 100 + k, venue="bybit"),  # under the bar
            event("ETH", 50_000.0, at, 200 + k),
        ]
        if k % 3 == 0:
            batch.append(event("ETH", ETH_BAR * (1 + k / 10), at, 300 + k, side="short", venue="okx"))
        batches.append(batch)
    return batches


AMOUNT = re.compile(r"\*\*\$([\d.]+)([KMB]?) ")
SCALE = {"": 1.0, "K": 1e3, "M": 1e6, "B": 1e9}


def listed(post: DiscordRequest) -> list[float]:
    [embed] = post.json["embeds"]
    return [float(n) * SCALE[u] for n, u in AMOUNT.findall(embed["description"])]


def counted(post: DiscordRequest) -> int:
    [embed] = post.json["embeds"]
    m = re.match(r"💥 (\d+) large liquidations", embed["title"])
    return int(m[1]) if m else 1


def test_the_bar_stands_on_open_interest_or_a_fixed_size() -> None:
    cfg = AlertConfig()
    assert bar_for("BTC", BTC_OI, cfg) == LargeBar("BTC", 2e6, "open_interest", BTC_OI, 0.02, 100_000.0)
    assert bar_for("PEPE", 50e6, cfg).usd == 100_000.0  # 0.02% is $10K: the floor
    assert bar_for("ETH", None, cfg) == LargeBar("ETH", 1e6, "fixed")
    assert parse_rules("large liquidations, move") == ("move", "large_liq")


def test_the_wording() -> None:
    at = NOW + timedelta(seconds=30)
    big = event("BTC", 12e6, at, 1)
    bars = {"BTC": bar_for("BTC", BTC_OI, AlertConfig()), "ETH": bar_for("ETH", None, AlertConfig())}
    one = present(LargeLiqPost(GUILD_ID, CH_A, at, [big], 1, 12e6, {"BTC": bars["BTC"]}))
    [embed] = one.embeds
    assert embed.title == "💥 $12.0M BTC long liquidated on Binance at $67,420"
    assert (
        embed.description
        == f"• **$12.0M BTC long liquidated on Binance at $67,420** · <t:{int(at.timestamp())}:T>"
    )
    assert embed.fields[0].value == "BTC ≥ $2.00M: 0.02% of its open interest of $10.0B"
    assert one.buttons == [("BTC", "1h")]
    shown = [event("BTC", (12 - k) * 1e6, at, k) for k in range(5)]
    many = present(LargeLiqPost(GUILD_ID, CH_A, at, shown, 42, 180e6, bars))
    [embed] = many.embeds
    assert embed.title == "💥 42 large liquidations, $180M in all"
    assert embed.description is not None
    assert embed.description.endswith("\n…and 37 more, $180M in all")
    assert embed.fields[0].value.endswith("ETH ≥ $1.00M: a fixed size, its open interest not known")


async def test_a_replayed_cascade_is_one_message_per_minute_largest_first_across_a_restart(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed(app)
    await subscribe(app, CH_A, coins=("BTC", "ETH"), rules=("large_liq",))
    await subscribe(app, CH_B, coins=("ETH",), rules=("large_liq",))
    service = app.services.alerts
    posted_at: dict[int, list[datetime]] = {CH_A: [], CH_B: []}

    async def step(svc: AlertsService, batch: list[Liquidation] | None) -> None:
        before = {ch: len(channel_posts(shaped.fake.requests, ch)) for ch in posted_at}
        if batch:
            app.store.sync.insert_liquidations(batch)  # the stream's sink, then its hook
            await svc.on_liquidations(batch)
            await svc.idle()
        else:
            await svc.run_large()  # the interval job
        for ch, n in before.items():
            posted_at[ch] += [clock.now] * (len(channel_posts(shaped.fake.requests, ch)) - n)

    batches = cascade()
    for k, batch in enumerate(batches):
        clock.now = NOW + timedelta(seconds=10 * k + 2)
        if k == 12:  # a restart mid-cascade: a new service reads what was sent from the store
            service.detach()
            service = AlertsService(app.services.market, app.services.why, app.services.liquidations)
            service.attach(Dispatcher(shaped.bot))
        await step(service, batch)
        if k % 2:
            await step(service, None)
    for seconds in (15, 30, 45, 60, 75):  # the cascade is over: its tail goes out
        clock.now = NOW + timedelta(seconds=240 + seconds)
        await step(service, None)

    every = [e for b in batches for e in b]
    a_posts = channel_posts(shaped.fake.requests, CH_A)
    # the first large event is posted with its batch, then at most one message a minute
    assert posted_at[CH_A][0] == NOW + timedelta(seconds=2)
    gaps = [b - a for a, b in zip(posted_at[CH_A], posted_at[CH_A][1:], strict=False)]
    assert len(gaps) == 4
    assert all(g >= timedelta(minutes=1) for g in gaps)
    assert len(a_posts) == 5  # 4 minutes of cascade: the first batch, then one a minute
    # largest first in every message, at most five named
    for post in a_posts:
        amounts = listed(post)
        assert amounts == sorted(amounts, reverse=True)
        assert 1 <= len(amounts) <= 5
    # nothing lost, nothing doubled: the counts add up to every qualifying event
    large_a = [e for e in every if e.usd >= (BTC_BAR if e.coin == "BTC" else ETH_BAR)]
    assert sum(counted(p) for p in a_posts) == len(large_a)
    assert sum(e.usd for e in large_a) > 0
    # CH_B watches ETH only: its own minute, its own events
    b_posts = channel_posts(shaped.fake.requests, CH_B)
    large_b = [e for e in large_a if e.coin == "ETH"]
    assert sum(counted(p) for p in b_posts) == len(large_b)
    assert all("BTC" not in p.json["embeds"][0]["description"] for p in b_posts)
    # nothing more to send, now or later
    clock.now += LOOKBACK
    await step(service, None)
    assert len(channel_posts(shaped.fake.requests, CH_A)) == 5
    sub = await service.subscription(GUILD_ID, CH_A)
    assert sub is not None
    assert sub.alerts_sent == 5


async def test_a_muted_channel_catches_nothing_up_and_a_failure_is_retried(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed(app)
    await subscribe(app, CH_A, coins=("BTC",), rules=("large_liq",))
    await subscribe(app, CH_B, coins=("BTC",), rules=("large_liq",))
    service = app.services.alerts
    await service.mute(GUILD_ID, CH_A, NOW + timedelta(minutes=5))
    service.dispatcher = FailingOnce(service.dispatcher)  # type: ignore[assignment]
    clock.now = NOW + timedelta(seconds=5)
    app.store.sync.insert_liquidations([event("BTC", 5e6, NOW + timedelta(seconds=3), 1)])
    await service.run_large()
    assert channel_posts(shaped.fake.requests) == []  # CH_A muted, CH_B's post failed (503)
    clock.now = NOW + timedelta(seconds=20)
    await service.run_large()  # nothing new to decide
    await service.drain()  # CH_B's message is retried from the outbox
    assert [p.path for p in channel_posts(shaped.fake.requests)] == [f"/channels/{CH_B}/messages"]
    clock.now = NOW + timedelta(minutes=6)  # unmuted: the muted event stays unsent
    await service.run_large()
    assert len(channel_posts(shaped.fake.requests)) == 1


async def test_subscribed_through_the_command(app: App, shaped: ShapedSession) -> None:
    requests = await shaped.invoke(f'/alerts subscribe channel:{CH_A} coins:btc types:"large liquidations"')
    [reply] = replies(requests)
    assert f"<#{CH_A}>: BTC\nTypes: large liquidation\n" in reply["embeds"][0]["description"]
    sub = db.guild_subscription(app.store.sync, GUILD_ID, CH_A)
    assert sub is not None
    assert sub.rules == ("large_liq",)
