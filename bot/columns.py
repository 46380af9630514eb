"""Columnar candles: one coin's bars of one venue and market as numpy arrays, read straight from
the store's rows. The analysis of hourly and daily bars (beta, levels) only needs columns, and
building a model per row cost more than the query and the analysis together."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt

from bot.clock import from_ms, to_ms
from bot.models import Candle

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]

# the columns of a candle row, in the order CandleColumns.from_rows expects them
COLUMNS = ("open_ms", "open", "high", "low", "close", "volume", "quote_volume", "taker_buy_quote")


@dataclass(frozen=True, eq=False)
class CandleColumns:
    """Bars oldest first, unique open times. Nullable columns hold NaN where the row has NULL.
    ``venue``/``market`` are "" when there are no bars."""

    coin: str
    interval: str
    venue: str
    market: str
    open_ms: I64
    open: F64
    high: F64
    low: F64
    close: F64
    volume: F64
    quote_volume: F64
    taker_buy_quote: F64

    def __len__(self) -> int:
        return int(self.open_ms.size)

    @property
    def t(self) -> F64:
        """Open times in epoch seconds (what ``Candle.open_time.timestamp()`` gives)."""
        return self.open_ms.astype(np.float64) / 1000.0

    @classmethod
    def empty(cls, coin: str, interval: str) -> CandleColumns:
        return cls.from_rows(coin, interval, "", "", [])

    @classmethod
    def from_rows(
        cls, coin: str, interval: str, venue: str, market: str, rows: Sequence[Sequence[Any]]
    ) -> CandleColumns:
        """From rows of :data:`COLUMNS` ordered by open time (NULL → NaN)."""
        data = np.array(rows, dtype=np.float64).reshape(len(rows), len(COLUMNS))
        ms = np.array([r[0] for r in rows], dtype=np.int64)  # exact, not through float
        return cls(
            coin, interval, venue, market, ms, *(np.ascontiguousarray(data[:, i]) for i in range(1, 8))
        )

    @classmethod
    def from_candles(cls, candles: Sequence[Candle]) -> CandleColumns:
        """From models (one venue and market, as :meth:`Store.candles` returns them)."""
        if not candles:
            return cls.empty("", "")
        first = candles[0]
        rows = [
            (to_ms(c.open_time), c.open, c.high, c.low, c.close, c.volume, c.quote_volume, c.taker_buy_quote)
            for c in candles
        ]
        return cls.from_rows(first.coin, first.interval, first.venue, first.market, rows)

    def between(self, since: datetime | None = None, until: datetime | None = None) -> CandleColumns:
        """The bars opened in ``[since, until]``."""
        keep = np.ones(len(self), dtype=bool)
        us = self.open_ms * 1000  # compared in whole microseconds, exactly as datetimes compare
        if since is not None:
            keep &= us >= _us(since)
        if until is not None:
            keep &= us <= _us(until)
        if keep.all():
            return self
        floats = (
            self.open,
            self.high,
            self.low,
            self.close,
            self.volume,
            self.quote_volume,
            self.taker_buy_quote,
        )
        return CandleColumns(
            self.coin, self.interval, self.venue, self.market, self.open_ms[keep], *(c[keep] for c in floats)
        )

    def candles(self) -> list[Candle]:
        """Back to models, for code that takes them (a few bars, e.g. one window's)."""
        same: dict[str, Any] = {
            "coin": self.coin,
            "venue": self.venue,
            "market": self.market,
            "interval": self.interval,
        }
        return [
            Candle.model_construct(
                **same,
                open_time=from_ms(ms),
                open=o,
                high=h,
                low=lo,
                close=c,
                volume=v,
                quote_volume=_nullable(qv),
                taker_buy_quote=_nullable(tb),
            )
            for ms, o, h, lo, c, v, qv, tb in zip(
                self.open_ms.tolist(),
                self.open.tolist(),
                self.high.tolist(),
                self.low.tolist(),
                self.close.tolist(),
                self.volume.tolist(),
                self.quote_volume.tolist(),
                self.taker_buy_quote.tolist(),
                strict=True,
            )
        ]


def _us(t: datetime) -> int:
    return (t - _EPOCH) // timedelta(microseconds=1)


def _nullable(x: float) -> float | None:
    return None if math.isnan(x) else x
