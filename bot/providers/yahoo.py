"""Yahoo Finance v8 chart: closes of the macro series (equity indices, dollar index, 10y yield)
that crypto moves are compared with.

Unofficial and undocumented (see ../shared/samples/README.md): ``timestamp`` is Unix **seconds**,
closes sit in ``indicators.quote[0].close`` and may be ``null`` (no trade in that bar): those bars
are skipped. The last bar is the running one and often carries the time of the latest trade
instead of the bar start, so timestamps are snapped to their bar: a daily bar to the trading date
(00:00 UTC of the exchange-local date), an hourly bar to the grid of the range's first bar. The
store then updates the running bar in place instead of adding a row per fetch.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from bot.clock import from_ms
from bot.coins import CoinRegistry
from bot.models import MAX_MAGNITUDE, MacroPoint
from bot.providers.http import BadPayload, GeoBlocked, HttpClient, ProviderError, TransientError
from bot.providers.parsing import validate_model
from bot.settings import YahooSettings

log = logging.getLogger(__name__)

SERIES: dict[str, str] = {
    "spx": "^GSPC",
    "ndx": "^NDX",
    "sx5e": "^STOXX50E",
    "dax": "^GDAXI",
    "dxy": "DX-Y.NYB",
    "us10y": "^TNX",
    "vix": "^VIX",
}
"""Our series keys → Yahoo symbols. ``^TNX`` is the 10y yield in percent (4.25 = 4.25 %)."""
ALL_SERIES: tuple[str, ...] = tuple(SERIES)

Bar = Literal["1h", "1d"]
RANGE: dict[Bar, str] = {"1d": "3mo", "1h": "5d"}
STEP_SECONDS: dict[Bar, int] = {"1d": 86_400, "1h": 3_600}


class _Quote(BaseModel):
    model_config = ConfigDict(extra="ignore")

    close: list[float | None] = []


class _Indicators(BaseModel):
    model_config = ConfigDict(extra="ignore")

    quote: list[_Quote]


class _Meta(BaseModel):
    model_config = ConfigDict(extra="ignore")

    gmtoffset: int = 0  # seconds east of UTC, the exchange's current offset


class _Result(BaseModel):
    model_config = ConfigDict(extra="ignore")

    meta: _Meta = _Meta()
    timestamp: list[int] = []  # absent when the range holds no bar
    indicators: _Indicators


class _Chart(BaseModel):
    model_config = ConfigDict(extra="ignore")

    result: list[_Result] | None = None
    error: Any = None


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore")

    chart: _Chart


def parse_chart(
    body: Any, series: str, symbol: str, interval: Bar, source: str = "yahoo"
) -> list[MacroPoint]:
    """Closes of one chart, ascending, one point per bar (the latest wins when Yahoo sends the
    running bar twice). A zero or negative close is dropped: the model refuses it."""
    chart = validate_model(source, body, _Body).chart
    if chart.error:
        raise ProviderError(source, f"{symbol}: {chart.error}")
    if not chart.result:
        raise BadPayload(source, f"{symbol}: chart has neither a result nor an error")
    result = chart.result[0]
    if not result.timestamp:
        return []
    closes = result.indicators.quote[0].close if result.indicators.quote else []
    if len(closes) != len(result.timestamp):
        raise BadPayload(source, f"{symbol}: {len(result.timestamp)} timestamps but {len(closes)} closes")
    first = result.timestamp[0]
    points: dict[datetime, MacroPoint] = {}
    for seconds, close in zip(result.timestamp, closes, strict=True):
        if close is None or not math.isfinite(close) or not 0 < close <= MAX_MAGNITUDE:
            continue
        try:
            ts = _bar_start(seconds, first, interval, result.meta.gmtoffset)
        except (ValueError, OverflowError):
            continue  # a timestamp no market ever had
        points[ts] = MacroPoint(
            series=series, symbol=symbol, source="yahoo", interval=interval, ts=ts, close=close
        )
    return sorted(points.values(), key=lambda p: p.ts)


def _bar_start(seconds: int, first: int, interval: Bar, gmtoffset: int) -> datetime:
    if interval == "1d":
        local_date = from_ms((seconds + gmtoffset) * 1000).date()
        return datetime(local_date.year, local_date.month, local_date.day, tzinfo=UTC)
    step = STEP_SECONDS[interval]
    return from_ms((first + (seconds - first) // step * step) * 1000)


class YahooProvider:
    """Daily and hourly closes per series: one request per series (Yahoo has no batch chart)."""

    def __init__(self, http: HttpClient, settings: YahooSettings, registry: CoinRegistry) -> None:
        self.registry = registry  # unused: macro series are not coins; kept for a uniform signature
        self.rest = http.venue("yahoo", settings.rest_url, settings.requests_per_minute)

    async def daily(self, series: Iterable[str] = ALL_SERIES) -> list[MacroPoint]:
        """About three months of daily closes per series."""
        return await self._charts(series, "1d")

    async def intraday(self, series: Iterable[str] = ALL_SERIES) -> list[MacroPoint]:
        """About five days of hourly closes per series."""
        return await self._charts(series, "1h")

    async def chart(self, series: str, interval: Bar) -> list[MacroPoint]:
        symbol = SERIES[series]
        body = await self.rest.get_json(
            f"/v8/finance/chart/{quote(symbol, safe='')}",
            {"interval": interval, "range": RANGE[interval], "includePrePost": "false"},
        )
        return parse_chart(body, series, symbol, interval, self.rest.source)

    async def _charts(self, series: Iterable[str], interval: Bar) -> list[MacroPoint]:
        """A symbol Yahoo refuses (404 for a renamed ticker) is skipped; a transient failure, a
        block or a drifted payload propagates, as does a refusal of every series."""
        keys = list(series)
        unknown = [k for k in keys if k not in SERIES]
        if unknown:
            raise ValueError(f"unknown macro series: {', '.join(unknown)}")
        out: list[MacroPoint] = []
        refused: list[ProviderError] = []
        for key in keys:
            try:
                out.extend(await self.chart(key, interval))
            except (TransientError, GeoBlocked, BadPayload):
                raise
            except ProviderError as exc:
                log.warning("yahoo: skipping %s: %s", key, exc.reason)
                refused.append(exc)
        if refused and len(refused) == len(keys):
            raise refused[0]
        return out
