from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.models import Candle, Liquidation, Ticker
from bot.store import Store
from bot.store.open import StoreError
from bot.store.schema import SCHEMA_VERSION

T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def liq(
    i: int, *, venue: str = "binance", side: str = "long", usd: float = 1000.0, minute: int = 0
) -> Liquidation:
    return Liquidation(
        venue=venue,
        coin="BTC",
        side=side,
        price=90_000.0,
        qty=usd / 90_000.0,
        usd=usd,  # type: ignore[arg-type]
        ts=T0 + timedelta(minutes=minute, seconds=i % 60),
        event_id=f"e{i}",
    )


def test_schema_is_versioned_and_reopens(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    Store(path).close()
    store = Store(path)
    assert store.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_every_backend_reopens_at_the_current_schema(db: str) -> None:
    Store(db).close()
    store = Store(db)
    assert store.conn.execute("SELECT COUNT(*) FROM tickers").fetchone()[0] == 0
    assert store.count("liq_hour") == 0
    store.close()


def test_refetch_never_duplicates(db: str) -> None:
    store = Store(db)
    t = Ticker(coin="BTC", venue="binance", market="spot", price=1.0, ts=T0)
    store.upsert_tickers([t], T0)
    store.upsert_tickers([t.model_copy(update={"price": 2.0})], T0)
    assert [x.price for x in store.tickers("BTC")] == [2.0]
    candle = Candle(
        coin="BTC",
        venue="binance",
        market="spot",
        interval="1h",
        open_time=T0,
        open=1,
        high=2,
        low=0.5,
        close=1.5,
        volume=10,
    )
    store.upsert_candles([candle, candle])
    store.upsert_candles([candle.model_copy(update={"close": 1.7})])
    assert store.count("candles") == 1
    assert store.conn.execute("SELECT close FROM candles").fetchone()[0] == 1.7


def test_liquidations_stored_once_and_rolled_up(db: str) -> None:
    store = Store(db)
    batch = [liq(i, minute=i // 3, side="long" if i % 2 else "short", usd=100.0 * (i + 1)) for i in range(9)]
    assert store.insert_liquidations(batch) == 9
    assert store.insert_liquidations(batch[3:]) == 0  # replayed after a reconnect
    raw = store.conn.execute(
        "SELECT minute_ms, side, SUM(usd), COUNT(*), MAX(usd) FROM liquidations GROUP BY 1, 2 ORDER BY 1, 2"
    ).fetchall()
    rolled = store.conn.execute(
        "SELECT minute_ms, side, usd, events, max_usd FROM liq_minute ORDER BY 1, 2"
    ).fetchall()
    assert raw == rolled
    assert sum(r[2] for r in rolled) == sum(100.0 * (i + 1) for i in range(9))


def test_late_event_in_an_old_minute_updates_its_rollup(db: str) -> None:
    store = Store(db)
    store.insert_liquidations([liq(1, minute=0, usd=500)])
    store.insert_liquidations([liq(2, minute=0, usd=700)])
    assert store.conn.execute("SELECT usd, events, max_usd FROM liq_minute").fetchall() == [
        (1200.0, 2, 700.0)
    ]


def test_prune_keeps_rollups(db: str) -> None:
    store = Store(db)
    store.insert_liquidations([liq(1, minute=0)])
    assert store.prune(T0 + timedelta(days=40), timedelta(days=35)) == 1
    assert store.count("liquidations") == 0
    assert store.count("liq_minute") == 0  # folded: past the raw retention only hours are kept
    assert store.count("liq_hour") == 2  # the coin's hour and the market-wide one


def test_health_counts_failures_and_resets(db: str) -> None:
    store = Store(db)
    store.record_failure("okx", T0, "timeout")
    store.record_failure("okx", T0, "HTTP 503")
    [h] = store.source_health()
    assert (h.consecutive_failures, h.last_error, h.last_success) == (2, "HTTP 503", None)
    store.record_success("okx", T0 + timedelta(minutes=1))
    [h] = store.source_health()
    assert (h.consecutive_failures, h.last_success) == (0, T0 + timedelta(minutes=1))


def test_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.close()
    with pytest.raises(StoreError, match="newer than this build"):
        Store(path)


def test_candles_prefer_spot_and_read_only_the_window(db: str) -> None:
    store = Store(db)

    def bar(venue: str, market: str, hours: int, close: float) -> Candle:
        return Candle(
            coin="BTC",
            venue=venue,
            market=market,
            interval="1h",  # type: ignore[arg-type]
            open_time=T0 + timedelta(hours=hours),
            open=close,
            high=close + 1,
            low=close - 1,
            close=close,
            volume=1,
        )

    store.upsert_candles([bar("bybit", "perp", h, 100 + h) for h in range(10)])
    assert [c.venue for c in store.candles("BTC", "1h", T0)] == ["bybit"] * 10
    store.upsert_candles([bar("binance", "spot", h, 200 + h) for h in range(10)])
    got = store.candles("BTC", "1h", T0 + timedelta(hours=5), T0 + timedelta(hours=7))
    assert [(c.venue, c.close) for c in got] == [("binance", 205), ("binance", 206), ("binance", 207)]


def test_breadth_snapshot_replaces_previous(db: str) -> None:
    from bot.models import MarketEntry

    store = Store(db)
    store.replace_breadth([MarketEntry(id="bitcoin", symbol="BTC", change_24h_pct=-2.0, market_cap=1e12)], T0)
    store.replace_breadth(
        [MarketEntry(id="ethereum", symbol="ETH", change_24h_pct=-3.0, market_cap=4e11)], T0
    )
    entries, at = store.market_breadth()
    assert [e.symbol for e in entries] == ["ETH"]
    assert at == T0


def test_stream_sessions_record_gaps(db: str) -> None:
    store = Store(db)
    store.open_stream_session("bybit", T0)
    store.close_stream_session("bybit", T0 + timedelta(hours=1))
    store.open_stream_session("bybit", T0 + timedelta(hours=1, minutes=5))
    sessions = store.stream_sessions(T0 - timedelta(days=1))
    assert [(s.connected_at, s.disconnected_at) for s in sessions] == [
        (T0, T0 + timedelta(hours=1)),
        (T0 + timedelta(hours=1, minutes=5), None),
    ]


def test_hourly_rollups_match_minutes_per_coin_and_market(db: str) -> None:
    store = Store(db)
    events = [liq(i, minute=i * 7, usd=100.0 + i, side="long" if i % 3 else "short") for i in range(40)]
    eth = [e.model_copy(update={"coin": "ETH", "event_id": f"x{e.event_id}"}) for e in events[:10]]
    store.insert_liquidations(events[:25])
    store.insert_liquidations(events[20:] + eth)  # overlapping batch: dedupe, then re-roll
    minute = store.conn.execute("SELECT SUM(usd), SUM(events) FROM liq_minute").fetchone()
    hour_all = store.conn.execute("SELECT SUM(usd), SUM(events) FROM liq_hour WHERE coin = '*'").fetchone()
    hour_coins = store.conn.execute("SELECT SUM(usd), SUM(events) FROM liq_hour WHERE coin != '*'").fetchone()
    raw = store.conn.execute("SELECT SUM(usd), COUNT(*) FROM liquidations").fetchone()
    assert minute == hour_all == hour_coins == raw
    btc_hours = store.liq_buckets("BTC", T0, T0 + timedelta(days=1), hourly=True)
    btc_minutes = store.liq_buckets("BTC", T0, T0 + timedelta(days=1), hourly=False)
    assert (
        sum(r["usd"] for r in btc_hours) == sum(r["usd"] for r in btc_minutes) == sum(e.usd for e in events)
    )
    market = store.liq_buckets(None, T0, T0 + timedelta(days=1), hourly=False)
    assert sum(r["usd"] for r in market) == raw[0]
    assert {r["coin"] for r in market} == {"*"}


def test_sessions_left_open_by_a_crash_close_at_their_last_event(db: str) -> None:
    store = Store(db)
    store.open_stream_session("binance", T0)
    store.insert_liquidations([liq(1, minute=30)])  # last event seen 30 min in
    store.open_stream_session("okx", T0)  # nothing seen at all
    assert store.close_dangling_sessions() == 2
    closed = {s.venue: s.disconnected_at for s in store.stream_sessions(T0 - timedelta(days=1))}
    assert closed == {"binance": T0 + timedelta(minutes=30, seconds=1), "okx": T0}


def test_prune_thins_old_open_interest_to_hourly(db: str) -> None:
    from bot.models import OpenInterest

    store = Store(db)
    points = [
        OpenInterest(coin="BTC", venue="okx", ts=T0 + timedelta(minutes=m), oi_usd=1e9 + m)
        for m in range(0, 4 * 24 * 60, 5)  # four days of 5-minute points
    ]
    store.upsert_open_interest(points)
    store.prune(T0 + timedelta(days=4), timedelta(days=35))
    kept = store.open_interest("BTC", T0)
    old = [p for p in kept if p.ts < T0 + timedelta(days=2)]
    recent = [p for p in kept if p.ts >= T0 + timedelta(days=2)]
    assert len(old) == 48  # one per hour for the first two days
    assert all(p.ts.minute == 0 for p in old)
    assert len(recent) == 2 * 24 * 12  # untouched


def test_thinning_catches_up_after_downtime(db: str) -> None:
    """Sixty days of dense points and no pruning run for all of them (the bot was down):
    successive runs thin every hour of them, not only the last three days."""
    from bot.models import OpenInterest

    store = Store(db)
    store.upsert_open_interest(
        OpenInterest(coin="BTC", venue="okx", ts=T0 + timedelta(minutes=m), oi_usd=1e9 + m)
        for m in range(0, 60 * 24 * 60, 15)
    )
    now = T0 + timedelta(days=60)
    for _ in range(10):  # 7 days per run at most
        store.prune(now, timedelta(days=35))
    kept = store.open_interest("BTC", T0)
    old = [p for p in kept if p.ts < now - timedelta(days=2)]
    assert len(old) == 58 * 24  # one per hour, all the way back
    assert all(p.ts.minute == 0 for p in old)
    assert len([p for p in kept if p.ts >= now - timedelta(days=2)]) == 2 * 24 * 4  # untouched


def test_a_new_store_vacuums_incrementally(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    store.insert_liquidations([liq(i, minute=i % 600) for i in range(20_000)])
    store.prune(T0 + timedelta(days=40), timedelta(days=35))
    with store.lock:
        assert store.conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert store.conn.execute("PRAGMA freelist_count").fetchone()[0] == 0


def test_prune_keeps_a_bounded_history_of_everything_else(db: str) -> None:
    """Past the hourly history, hourly series go (roll-ups, 1h bars, open interest, funding,
    ratios, macro, global stats, finished stream sessions); daily bars and closes stay until
    the daily history; what is inside both stays."""
    from bot.models import Funding, GlobalStats, LongShortRatio, MacroPoint, OpenInterest, TopTraderRatio
    from bot.store.upkeep import DAILY_HISTORY, HOURLY_HISTORY

    store = Store(db)
    old, recent = T0, T0 + timedelta(days=200)
    now = T0 + HOURLY_HISTORY + timedelta(days=1)  # `old` is just past the hourly history
    for at in (old, recent):
        store.insert_liquidations([liq(int(at.timestamp()), minute=int((at - T0).total_seconds() // 60))])
        store.upsert_open_interest([OpenInterest(coin="BTC", venue="okx", ts=at, oi_usd=1e9)])
        store.upsert_funding([Funding(coin="BTC", venue="okx", ts=at, rate=0.0001)])
        store.upsert_long_short([LongShortRatio(coin="BTC", venue="okx", ts=at, long_share=0.5)])
        store.upsert_top_traders(
            [TopTraderRatio(coin="BTC", venue="binance", basis="position", ts=at, long_share=0.5)]
        )
        store.upsert_global([GlobalStats(ts=at, source="coingecko", total_market_cap_usd=3e12)])
        for interval in ("1h", "1d"):
            store.upsert_candles(
                [
                    Candle(
                        coin="BTC",
                        venue="binance",
                        market="spot",
                        interval=interval,
                        open_time=at,
                        open=1.0,
                        high=1.0,
                        low=1.0,
                        close=1.0,
                        volume=1.0,
                    )
                ]
            )
            store.upsert_macro(
                [
                    MacroPoint(
                        series="spx", symbol="^GSPC", source="yahoo", interval=interval, ts=at, close=5e3
                    )
                ]
            )
        store.open_stream_session("okx", at)
        store.close_stream_session("okx", at + timedelta(hours=1))
    store.prune(now, timedelta(days=35))
    old_ms = int(old.timestamp() * 1000)
    for table, column in (
        ("liq_hour", "hour_ms"),
        ("open_interest", "ts_ms"),
        ("funding", "ts_ms"),
        ("long_short", "ts_ms"),
        ("top_traders", "ts_ms"),
        ("global_stats", "ts_ms"),
        ("stream_sessions", "connected_ms"),
    ):
        assert (
            store.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} <= ?", (old_ms,)).fetchone()[0]
            == 0
        )
        assert (
            store.conn.execute(f"SELECT COUNT(*) FROM {table} WHERE {column} > ?", (old_ms,)).fetchone()[0]
            > 0
        )
    bars = store.conn.execute("SELECT interval, open_ms FROM candles ORDER BY 1, 2").fetchall()
    closes = store.conn.execute("SELECT interval, ts_ms FROM macro ORDER BY 1, 2").fetchall()
    recent_ms = int(recent.timestamp() * 1000)
    assert bars == closes == [("1d", old_ms), ("1d", recent_ms), ("1h", recent_ms)]
    store.prune(T0 + DAILY_HISTORY + timedelta(days=1), timedelta(days=35))
    # the old daily bar is past the daily history now, the recent one not yet
    assert store.conn.execute("SELECT interval, open_ms FROM candles").fetchall() == [("1d", recent_ms)]
