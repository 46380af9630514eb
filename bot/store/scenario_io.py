"""The SQL behind scenario export and import: raw rows the window reads do not offer (every
venue's candles, raw events, roll-up minutes), whether a store already holds market data or
came from a sample, and clearing the market data for ``import --replace``.

The scenario modules only shape these rows; they never touch a connection or a lock.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bot.store.reads import StoreReads

# Market state a scenario fills (and ``import --replace`` clears). Alert subscriptions and their
# state are the guilds' settings, not market data: they survive an import.
MARKET_TABLES = (
    "tickers",
    "candles",
    "open_interest",
    "funding",
    "long_short",
    "top_traders",
    "liquidations",
    "liq_minute",
    "liq_hour",
    "stream_sessions",
    "macro",
    "global_stats",
    "fear_greed",
    "market_breadth",
    "source_health",
)
# What counts as "already holds market data" (source_health alone is only a failed first run).
_DATA_TABLES = tuple(t for t in MARKET_TABLES if t != "source_health")


def _marks(n: int) -> str:
    return ",".join("?" * n)


class ScenarioRows(StoreReads):
    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        raise NotImplementedError

    def export_candles(self, coins: Sequence[str], lo_ms: int, hi_ms: int) -> list[dict[str, Any]]:
        """Every venue's candles of ``coins`` opened in [lo, hi], grouped by series, oldest first."""
        return self._rows(
            f"SELECT * FROM candles WHERE coin IN ({_marks(len(coins))}) AND open_ms >= ? AND open_ms <= ? "  # noqa: S608
            "ORDER BY coin, venue, market, interval, open_ms",
            (*coins, lo_ms, hi_ms),
        )

    def export_liquidations(self, coins: Sequence[str], lo_ms: int, hi_ms: int) -> list[dict[str, Any]]:
        return self._rows(
            f"SELECT * FROM liquidations WHERE coin IN ({_marks(len(coins))}) AND ts_ms >= ? AND ts_ms <= ? "  # noqa: S608
            "ORDER BY venue, coin, ts_ms, event_id",
            (*coins, lo_ms, hi_ms),
        )

    def export_liq_minutes(self, coins: Sequence[str], lo_ms: int, hi_ms: int) -> list[dict[str, Any]]:
        return self._rows(
            f"SELECT * FROM liq_minute WHERE coin IN ({_marks(len(coins))}) "  # noqa: S608
            "AND minute_ms >= ? AND minute_ms <= ? ORDER BY minute_ms",
            (*coins, lo_ms, hi_ms),
        )

    def price_near(self, coin: str, at_ms: int) -> float | None:
        """The last candle close at or before ``at_ms``, else the nearest raw liquidation's price."""
        rows = self._rows(
            "SELECT close FROM candles WHERE coin = ? AND open_ms <= ? ORDER BY open_ms DESC LIMIT 1",
            (coin, at_ms),
        )
        if not rows:
            rows = self._rows(
                "SELECT price AS close FROM liquidations WHERE coin = ? ORDER BY ABS(ts_ms - ?) LIMIT 1",
                (coin, at_ms),
            )
        return float(rows[0]["close"]) if rows else None

    def export_macro(self, lo_ms: int, hi_ms: int) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM macro WHERE ts_ms >= ? AND ts_ms <= ? ORDER BY series, interval, ts_ms",
            (lo_ms, hi_ms),
        )

    def export_global(self, lo_ms: int, hi_ms: int) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM global_stats WHERE ts_ms >= ? AND ts_ms <= ? ORDER BY ts_ms", (lo_ms, hi_ms)
        )

    def export_fear_greed(self, lo_ms: int, hi_ms: int) -> list[dict[str, Any]]:
        return self._rows(
            "SELECT * FROM fear_greed WHERE ts_ms >= ? AND ts_ms <= ? ORDER BY source, ts_ms", (lo_ms, hi_ms)
        )

    def has_health_detail(self, prefix: str) -> bool:
        """Whether any source's health detail starts with ``prefix`` (e.g. the sample-data mark)."""
        return bool(self._rows("SELECT 1 FROM source_health WHERE detail LIKE ? LIMIT 1", (prefix + "%",)))

    def has_market_data(self) -> bool:
        return any(self._rows(f"SELECT 1 FROM {table} LIMIT 1") for table in _DATA_TABLES)  # noqa: S608

    def clear_market_data(self) -> None:
        """Delete every market table's rows (inside :meth:`Store.batch`, for an atomic replace)."""
        for table in MARKET_TABLES:
            self._execute(f"DELETE FROM {table}")  # noqa: S608
