"""The answer cache: one computation per key and data version, never a stale answer served
after the data changed, older versions dropped, and a bounded queue."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta

import pytest

from bot.clock import FrozenClock
from bot.models import Liquidation
from bot.services.answers import AnswerCache, Busy, Workload
from bot.store import Store
from bot.store.version import PRAGMA_EVERY
from tests.conftest import NOW


class Counted:
    """A computation that counts its runs and can be held until released."""

    def __init__(self) -> None:
        self.runs = 0
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self) -> int:
        self.runs += 1
        await self.release.wait()
        return self.runs


async def test_concurrent_identical_requests_share_one_computation() -> None:
    version = [1]
    cache = AnswerCache(lambda: version[0], FrozenClock(NOW))
    compute = Counted()
    compute.release.clear()
    waiting = [asyncio.ensure_future(cache.get(("why", "BTC", "24h"), compute)) for _ in range(200)]
    await asyncio.sleep(0)  # every request has reached the cache
    compute.release.set()
    answers = await asyncio.gather(*waiting)
    assert compute.runs == 1
    assert set(answers) == {1}
    assert (cache.stats.misses, cache.stats.coalesced, cache.stats.hits) == (1, 199, 0)
    assert await cache.get(("why", "BTC", "24h"), compute) == 1
    assert cache.stats.hits == 1


async def test_a_new_data_version_is_computed_again_and_replaces_the_old_answer() -> None:
    version = [(1, 1)]
    cache = AnswerCache(lambda: version[0], FrozenClock(NOW))
    compute = Counted()
    assert await cache.get("k", compute) == 1
    assert await cache.get("other", compute) == 2
    version[0] = (2, 1)
    assert await cache.get("k", compute) == 3
    assert await cache.get("k", compute) == 3
    assert len(cache._entries) == 2  # one answer per key, never a history of versions


async def test_newer_liquidations_are_served_late_only_under_load_and_only_within_the_grace() -> None:
    version = [(1, 1)]
    cache = AnswerCache(lambda: version[0], FrozenClock(NOW), workload=Workload(workers=1, max_wait=60))
    compute = Counted()
    assert await cache.get("k", compute) == 1
    version[0] = (1, 2)  # only liquidations changed
    assert await cache.get("k", compute) == 2  # idle: computed again, never served behind
    held = Counted()
    held.release.clear()
    blocking = asyncio.ensure_future(cache.get("slow", held))
    await asyncio.sleep(0.01)
    assert cache.workload.busy
    version[0] = (1, 3)
    assert await cache.get("k", compute) == 2  # busy: the answer one liquidation batch behind
    assert cache.stats.lagging == 1
    version[0] = (2, 3)  # other data changed: never served behind, busy or not
    waiting = asyncio.ensure_future(cache.get("k", compute))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    cache.liquidation_grace = 0.0
    held.release.set()
    assert await blocking == 1
    assert await waiting == 3


async def test_answers_expire_with_the_injected_clock() -> None:
    clock = FrozenClock(NOW)
    cache = AnswerCache(lambda: 1, clock, max_age=timedelta(seconds=30))
    compute = Counted()
    await cache.get("k", compute)
    clock.advance(seconds=30)
    assert await cache.get("k", compute) == 1
    clock.advance(seconds=1)
    assert await cache.get("k", compute) == 2


def changed(store: Store, old: tuple[int, int]) -> tuple[int, int]:
    """The store's data version once it differs from ``old`` (waiting up to 10 s)."""
    deadline = time.monotonic() + 10
    while (now := store.data_version()) == old and time.monotonic() < deadline:
        time.sleep(0.02)
    return now


def test_a_store_write_changes_its_part_of_the_version(db: str) -> None:
    store = Store(db)
    try:
        before = store.data_version()
        assert store.data_version() == before  # reading changes nothing
        store.record_success("binance", NOW)
        other = store.data_version()
        assert other[0] != before[0]
        assert other[1] == before[1]
        event = Liquidation(
            venue="binance", coin="BTC", side="long", price=1.0, qty=1.0, usd=1.0, ts=NOW, event_id="e1"
        )
        assert store.insert_liquidations([event]) == 1
        liq = store.data_version()
        assert liq[0] == other[0]
        assert liq[1] != other[1]
        outside = Store(db)  # another process's writer
        if store.backend == "sqlite":
            store._version.looked_at = time.monotonic()  # looked just now (however slow this machine)
            outside.record_failure("okx", NOW, "timeout")
            assert store.data_version() == liq  # another process is looked for at most every 0.1 s …
            store._version.looked_at -= PRAGMA_EVERY  # … so let that time pass
            seen = store.data_version()
        else:  # read by the backend's thread every 0.1 s: wait for it
            outside.record_failure("okx", NOW, "timeout")
            seen = changed(store, liq)
        assert seen[0] != liq[0]
        assert seen[1] == liq[1]
        outside.insert_liquidations([event.model_copy(update={"event_id": "e2"})])
        store._version.looked_at -= PRAGMA_EVERY
        latest = changed(store, seen)
        if store.backend == "postgresql":  # the kinds kept apart across processes too
            assert latest[0] == seen[0]
        outside.close()
    finally:
        store.close()


async def test_past_the_queue_limit_a_request_is_refused_with_when_to_come_back() -> None:
    cache = AnswerCache(lambda: 1, FrozenClock(NOW), workload=Workload(workers=1, max_wait=0.25))
    held = Counted()
    held.release.clear()
    running = [asyncio.ensure_future(cache.get(i, held)) for i in range(3)]  # 3 x 0.1 s estimated
    await asyncio.sleep(0)
    with pytest.raises(Busy) as refused:
        await cache.get("one more", held)
    assert refused.value.retry_after > 0.25  # the words: tests/render/test_refusals.py
    assert cache.stats.refused == 1
    held.release.set()
    assert sorted(await asyncio.gather(*running)) == [1, 2, 3]
    assert await cache.get(0, held) == 1  # the finished answers are served, not refused
