"""Alert evaluation is one process's at a time, and a takeover re-sends nothing: two apps on
one store (two processes' worth: each its own store handle and lease), on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from bot.app import App, build_app
from bot.clock import FrozenClock
from bot.dispatch import Dispatcher
from bot.settings import Settings
from tests.alerts.conftest import CH_A, ShapedSession, seed_flat_market
from tests.alerts.test_engine import cycle_posts, move_to, subscribe

ALERT = ["📈 ETH +6.0% in 1h"]


@pytest.fixture
def settings(settings: Settings, db: str) -> Settings:
    return settings.model_copy(update={"db": db})


@pytest.fixture
async def other(settings: Settings, clock: FrozenClock, shaped: ShapedSession) -> AsyncIterator[App]:
    """Another process on the same store: its own store handle (so its own lease), posting
    through the same fake Discord (one per test process)."""
    second = build_app(settings, clock=clock)
    second.services.alerts.attach(Dispatcher(shaped.bot))
    yield second
    second.close()


async def other_posts(other: App, shaped: ShapedSession) -> list[str]:
    return await cycle_posts(other, shaped, other.services.alerts)


async def test_one_process_evaluates_and_a_takeover_resends_nothing(
    app: App, clock: FrozenClock, shaped: ShapedSession, other: App
) -> None:
    seed_flat_market(app)
    await subscribe(app, CH_A)
    assert await cycle_posts(app, shaped) == []  # the first process takes the lease
    move_to(app, clock, 5, 106.0)  # +6% in 1h
    assert await other_posts(other, shaped) == []  # not the evaluating process
    assert await cycle_posts(app, shaped) == ALERT  # the evaluating one: once
    assert not await other.services.alerts.leading()

    app.store.sync.lease("alerts").release()  # the first process dies
    move_to(app, clock, 15, 106.5)
    assert await other_posts(other, shaped) == []  # took over: nothing re-sent
    assert await other.services.alerts.leading()
    assert not await app.services.alerts.leading()  # and holds it now
    move_to(app, clock, 75, 103.0)  # fell back: re-armed
    assert await other_posts(other, shaped) == []
    move_to(app, clock, 80, 106.0)
    assert await cycle_posts(app, shaped) == []
    assert await other_posts(other, shaped) == ALERT  # once, from the new evaluator
