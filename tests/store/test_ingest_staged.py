"""The staged, set-based liquidation ingest stores exactly what the per-row implementation it
replaced stored: same events, same roll-ups, same "new" counts, batch after batch (duplicates
within a batch, replays of earlier batches, late events into old minutes)."""

from __future__ import annotations

import random
import sqlite3
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.clock import to_ms
from bot.models import Liquidation
from bot.store import Store
from bot.store.schema import ALL_COINS, HOUR_MS, MINUTE_MS

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def per_row_insert(conn: sqlite3.Connection, events: Sequence[Liquidation]) -> int:
    """The implementation before the staging table (commit 894b9b4), as the reference."""
    if not events:
        return 0
    rows: dict[tuple[str, str], tuple[Any, ...]] = {}
    for e in events:
        ts = to_ms(e.ts)
        rows.setdefault(
            (e.venue, e.event_id),
            (e.venue, e.event_id, e.coin, e.side, e.price, e.qty, e.usd, ts, ts // MINUTE_MS * MINUTE_MS),
        )
    with conn:
        for venue, event_id in list(rows):
            found = conn.execute(
                "SELECT 1 FROM liquidations WHERE venue = ? AND event_id = ?", (venue, event_id)
            ).fetchone()
            if found:
                rows.pop((venue, event_id))
        new = list(rows.values())
        if not new:
            return 0
        conn.executemany(
            "INSERT INTO liquidations "
            "(venue, event_id, coin, side, price, qty, usd, ts_ms, minute_ms) VALUES (?,?,?,?,?,?,?,?,?)",
            new,
        )
        minute: dict[tuple[str, int, str, str], list[float]] = {}
        hour: dict[tuple[str, int, str, str], list[float]] = {}
        for venue, _id, coin, side, _p, _q, usd, _ts, minute_ms in new:
            hour_ms = minute_ms // HOUR_MS * HOUR_MS
            for agg, key in (
                (minute, (coin, minute_ms, side, venue)),
                (hour, (coin, hour_ms, side, venue)),
                (hour, (ALL_COINS, hour_ms, side, venue)),
            ):
                acc = agg.setdefault(key, [0.0, 0, 0.0])
                acc[0] += usd
                acc[1] += 1
                acc[2] = max(acc[2], usd)
        for table, time_col, agg in (("liq_minute", "minute_ms", minute), ("liq_hour", "hour_ms", hour)):
            conn.executemany(
                f"INSERT INTO {table} (coin, {time_col}, side, venue, usd, events, max_usd) "
                "VALUES (?,?,?,?,?,?,?) ON CONFLICT DO UPDATE SET usd = usd + excluded.usd, "
                "events = events + excluded.events, max_usd = MAX(max_usd, excluded.max_usd)",
                [(*k, v[0], int(v[1]), v[2]) for k, v in agg.items()],
            )
    return len(new)


def contents(conn: sqlite3.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "liquidations": conn.execute(
            "SELECT venue, event_id, coin, side, price, qty, usd, ts_ms, minute_ms FROM liquidations "
            "ORDER BY venue, event_id"
        ).fetchall(),
        "liq_minute": conn.execute(
            "SELECT * FROM liq_minute ORDER BY coin, minute_ms, side, venue"
        ).fetchall(),
        "liq_hour": conn.execute("SELECT * FROM liq_hour ORDER BY coin, hour_ms, side, venue").fetchall(),
    }


# Whole-dollar amounts keep every sum exact, whatever order either side adds them in; event ids
# from a small pool make duplicates within and across batches common.
event = st.builds(
    lambda venue, coin, side, usd, ms, k: Liquidation(
        venue=venue,
        coin=coin,
        side=side,
        price=100.0,
        qty=usd / 100.0,
        usd=float(usd),
        ts=T0 + timedelta(milliseconds=ms),
        event_id=f"e{k}",
    ),
    st.sampled_from(["binance", "bybit", "okx"]),
    st.sampled_from(["BTC", "ETH", "SOL"]),
    st.sampled_from(["long", "short"]),
    st.integers(1, 5_000_000),
    st.integers(0, 3 * HOUR_MS),
    st.integers(0, 60),
)


@settings(max_examples=60, deadline=None)
@given(batches=st.lists(st.lists(event, max_size=40), min_size=1, max_size=6))
def test_staged_ingest_equals_the_per_row_one(batches: list[list[Liquidation]]) -> None:
    staged = Store(":memory:")
    reference = Store(":memory:")
    try:
        for batch in batches:
            assert staged.insert_liquidations(batch) == per_row_insert(reference.conn, batch)
        assert contents(staged.conn) == contents(reference.conn)
    finally:
        staged.close()
        reference.close()


@pytest.mark.parametrize("store_backend", ["postgresql"])
@pytest.mark.parametrize("seed", range(4))
def test_postgresql_ingests_what_sqlite_ingests(seed: int, new_db: Callable[[], str], tmp_path: Path) -> None:
    """Batch after batch, the same "new" counts and the same events and roll-ups (the SQLite
    ingest is held to the per-row reference above)."""
    rng = random.Random(seed)
    sqlite, pg = Store(tmp_path / "ref.db"), Store(new_db())
    try:
        for _ in range(8):
            batch = [
                Liquidation(
                    venue=rng.choice(["binance", "bybit", "okx"]),  # type: ignore[arg-type]
                    coin=rng.choice(["BTC", "ETH", "SOL"]),
                    side=rng.choice(["long", "short"]),  # type: ignore[arg-type]
                    price=100.0,
                    qty=1.0,
                    usd=float(rng.randint(1, 5_000_000)),
                    ts=T0 + timedelta(milliseconds=rng.randint(0, 3 * HOUR_MS)),
                    event_id=f"e{rng.randint(0, 300)}",
                )
                for _ in range(rng.randint(0, 120))
            ]
            assert pg.insert_liquidations(batch) == sqlite.insert_liquidations(batch)
        assert contents(pg.conn) == contents(sqlite.conn)
    finally:
        sqlite.close()
        pg.close()


def test_a_failed_batch_leaves_nothing_behind(db: str) -> None:
    """One transaction: an error part-way (here, the roll-up table gone) rolls the events back,
    and the next batch is not polluted by what the failed one staged."""
    store = Store(db)
    ok = [event_at(1, 100.0)]
    assert store.insert_liquidations(ok) == 1
    store.conn.execute("ALTER TABLE liq_hour RENAME TO liq_hour_away")
    try:
        store.insert_liquidations([event_at(2, 200.0)])
    except sqlite3.OperationalError:
        pass
    else:
        raise AssertionError("expected the batch to fail")
    store.conn.execute("ALTER TABLE liq_hour_away RENAME TO liq_hour")
    assert [r[1] for r in contents(store.conn)["liquidations"]] == ["e1"]
    assert store.insert_liquidations([event_at(3, 300.0)]) == 1
    assert store.conn.execute("SELECT SUM(usd), SUM(events) FROM liq_minute").fetchone() == (400.0, 2)
    store.close()


def event_at(k: int, usd: float) -> Liquidation:
    return Liquidation(
        venue="okx", coin="BTC", side="long", price=100.0, qty=usd / 100.0, usd=usd, ts=T0, event_id=f"e{k}"
    )
