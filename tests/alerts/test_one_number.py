"""One move, one number: an alert's move, the Why line under it and /why state the same
figure, computed by one function, even on a store whose preferred venue holds old rows (an
imported scenario's) while the live bars come from another venue."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.clock import FrozenClock
from bot.models import Candle
from bot.render.why import headline
from tests.alerts.conftest import CH_A, ShapedSession, channel_posts, set_price
from tests.alerts.test_engine import subscribe
from tests.conftest import NOW


def bars(venue: str, market: str, start: timedelta, hours: int, level: float) -> list[Candle]:
    return [
        Candle(
            coin="ETH",
            venue=venue,  # type: ignore[arg-type]
            market=market,  # type: ignore[arg-type]
            interval="1h",
            open_time=NOW + start + k * timedelta(hours=1),
            open=level,
            high=level * 1.001,
            low=level * 0.999,
            close=level,
            volume=1.0,
        )
        for k in range(hours)
    ]


async def test_alert_why_line_and_why_state_the_same_move(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    store = app.store.sync
    # Binance spot (the preferred venue) holds a month of old rows at another price level, ending
    # ten days ago; the live hourly bars are Bybit's perps.
    store.upsert_candles(bars("binance", "spot", -timedelta(days=30), 20 * 24, 80.0))
    store.upsert_candles(bars("bybit", "perp", -timedelta(hours=40), 42, 100.0))
    await subscribe(app, CH_A, rules=("move",))
    clock.now = NOW + timedelta(minutes=5)
    set_price(app, "ETH", 106.0, clock.now)
    start = len(shaped.fake.requests)
    await app.services.alerts.run_cycle()
    [post] = channel_posts(shaped.fake.requests[start:], CH_A)
    [embed] = post.json["embeds"]
    assert embed["title"] == "📈 ETH +6.0% in 1h"
    why_line = embed["fields"][0]["value"]
    assert why_line.startswith("**ETH +6.0% in 1h")
    answer = await app.services.why.why(app.registry.get("ETH"), "1h")
    assert headline(answer).startswith("ETH +6.0% in 1h")


async def test_a_stale_price_raises_no_move_alert(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    """The bars moved but the ticker is stale: /why would show the stale price, so the alert
    does not state a move of its own from the bars."""
    store = app.store.sync
    store.upsert_candles(bars("binance", "spot", -timedelta(hours=40), 40, 100.0))
    store.upsert_candles(bars("binance", "spot", timedelta(0), 1, 130.0))  # the last closed bar jumped
    await subscribe(app, CH_A, rules=("move",))
    set_price(app, "ETH", 100.0, NOW - timedelta(hours=2))  # stale by the time of the cycle
    clock.now = NOW + timedelta(hours=1, minutes=5)
    start = len(shaped.fake.requests)
    await app.services.alerts.run_cycle()
    assert channel_posts(shaped.fake.requests[start:], CH_A) == []
