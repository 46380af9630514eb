"""Issue 11's alert case: $237M of BTC longs liquidated within a minute posts one spike alert
within a minute, measured on open interest on a fresh install and on the coin's own 7-day
baseline once 30 days of history exist. The clock is moved, never waited on."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.app import App
from bot.clock import FrozenClock
from bot.render.basis import BASIS_MARKERS
from tests.alerts.conftest import CH_A, ShapedSession, channel_posts
from tests.alerts.test_engine import subscribe
from tests.conftest import NOW
from tests.scenarios.test_first_minute import SELLOFF, events, seed


@pytest.mark.parametrize("history_days", [0, 30])
async def test_a_cascade_alerts_once_within_a_minute(
    app: App, clock: FrozenClock, shaped: ShapedSession, history_days: int
) -> None:
    """$237M of BTC longs in one minute: the stream hook posts one alert, on open interest on
    a fresh install and on the coin's own 7-day baseline once it exists."""
    seed(app, SELLOFF, history_days=history_days)
    await subscribe(app, CH_A, coins=("BTC",), rules=("liquidations",))
    service = app.services.alerts
    clock.now = NOW + timedelta(seconds=50)
    batch = events("BTC", 237e6, "long", timedelta(0), 5, "cascade", timedelta(seconds=8))
    app.store.sync.insert_liquidations(batch)
    await service.on_liquidations(batch)
    await service.idle()
    [post] = channel_posts(shaped.fake.requests, CH_A)
    [embed] = post.json["embeds"]
    assert embed["title"].startswith("💥 BTC liquidation spike: $")
    if history_days:
        assert "7-day average" in embed["description"]
        assert BASIS_MARKERS["open_interest"] not in embed["description"]
    else:
        assert "no 7-day baseline yet: " in embed["description"]
        assert "of open interest liquidated in 15 min" in embed["description"]
    # more of the same episode a little later: still one alert
    clock.now = NOW + timedelta(seconds=110)
    more = events("BTC", 50e6, "long", timedelta(seconds=60), 2, "more", timedelta(seconds=20))
    app.store.sync.insert_liquidations(more)
    await service.on_liquidations(more)
    await service.idle()
    assert len(channel_posts(shaped.fake.requests, CH_A)) == 1
