"""Reads for the at-a-glance answers (/derivatives): long series thinned in SQL, so a month
of minute-by-minute funding reaches Python as one value per venue and hour."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from bot.clock import to_ms
from bot.store.schema import HOUR_MS


class GlanceReads:
    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError  # provided by the store

    def funding_hourly(self, coins: Sequence[str], since: datetime) -> dict[tuple[str, str], list[float]]:
        """Each (coin, venue)'s funding per 8h, one mean per hour since ``since``, oldest first."""
        out: dict[tuple[str, str], list[float]] = {}
        for coin in coins:  # one index range per coin
            rows = self._rows(
                "SELECT venue, ts_ms / ? AS hour, AVG(rate * 8.0 / interval_hours) AS rate_8h "
                "FROM funding WHERE coin = ? AND ts_ms >= ? GROUP BY venue, hour ORDER BY venue, hour",
                (HOUR_MS, coin, to_ms(since)),
            )
            for r in rows:
                out.setdefault((coin, r["venue"]), []).append(float(r["rate_8h"]))
        return out
