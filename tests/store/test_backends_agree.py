"""No answer changes with the backend: the same writes into a SQLite store and a PostgreSQL
store, then every read the services use, compared result for result (random stores with gaps,
NULLs, duplicates, replays, late events, and instants outside the data)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import pytest

from bot.coins import Coin
from bot.models import (
    Candle,
    FearGreed,
    Funding,
    GlobalStats,
    Liquidation,
    LongShortRatio,
    MacroPoint,
    MarketEntry,
    OpenInterest,
    Ticker,
    TopTraderRatio,
)
from bot.store import Store
from bot.store.alerts import AlertStateRow, BriefRow, SubscriptionRow
from bot.store.outbox import OutboxRow, Settled
from bot.store.reads import SERIES_VENUES

T0 = datetime(2026, 11, 1, tzinfo=UTC)
COINS = ["BTC", "ETH", "SOL", "XRP", "NOPE"]  # NOPE never has data
VENUES = list(SERIES_VENUES)

pytestmark = pytest.mark.parametrize("store_backend", ["postgresql"])


def money(rng: random.Random) -> float:
    """Whole dollars: every sum is exact whatever order an engine adds in."""
    return float(rng.randint(1, 2_000_000))


def liquidations(rng: random.Random, n: int) -> list[Liquidation]:
    return [
        Liquidation(
            venue=rng.choice(VENUES),  # type: ignore[arg-type]
            coin=rng.choice(COINS[:-1]),
            side=rng.choice(["long", "short"]),  # type: ignore[arg-type]
            price=100.0,
            qty=1.0,
            usd=money(rng),
            ts=T0 + timedelta(seconds=rng.randint(0, 3 * 86_400)),
            event_id=f"e{rng.randint(0, n)}",  # a small id pool: duplicates and replays
        )
        for _ in range(n)
    ]


def fill(store: Store, seed: int) -> None:
    rng = random.Random(seed)
    for k in range(3):
        store.insert_liquidations(liquidations(rng, 300 + 100 * k))
    store.upsert_tickers(
        [
            Ticker(
                coin=c,
                venue=v,  # type: ignore[arg-type]
                market=m,  # type: ignore[arg-type]
                price=float(rng.randint(1, 10**5)),
                change_24h_pct=rng.choice([None, rng.uniform(-9, 9)]),
                market_cap=rng.choice([None, float(rng.randint(1, 10**9))]),
                ts=T0,
            )
            for c in COINS[:-1]
            for v in VENUES
            for m in ("spot", "perp")
            if rng.random() < 0.7
        ],
        T0,
    )
    bars = [
        Candle(
            coin=c,
            venue=v,  # type: ignore[arg-type]
            market=m,  # type: ignore[arg-type]
            interval=i,  # type: ignore[arg-type]
            open_time=T0 + k * step,
            open=o,
            high=o + 2,
            low=o - 1,
            close=o + 1,
            volume=float(rng.randint(0, 100)),
            quote_volume=rng.choice([None, float(rng.randint(0, 10**6))]),
        )
        for c in COINS[:-1]
        for v, m in (("binance", "spot"), ("binance", "perp"), ("bybit", "perp"), ("okx", "perp"))
        if rng.random() < 0.6
        for i, step in (("1h", timedelta(hours=1)), ("1d", timedelta(days=1)))
        for k in sorted(rng.sample(range(72), rng.randint(1, 30)))
        for o in (float(rng.randint(10, 1000)),)
    ]
    store.upsert_candles(bars)
    store.upsert_candles(bars[: len(bars) // 3])  # a re-fetch
    for c in COINS[:-1]:
        for v in VENUES:
            if rng.random() < 0.2:
                continue
            minutes = sorted(rng.sample(range(0, 3 * 1440, 5), rng.randint(1, 60)))
            store.upsert_open_interest(
                OpenInterest(
                    coin=c,
                    venue=v,  # type: ignore[arg-type]
                    ts=T0 + timedelta(minutes=m),
                    oi_usd=money(rng),
                    oi_coin=rng.choice([None, 5.0]),
                )
                for m in minutes
            )
            store.upsert_funding(
                Funding(
                    coin=c,
                    venue=v,  # type: ignore[arg-type]
                    ts=T0 + timedelta(minutes=m),
                    rate=rng.randint(-100, 100) / 1024,
                    interval_hours=rng.choice([1.0, 4.0, 8.0]),
                )
                for m in minutes
            )
            store.upsert_long_short(
                LongShortRatio(coin=c, venue=v, ts=T0 + timedelta(minutes=m), long_share=0.5)  # type: ignore[arg-type]
                for m in minutes[::2]
            )
            store.upsert_top_traders(
                TopTraderRatio(
                    coin=c,
                    venue=v,  # type: ignore[arg-type]
                    basis=b,  # type: ignore[arg-type]
                    ts=T0 + timedelta(minutes=m),
                    long_share=0.25,
                )
                for m in minutes[::3]
                for b in ("position", "account")
            )
    store.upsert_macro(
        MacroPoint(
            series=s,
            symbol=s.upper(),
            source="yahoo",
            interval="1d",
            ts=T0 + timedelta(days=d),
            close=d + 1.0,
        )
        for s in ("spx", "dxy")
        for d in range(0, 5, rng.randint(1, 2))
    )
    store.upsert_global(
        GlobalStats(ts=T0 + timedelta(hours=h), source="coingecko", total_market_cap_usd=3e12 + h)
        for h in range(0, 48, 6)
    )
    store.replace_breadth(
        [
            MarketEntry(id=f"c{k}", symbol=f"C{k}", market_cap=rng.choice([None, float(k * 10)]))
            for k in range(20)
        ],
        T0,
    )
    store.open_stream_session("okx", T0)
    store.close_stream_session("okx", T0 + timedelta(hours=5))
    store.open_stream_session("okx", T0 + timedelta(hours=6))
    store.open_stream_session("bybit", T0 + timedelta(hours=1))
    store.close_dangling_sessions()
    store.record_failure("okx", T0, "timeout")
    store.record_failure("okx", T0, "HTTP 503", "disabled: 451")
    store.record_success("bybit", T0, "ok")
    store.beat("gateway", T0, "up")
    for k in range(3):
        store.save_alert_subscription(
            SubscriptionRow(
                guild_id=1 + k % 2,
                channel_id=10 + k,
                coins=["BTC"],
                rules=["spike"],
                thresholds={"spike": 2.0},
                role_id=None,
                created_by=2**62 + k,  # Discord ids need 64 bits
                created_at=T0 + timedelta(minutes=k),
                updated_at=T0,
                muted_until=None,
                disabled_reason=None,
                disabled_at=None,
                last_alert_at=None,
                alerts_sent=0,
            )
        )
    store.record_alert_delivery(1, 10, T0, 2)
    store.save_alert_states(
        [
            AlertStateRow(
                guild_id=1,
                channel_id=10,
                coin="BTC",
                rule="spike",
                state="fired",
                fired_at=T0,
                rearmed=False,
                score=1.5,
                updated_at=T0,
            )
        ]
    )
    store.save_alert_brief(
        BriefRow(
            guild_id=1,
            channel_id=10,
            local_time="08:00",
            timezone="UTC",
            next_due=T0,
            last_sent=None,
            created_by=None,
            disabled_reason=None,
            disabled_at=None,
        )
    )
    w = store.add_watch(5, "BTC", "above", 100.0, "n", True, T0)
    store.add_watch(5, "ETH", "below", 50.0, "", True, T0)
    store.set_watch_armed(w.id, False, T0)
    store.pause_watches(6, T0, "dm closed")
    store.pause_watches(6, T0, "again")  # ignored: already paused
    fill_newer_tables(store, rng)


def fill_newer_tables(store: Store, rng: random.Random) -> None:
    """Migrations 9-12 (per-server settings, the tracked set and its backfill, large-liquidation
    posts, Fear & Greed, the alert outbox), written in SQLite's dialect (INSERT OR REPLACE / OR IGNORE)."""
    store.set_guild_settings(1, {"shortlist": ["ETH", "BTC"], "default_window": "4h"}, T0, 2**62)
    store.set_guild_settings(2, {"alert_thresholds": {"move_24h_pct": 8.0}}, T0, None)
    store.set_guild_settings(1, {"default_window": None}, T0 + timedelta(minutes=1), 7)  # partial
    store.set_guild_settings(3, {"shortlist": ["SOL"]}, T0, 8)
    store.delete_guild_settings(3)
    coins = [Coin(symbol=c, name=c.title(), coingecko=c.lower(), bybit=f"{c}USDT") for c in COINS[:3]]
    below = Coin(symbol="XRP", name="XRP", coingecko="ripple", aliases=("ripple", "xrp"))
    store.save_tracked(coins[:2], T0, {"BTC": ["binance", "okx"], "ETH": ["bybit"]}, known=[below])
    store.save_tracked(coins, T0 + timedelta(days=1), {"SOL": ["binance"], "BTC": ["binance"]}, [below])
    store.mark_backfill("BTC", "binance", T0 + timedelta(hours=2))
    store.mark_backfill("SOL", "binance", None, "HTTP 429")
    for k in range(6):
        sent = T0 + timedelta(minutes=rng.randint(0, 3 * 1440))
        events = [
            [rng.choice(VENUES), f"e{rng.randint(0, 50)}", int(sent.timestamp() * 1000) - j] for j in range(3)
        ]
        store.record_large_liq_posts([(1, 10 + k % 3, sent, sent, json.dumps(events))])
    store.record_large_liq_posts([(1, 10, T0, T0, "[]")])
    store.record_large_liq_posts([(1, 10, T0, T0 + timedelta(seconds=5), "[]")])  # replaced
    # migration 12: the outbox, queued with a record, claimed and settled
    queued = [
        OutboxRow(
            guild_id=(k + 1) << 22,
            channel_id=20 + k,
            kind="large",
            nonce=f"n{k}",
            body=json.dumps({"embeds": [{"title": "é"}]}),
            alerts=1,
            created_at=T0 + timedelta(seconds=k),
            expires_at=T0 + timedelta(minutes=15),
        )
        for k in range(4)
    ]
    store.record_large_liq_posts([(1, 12, T0 + timedelta(days=2), T0, "[]")], queued)
    claimed = store.claim_outbox(
        "p", T0 + timedelta(seconds=5), T0 + timedelta(minutes=1), 10, shards=(2, [0])
    )
    store.settle_outbox(
        "p",
        T0 + timedelta(seconds=6),
        [
            (r, Settled(id=r["id"], outcome="sent", detail=None, message_id=99, retry_at=None))
            for r in claimed
        ],
    )
    store.upsert_fear_greed(
        FearGreed(source="alternative.me", ts=T0 + timedelta(days=d), value=rng.randint(0, 100), label="Fear")
        for d in range(4)
    )
    store.upsert_fear_greed([FearGreed(source="alternative.me", ts=T0, value=99, label="Extreme Greed")])


def reads(store: Store, rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for _ in range(4):
        at = T0 + timedelta(minutes=rng.randint(-60, 3 * 1440 + 60))
        lo = at - timedelta(hours=rng.randint(0, 30), minutes=rng.randint(0, 59))
        key = at.isoformat()
        for coin in (*COINS, None):
            out[f"liq_sums {coin} {key}"] = sorted(
                store.liq_sums(coin, lo, at), key=lambda r: (r["side"], r["venue"])
            )
            for hourly in (False, True):
                out[f"buckets {coin} {hourly} {key}"] = sorted(
                    store.liq_buckets(coin, lo, at, hourly=hourly),
                    key=lambda r: (r["minute"], r["side"], r["venue"]),
                )
        out[f"top {key}"] = store.top_liquidated(lo, at)
        for table in ("open_interest", "funding", "long_short"):
            out[f"near_many {table} {key}"] = store.near_many(
                table, [(c, v) for c in COINS for v in VENUES], at
            )
        out[f"oi_latest {key}"] = store.oi_latest(COINS, at)
        out[f"oi_near {key}"] = {v: store.oi_near(v, COINS, at) for v in VENUES}
        for coin in COINS:
            out[f"oi_points {coin} {key}"] = store.oi_points(coin, [lo, at])
            out[f"funding_points {coin} {key}"] = store.funding_points(coin, [lo, at])
            out[f"oi {coin} {key}"] = store.open_interest(coin, lo)
            out[f"funding {coin} {key}"] = store.funding(coin, lo)
            out[f"ls {coin} {key}"] = store.long_short(coin, lo)
            out[f"tt {coin} {key}"] = store.top_traders(coin, lo)
            for interval in ("1h", "1d"):
                out[f"candles {coin} {interval} {key}"] = store.candles(coin, interval, lo, at)
                cols = store.candle_columns(coin, interval, lo - timedelta(days=2))
                out[f"columns {coin} {interval} {key}"] = (
                    cols.venue,
                    cols.market,
                    np.asarray(cols.close).tolist(),
                )
        out[f"candles_many {key}"] = store.candles_many(COINS, "1h", lo)
        out[f"global_at {key}"] = store.global_at(at)
        out[f"sessions {key}"] = store.stream_sessions(lo)
        out[f"macro {key}"] = store.macro(["spx", "dxy", "none"], "1d", lo)
    out["latest 1h"] = store.latest_candle_times("1h")
    out["tickers"] = store.tickers()
    out["tickers BTC"] = store.tickers("BTC")
    out["fetched"] = store.ticker_fetched_at("BTC", "binance", "spot")
    out["health"] = store.source_health()
    out["heartbeats"] = store.heartbeats()
    out["global"] = store.global_latest()
    out["breadth"] = store.market_breadth()
    out["funding_hourly"] = {k: [round(x, 12) for x in v] for k, v in store.funding_hourly(COINS, T0).items()}
    out["subs"] = [store.guild_alert_subscriptions(g) for g in (1, 2, 3)]
    out["active subs"] = store.active_alert_subscriptions()
    out["states"] = store.load_alert_states([10, 11, 99])
    out["briefs"] = store.due_alert_briefs(T0)
    out["watches"] = (store.watches_of(5), store.active_watches(), store.watch_pause(6))
    out["market data"] = store.has_market_data()
    out["price_near"] = [store.price_near(c, int(T0.timestamp() * 1000) + 3_600_000) for c in COINS]
    for table in ("liquidations", "liq_minute", "liq_hour", "candles", "open_interest", "alert_state"):
        out[f"count {table}"] = store.count(table)
    out.update(newer_reads(store, rng))
    return out


def newer_reads(store: Store, rng: random.Random) -> dict[str, Any]:
    out: dict[str, Any] = {}
    out["guild settings"] = [store.guild_settings(g) for g in (1, 2, 3)]
    out["tracked"] = (store.tracked_coins(), store.tracked_coins(known=True), store.backfill_progress())
    channels = [10, 11, 12, 99]
    out["large last sent"] = store.large_liq_last_sent(channels)
    out["large state"] = store.large_liq_state(channels, timedelta(minutes=rng.randint(1, 600)))
    out["outbox"] = [{k: v for k, v in r.items() if k != "claimed_by"} for r in store.outbox_rows()]
    out["outbox waiting"] = store.outbox_waiting(T0)
    for _ in range(3):
        at = T0 + timedelta(minutes=rng.randint(-60, 5 * 1440))
        out[f"fear_greed {at}"] = store.fear_greed_latest(at)
        lo = at - timedelta(hours=rng.randint(1, 48))
        out[f"large {at}"] = store.large_liquidations(COINS, lo, at, float(rng.randint(0, 1_500_000)))
    return out


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_every_read_answers_the_same_on_both_backends(
    seed: int, new_db: Callable[[], str], tmp_path: Any
) -> None:
    sqlite, pg = Store(tmp_path / "ref.db"), Store(new_db())
    try:
        fill(sqlite, seed)
        fill(pg, seed)
        want, got = reads(sqlite, random.Random(seed)), reads(pg, random.Random(seed))
        assert got.keys() == want.keys()
        for key in want:
            assert got[key] == want[key], key
        assert sqlite.data_version() != (0, 0)
        # thinning, then dropping raw events, then past the hourly and the daily history
        for when in (T0 + timedelta(days=d) for d in (3, 40, 125, 900)):
            assert pg.prune(when, timedelta(days=35)) == sqlite.prune(when, timedelta(days=35))
            assert reads(pg, random.Random(seed)) == reads(sqlite, random.Random(seed))
    finally:
        sqlite.close()
        pg.close()
