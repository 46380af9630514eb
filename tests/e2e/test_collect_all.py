"""End to end over every REST venue: ``tapewatch collect --once`` (a subprocess, configured by
env vars only) against a loopback fake serving the recorded sample payloads
(:func:`tests.fake_venues.venue_routes`) fills every market-data table, reports every dataset
ok, and a second pass re-fetching the same payloads adds no rows."""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.fake_venues import venue_routes
from tests.helpers import FakeExchange, every_venue_at

COINS = ["BTC", "ETH"]
VENUES = ("BINANCE", "BYBIT", "OKX", "COINGECKO", "YAHOO", "ALTERNATIVE")

# Every dataset Collector.run_once reports, in its order. Candles stop at the first venue that
# answers, so only Binance's candle sources appear when Binance serves them.
SOURCES = [
    "binance/spot-tickers",
    "binance/perp-tickers",
    "binance/funding",
    "bybit/linear",
    "okx/tickers",
    "okx/open-interest",
    "okx/funding",
    "coingecko/markets",
    "coingecko/global",
    "binance/candles-1h",
    "binance/candles-1d",
    "binance/oi-history",
    "binance/long-short",
    "bybit/oi-history",
    "bybit/long-short",
    "okx/oi-history",
    "okx/long-short",
    "binance/top-traders",
    "yahoo/daily",
    "yahoo/intraday",
    "alternative/fear-greed",
]

MARKET_TABLES = [
    "tickers",
    "candles",
    "open_interest",
    "funding",
    "long_short",
    "top_traders",
    "macro",
    "global_stats",
    "market_breadth",
    "source_health",
    "fear_greed",
]


@pytest.fixture
async def exchange() -> AsyncIterator[FakeExchange]:
    fake = FakeExchange(venue_routes(COINS))
    await fake.start()
    yield fake
    await fake.close()


def collect_env(url: str, db: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith("TAPEWATCH_") and k != "DISCORD_TOKEN"},
        "TAPEWATCH_DB": str(db),
        "TAPEWATCH_COINS": json.dumps(COINS),
        **{
            f"TAPEWATCH_PROVIDERS__{venue.upper()}__{key.upper()}": value
            for venue, keys in every_venue_at(url).items()
            for key, value in keys.items()
        },
        **{f"TAPEWATCH_PROVIDERS__{v}__REQUESTS_PER_MINUTE": "60000" for v in VENUES},
        "TAPEWATCH_HTTP__RETRIES": "0",
        "TAPEWATCH_HTTP__TIMEOUT_SECONDS": "5",
    }


async def collect_once(env: dict[str, str]) -> dict[str, str]:
    """Run ``python -m bot collect --once``; returns its report lines by source."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "collect",
        "--once",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=Path(__file__).parents[2],
    )
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, f"exit {proc.returncode}\n{out.decode()}\n{err.decode()}"
    lines = [line for line in out.decode().splitlines() if line.strip() and not line.startswith("store:")]
    # not a terminal: one plain line per source as it completes, numbered, then a summary
    *steps, summary = lines
    assert [line.split()[0] for line in steps] == [f"[{k}/{len(steps)}]" for k in range(1, len(steps) + 1)]
    ok = sum(1 for line in steps if line.split()[2] == "ok")
    assert summary.startswith(f"{ok} of {len(steps)} sources ok in ")
    return {line.split()[1]: line.split("] ", 1)[1] for line in steps}


def rows(db: Path, sql: str) -> list[tuple[Any, ...]]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def count(db: Path, sql: str) -> int:
    [(n,)] = rows(db, sql)
    return int(n)


def distinct(db: Path, table: str, column: str, where: str = "1") -> set[Any]:
    return {r[0] for r in rows(db, f"SELECT DISTINCT {column} FROM {table} WHERE {where}")}


async def test_collect_once_fills_every_table(exchange: FakeExchange, tmp_path: Path) -> None:
    db = tmp_path / "all.db"
    report = await collect_once(collect_env(exchange.url, db))

    assert list(report) == SOURCES
    failed = [line for line in report.values() if line.split()[1] != "ok"]
    assert not failed, "\n".join(failed)
    unrouted = sorted({path for path in exchange.hits if path not in exchange.routes})
    assert not unrouted, f"the collector asked for paths the fake does not serve: {unrouted}"

    for table in MARKET_TABLES:
        assert count(db, f"SELECT COUNT(*) FROM {table}") > 0, f"{table} is empty"

    # tickers: every venue and market, for both coins
    assert set(rows(db, "SELECT coin, venue, market FROM tickers")) == {
        (coin, venue, market)
        for coin in COINS
        for venue, market in [
            ("binance", "spot"),
            ("binance", "perp"),
            ("bybit", "perp"),
            ("okx", "perp"),
            ("coingecko", "spot"),
        ]
    }
    # the 7d rolling change was merged onto the Binance spot tickers
    assert distinct(db, "tickers", "change_7d_pct", "venue = 'binance' AND market = 'spot'") == {-88.889}

    for interval in ("1h", "1d"):
        assert distinct(db, "candles", "coin", f"interval='{interval}'") == set(COINS), interval

    # Bybit's OI history is priced from klines of the same timestamps; the recorded kline
    # (Dec 2022, hourly) shares none with the recorded OI (Jun 2026, daily), so it stores none,
    # while the linear tickers snapshot still gives Bybit's OI now.
    assert report["bybit/oi-history"].split()[1:4] == ["ok", "stored", "0"]
    assert distinct(db, "open_interest", "venue") == {"binance", "bybit", "okx"}
    assert distinct(db, "funding", "venue") == {"binance", "bybit", "okx"}
    assert distinct(db, "long_short", "venue") == {"binance", "bybit", "okx"}
    assert count(db, "SELECT COUNT(DISTINCT basis) FROM top_traders") == 2
    assert distinct(db, "top_traders", "coin") == set(COINS)
    assert count(db, "SELECT COUNT(DISTINCT series || interval) FROM macro") == 7 * 2
    assert distinct(db, "market_breadth", "symbol") == set(COINS)

    health = {
        source: (failures, last_success, error)
        for source, failures, last_success, error in rows(
            db, "SELECT source, consecutive_failures, last_success_ms, last_error FROM source_health"
        )
    }
    assert set(health) == set(SOURCES)
    assert {s: h for s, h in health.items() if h[0] != 0 or h[1] is None or h[2] is not None} == {}


async def test_second_pass_adds_no_rows(exchange: FakeExchange, tmp_path: Path) -> None:
    db = tmp_path / "twice.db"
    env = collect_env(exchange.url, db)

    await collect_once(env)
    first = {t: count(db, f"SELECT COUNT(*) FROM {t}") for t in MARKET_TABLES}
    report = await collect_once(env)
    second = {t: count(db, f"SELECT COUNT(*) FROM {t}") for t in MARKET_TABLES}

    assert all(line.split()[1] == "ok" for line in report.values()), "\n".join(report.values())
    assert second == first
    assert count(db, "SELECT MAX(consecutive_failures) FROM source_health") == 0
