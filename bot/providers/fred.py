"""FRED's keyless CSV download: daily closes of the macro series, the fallback when Yahoo fails.

``GET https://fred.stlouisfed.org/graph/fredgraph.csv?id=DGS10`` needs no key. Its shape is
reported by third parties only (see ../shared/samples/README.md, no recorded sample): a header
``observation_date,<ID>`` (older downloads said ``DATE``), then one ``YYYY-MM-DD,value`` row per
observation, the value ``.`` or empty on a holiday. So the parser is defensive: a header that is
not that (an HTML page, another series) is a :class:`BadPayload`; a row without a usable date or
a positive finite value is skipped. ``cosd`` (the first date) keeps the download short; should
FRED ignore it, the rows before it are dropped here.

FRED has no Euro Stoxx 50 nor DAX, and no hourly data: those stay Yahoo-only. Its dollar series is
the broad trade-weighted index (DTWEXBGS, ~120), not ICE's DXY (~100): it is stored as its own
series ``usd_broad`` so it is never mixed with, nor named as, the dollar index.
"""

from __future__ import annotations

import csv
import logging
import math
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from bot.clock import Clock, system_clock
from bot.models import MAX_MAGNITUDE, MacroPoint
from bot.providers.http import BadPayload, GeoBlocked, HttpClient, ProviderError, TransientError
from bot.settings import FredSettings

log = logging.getLogger(__name__)

SERIES: dict[str, tuple[str, str]] = {
    "spx": ("SP500", "spx"),
    "ndx": ("NASDAQ100", "ndx"),
    "us10y": ("DGS10", "us10y"),  # percent, as Yahoo's ^TNX (4.25 = 4.25 %)
    "vix": ("VIXCLS", "vix"),
    "dxy": ("DTWEXBGS", "usd_broad"),  # NOT the DXY: the broad trade-weighted dollar index
}
"""Our (Yahoo) series key → (FRED series id, the series the points are stored under)."""

NAMES: dict[str, str] = {"usd_broad": "US dollar (broad index)"}
"""Display names of the series only FRED provides."""

HISTORY_DAYS = 100  # about Yahoo's three months of daily closes
_DATE_COLUMNS = ("observation_date", "date")


def parse_csv(text: str, series: str, fred_id: str, source: str = "fred") -> list[MacroPoint]:
    """Daily closes of one FRED CSV, ascending, one point per date (the last row wins)."""
    lines = text.lstrip("\ufeff").splitlines()
    try:
        rows = list(csv.reader(line for line in lines if line.strip()))
    except csv.Error as exc:
        raise BadPayload(source, f"{fred_id}: unreadable CSV ({exc})") from exc
    if not rows:
        raise BadPayload(source, f"{fred_id}: empty body")
    header = [cell.strip() for cell in rows[0]]
    if len(header) != 2 or header[0].lower() not in _DATE_COLUMNS or header[1].upper() != fred_id.upper():
        raise BadPayload(source, f"{fred_id}: not a FRED CSV (header {rows[0][:3]!r})")
    points: dict[datetime, MacroPoint] = {}
    dated = 0
    for row in rows[1:]:
        if len(row) != 2:
            continue
        try:
            day = date.fromisoformat(row[0].strip())
        except ValueError:
            continue
        dated += 1
        try:
            close = float(row[1].strip())
        except ValueError:
            continue  # "." or empty: no observation that day (a holiday)
        if not math.isfinite(close) or not 0 < close <= MAX_MAGNITUDE:
            continue
        ts = datetime(day.year, day.month, day.day, tzinfo=UTC)
        points[ts] = MacroPoint(
            series=series, symbol=fred_id, source="fred", interval="1d", ts=ts, close=close
        )
    if len(rows) > 1 and not dated:
        raise BadPayload(source, f"{fred_id}: {len(rows) - 1} rows but none starts with a date")
    return sorted(points.values(), key=lambda p: p.ts)


class FredProvider:
    """Daily closes per series: one CSV request per series."""

    def __init__(self, http: HttpClient, settings: FredSettings, *, clock: Clock = system_clock) -> None:
        self.rest = http.venue("fred", settings.rest_url, settings.requests_per_minute)
        self._clock = clock

    async def series_csv(self, key: str) -> list[MacroPoint]:
        fred_id, stored_as = SERIES[key]
        since = self._clock().date() - timedelta(days=HISTORY_DAYS)
        text = await self.rest.get_text("/graph/fredgraph.csv", {"id": fred_id, "cosd": since.isoformat()})
        points = parse_csv(text, stored_as, fred_id, self.rest.source)
        return [p for p in points if p.ts.date() >= since]

    async def daily(self, series: Iterable[str] = tuple(SERIES)) -> list[MacroPoint]:
        """About three months of daily closes for each of ``series`` (our keys, see SERIES). A
        series FRED refuses (404) is skipped; a transient failure, a block or a payload that is
        not the CSV propagates, as does a refusal of every series."""
        keys = list(series)
        unknown = [k for k in keys if k not in SERIES]
        if unknown:
            raise ValueError(f"no FRED series for: {', '.join(unknown)}")
        out: list[MacroPoint] = []
        refused: list[ProviderError] = []
        for key in keys:
            try:
                out.extend(await self.series_csv(key))
            except (TransientError, GeoBlocked, BadPayload):
                raise
            except ProviderError as exc:
                log.warning("fred: skipping %s: %s", key, exc.reason)
                refused.append(exc)
        if refused and len(refused) == len(keys):
            raise refused[0]
        return out
