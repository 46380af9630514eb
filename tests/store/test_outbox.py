"""The alert outbox on both backends: queued in the state's transaction or not at all, claimed
by one poster at a time (two store handles, i.e. two processes, claiming at once take disjoint
rows), by gateway shard first, claimed again when a claim runs out, and settled once."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest

from bot.store import Store
from bot.store.alerts import AlertStateRow
from bot.store.outbox import ClaimedRow, OutboxRow, Settled
from tests.helpers import subscription_row

T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
# guild ids whose gateway shard (of 2) is 0 and 1: (guild_id >> 22) % 2
G0 = 4 << 22
G1 = 5 << 22


def row(guild: int, channel: int, nonce: str, at: datetime = T0) -> OutboxRow:
    return OutboxRow(
        guild_id=guild,
        channel_id=channel,
        kind="alerts",
        nonce=nonce,
        body='{"embeds": []}',
        alerts=2,
        created_at=at,
        expires_at=at + timedelta(minutes=15),
    )


def state(guild: int, channel: int, coin: str) -> AlertStateRow:
    return AlertStateRow(
        guild_id=guild,
        channel_id=channel,
        coin=coin,
        rule="move",
        state="fired",
        fired_at=T0,
        rearmed=False,
        score=1.5,
        updated_at=T0,
    )


def sent(r: ClaimedRow, outcome: str = "sent", detail: str | None = None) -> tuple[ClaimedRow, Settled]:
    return r, Settled(id=r["id"], outcome=outcome, detail=detail, message_id=7, retry_at=None)  # type: ignore[typeddict-item]


@pytest.fixture
def store(db: str) -> Store:
    s = Store(db)
    yield s  # type: ignore[misc]
    s.close()


def subscribe(store: Store, guild: int, channel: int) -> None:
    store.save_alert_subscription(subscription_row(guild, channel, T0, ["move"]))


def test_queued_with_the_states_or_not_at_all(store: Store) -> None:
    store.save_alert_states([state(G0, 10, "BTC")], [row(G0, 10, "n1")])
    assert [r["nonce"] for r in store.outbox_rows()] == ["n1"]
    assert len(store.load_alert_states([10])) == 1
    broken = state(G0, 11, "ETH")
    broken["state"] = None  # type: ignore[typeddict-item]  # NOT NULL: the transaction fails
    with pytest.raises(Exception, match=r"(?i)null"):
        store.save_alert_states([broken], [row(G0, 11, "n2")])
    assert [r["nonce"] for r in store.outbox_rows()] == ["n1"]  # the message went with it
    assert store.load_alert_states([11]) == []


def test_claims_are_disjoint_across_store_handles(db: str, store: Store) -> None:
    store.queue_outbox([row(G0 + k, 100 + k, f"n{k}") for k in range(60)])
    other = Store(db)
    got: dict[str, list[int]] = {"a": [], "b": []}
    handles = {"a": store, "b": other}

    def claim(name: str) -> None:
        while batch := handles[name].claim_outbox(name, T0, T0 + timedelta(minutes=1), 3):
            got[name] += [r["id"] for r in batch]

    threads = [threading.Thread(target=claim, args=(n,)) for n in handles]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    other.close()
    assert sorted(got["a"] + got["b"]) == [r["id"] for r in store.outbox_rows()]  # each once
    assert not set(got["a"]) & set(got["b"])


def test_a_shard_takes_its_own_guilds_and_knows_which_shards_have_a_poster(store: Store) -> None:
    store.queue_outbox([row(G0, 1, "a"), row(G1, 2, "b")])
    until = T0 + timedelta(minutes=1)
    assert [r["guild_id"] for r in store.claim_outbox("p0", T0, until, 10, shards=(2, [0]))] == [G0]
    assert store.claim_outbox("p0", T0, until, 10, shards=(2, [])) == []
    assert store.live_posters(2, T0) == set()
    store.beat_posters(2, [1], T0)
    store.beat_posters(4, [0, 3], T0)  # another shard count is another set of shards
    assert store.live_posters(2, T0) == {1}
    assert store.live_posters(4, T0 - timedelta(seconds=1)) == {0, 3}
    assert store.live_posters(2, T0 + timedelta(seconds=1)) == set()  # not since then
    assert [r["guild_id"] for r in store.claim_outbox("p1", T0, until, 10, shards=(2, [1]))] == [G1]


def test_a_claim_that_runs_out_is_claimed_again_and_settled_once(store: Store) -> None:
    subscribe(store, G0, 10)
    store.queue_outbox([row(G0, 10, "n1")])
    [first] = store.claim_outbox("dead", T0, T0 + timedelta(seconds=60), 10)
    assert store.claim_outbox("live", T0 + timedelta(seconds=30), T0 + timedelta(seconds=90), 10) == []
    [again] = store.claim_outbox("live", T0 + timedelta(seconds=61), T0 + timedelta(seconds=121), 10)
    assert (again["id"], again["nonce"], again["attempts"]) == (first["id"], "n1", 2)
    assert store.settle_outbox("dead", T0, [sent(first)]) == 0  # not its claim any more
    assert store.settle_outbox("live", T0, [sent(again)]) == 1
    assert store.settle_outbox("live", T0, [sent(again)]) == 0  # settled once
    [done] = store.outbox_rows()
    assert (done["outcome"], done["message_id"], done["body"]) == ("sent", 7, "")  # the body is let go
    [sub] = store.guild_alert_subscriptions(G0)
    assert sub["alerts_sent"] == 2  # the row carried two alerts, counted once
    assert store.claim_outbox("live", T0 + timedelta(hours=1), T0 + timedelta(hours=2), 10) == []
    assert store.outbox_waiting(T0) == (0, None)


def test_retry_waits_and_a_gone_channel_ends_its_subscription(store: Store) -> None:
    subscribe(store, G0, 10)
    store.queue_outbox([row(G0, 10, "n1")])
    [r] = store.claim_outbox("p", T0, T0 + timedelta(seconds=60), 10)
    retry = Settled(
        id=r["id"],
        outcome="retry",
        detail="Discord error (503)",
        message_id=None,
        retry_at=T0 + timedelta(seconds=5),
    )
    store.settle_outbox("p", T0, [(r, retry)])
    assert store.outbox_waiting(T0) == (1, T0)
    assert store.claim_outbox("p", T0 + timedelta(seconds=4), T0 + timedelta(seconds=60), 10) == []
    [r] = store.claim_outbox("p", T0 + timedelta(seconds=5), T0 + timedelta(seconds=60), 10)
    store.settle_outbox("p", T0, [sent(r, "gone", "channel not found (404)")])
    [sub] = store.guild_alert_subscriptions(G0)
    assert sub["disabled_reason"] == "channel not found (404)"
    assert sub["alerts_sent"] == 0


def test_outbox_writes_leave_the_answers_data_version_alone(store: Store) -> None:
    store.queue_outbox([row(G0, 10, "n1")])
    before = store.data_version()
    [r] = store.claim_outbox("p", T0, T0 + timedelta(seconds=60), 10)
    store.settle_outbox("p", T0, [sent(r)])
    store.queue_outbox([row(G0, 10, "n2")])
    assert store.data_version() == before
    store.save_alert_states([state(G0, 10, "BTC")])  # other writes still count
    assert store.data_version() != before
