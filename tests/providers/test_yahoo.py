"""Yahoo chart parser against the recorded response and its edge cases (nulls, the running bar,
errors), and the provider's per-series requests over a scripted transport."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.clock import from_ms
from bot.coins import CoinRegistry
from bot.providers.http import BadPayload, HttpClient, ProviderError
from bot.providers.yahoo import SERIES, YahooProvider, parse_chart
from bot.settings import YahooSettings

from .conftest import FakeVenue, load_sample, ok

FAST = YahooSettings(requests_per_minute=600)
SAMPLE = "yahoo/v8-finance-chart-WSU.DE-1d.json"


def chart(timestamps: list[int], closes: list[Any], gmtoffset: int = 0) -> dict[str, Any]:
    return {
        "chart": {
            "result": [
                {
                    "meta": {"symbol": "^GSPC", "gmtoffset": gmtoffset},
                    "timestamp": timestamps,
                    "indicators": {"quote": [{"close": closes}]},
                }
            ],
            "error": None,
        }
    }


def test_daily_sample() -> None:
    points = parse_chart(load_sample(SAMPLE), "dax", "WSU.DE", "1d")
    assert [p.ts for p in points] == [  # bars open 07:00 UTC: keyed by the trading date
        datetime(2023, 8, 4, tzinfo=UTC),
        datetime(2023, 8, 7, tzinfo=UTC),
        datetime(2023, 8, 8, tzinfo=UTC),
    ]
    assert [p.close for p in points] == pytest.approx([34.45000076293945, 34.0, 33.20000076293945])
    first = points[0]
    assert (first.series, first.symbol, first.source, first.interval) == ("dax", "WSU.DE", "yahoo", "1d")


def test_nulls_and_absurd_closes_skipped() -> None:
    body = load_sample(SAMPLE)
    body["chart"]["result"][0]["indicators"]["quote"][0]["close"] = [None, 34, 0]
    (p,) = parse_chart(body, "dax", "WSU.DE", "1d")
    assert (p.ts, p.close) == (datetime(2023, 8, 7, tzinfo=UTC), 34.0)


def test_daily_date_uses_exchange_offset() -> None:
    """The trading date is the exchange's: a New York bar stamped 20:00 UTC is that day's, a Tokyo
    bar stamped 00:00 UTC is already the next day's."""
    (ny,) = parse_chart(
        chart([1691524800], [4500.0], gmtoffset=-14400), "spx", "^GSPC", "1d"
    )  # 2023-08-08 20:00Z
    assert ny.ts == datetime(2023, 8, 8, tzinfo=UTC)
    (tokyo,) = parse_chart(chart([1691539200], [32000.0], gmtoffset=32400), "n225", "^N225", "1d")  # 00:00Z
    assert tokyo.ts == datetime(2023, 8, 9, tzinfo=UTC)


def test_hourly_running_bar_snapped_to_its_start() -> None:
    """US indices' hourly bars start at :30; the live point carries the latest trade time."""
    t0 = 1691501400  # 2023-08-08 13:30 UTC
    body = chart([t0, t0 + 3600, t0 + 3600 + 1234, t0 + 7200 + 60], [4500.0, 4510.0, 4512.5, 4520.0])
    points = parse_chart(body, "spx", "^GSPC", "1h")
    assert [(p.ts, p.close) for p in points] == [
        (from_ms(t0 * 1000), 4500.0),
        (from_ms((t0 + 3600) * 1000), 4512.5),  # the later duplicate (live) wins
        (from_ms((t0 + 7200) * 1000), 4520.0),
    ]


def test_chart_errors_and_drift() -> None:
    not_found = {"chart": {"result": None, "error": {"code": "Not Found", "description": "No data found"}}}
    with pytest.raises(ProviderError, match="No data found") as info:
        parse_chart(not_found, "spx", "^GSPC", "1d")
    assert not isinstance(info.value, BadPayload)
    with pytest.raises(BadPayload, match="neither"):
        parse_chart({"chart": {"result": [], "error": None}}, "spx", "^GSPC", "1d")
    renamed = load_sample(SAMPLE)
    renamed["chart"]["result"][0]["indicator"] = renamed["chart"]["result"][0].pop("indicators")
    with pytest.raises(BadPayload, match="indicators"):
        parse_chart(renamed, "dax", "WSU.DE", "1d")
    with pytest.raises(BadPayload, match="3 timestamps but 2 closes"):
        parse_chart(chart([1, 2, 3], [1.0, 2.0]), "spx", "^GSPC", "1d")
    with pytest.raises(BadPayload):
        parse_chart(chart([1], ["n/a"]), "spx", "^GSPC", "1d")


def test_empty_range() -> None:
    body = load_sample(SAMPLE)
    result = body["chart"]["result"][0]
    del result["timestamp"]
    result["indicators"] = {"quote": [{}], "adjclose": [{}]}
    assert parse_chart(body, "dax", "WSU.DE", "1d") == []


async def test_daily_requests_per_series(http: HttpClient, fake: FakeVenue, registry: CoinRegistry) -> None:
    fake.on("/v8/finance/chart/^GSPC", ok(load_sample(SAMPLE)))
    fake.on("/v8/finance/chart/DX-Y.NYB", ok(load_sample(SAMPLE)))
    points = await YahooProvider(http, FAST, registry).daily(["spx", "dxy"])
    assert [r.url.raw_path.split(b"?")[0] for r in fake.requests] == [
        b"/v8/finance/chart/%5EGSPC",
        b"/v8/finance/chart/DX-Y.NYB",
    ]
    assert fake.params(0) == {"interval": "1d", "range": "3mo", "includePrePost": "false"}
    assert {(p.series, p.symbol) for p in points} == {("spx", "^GSPC"), ("dxy", "DX-Y.NYB")}
    assert len(points) == 6


async def test_intraday_and_refused_series(http: HttpClient, fake: FakeVenue, registry: CoinRegistry) -> None:
    fake.on("/v8/finance/chart/^VIX", ok(chart([1691501400], [15.2])))
    fake.on("/v8/finance/chart/^TNX", httpx.Response(404, json={"chart": {"result": None}}))
    p = YahooProvider(http, FAST, registry)
    (vix,) = await p.intraday(["us10y", "vix"])
    assert (vix.series, vix.interval, vix.close) == ("vix", "1h", 15.2)
    assert fake.params() == {"interval": "1h", "range": "5d", "includePrePost": "false"}
    with pytest.raises(ProviderError, match="HTTP 404"):
        await p.intraday(["us10y"])
    with pytest.raises(ValueError, match="unknown macro series: gold"):
        await p.daily(["gold"])


def test_series_mapping() -> None:
    assert SERIES == {
        "spx": "^GSPC",
        "ndx": "^NDX",
        "sx5e": "^STOXX50E",
        "dax": "^GDAXI",
        "dxy": "DX-Y.NYB",
        "us10y": "^TNX",
        "vix": "^VIX",
    }
