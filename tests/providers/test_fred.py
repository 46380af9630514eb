"""FRED keyless CSV: the parser on the hand-written fixtures (tests/fixtures/samples/fred, no
recorded sample exists) and its edge cases, the provider's requests, ``VenueClient.get_text``, and
the collector falling back to FRED per series when Yahoo's daily fetch fails."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from bot.app import App, build_app
from bot.clock import FrozenClock
from bot.collector import Collector
from bot.providers.fred import NAMES, SERIES, FredProvider, parse_csv
from bot.providers.http import BadPayload, GeoBlocked, HttpClient, ProviderError, TransientError
from bot.settings import FredSettings, Settings, load_settings
from tests.helpers import every_venue_at

from .conftest import REPO_SAMPLES, FakeVenue

FAST = FredSettings(requests_per_minute=600)
NOW = datetime(2024, 6, 22, 12, 0, tzinfo=UTC)
CSV_PATH = "/graph/fredgraph.csv"


def fixture(fred_id: str) -> str:
    return (REPO_SAMPLES / "fred" / f"fredgraph-{fred_id}.csv").read_text(encoding="utf-8")


def day(d: int) -> datetime:
    return datetime(2024, 6, d, tzinfo=UTC)


def csv_reply(request: httpx.Request) -> httpx.Response:
    """A fixture for the three ids that have one, a one-row CSV in the same shape for the rest."""
    fred_id = request.url.params["id"]
    path = REPO_SAMPLES / "fred" / f"fredgraph-{fred_id}.csv"
    body = path.read_text() if path.is_file() else f"observation_date,{fred_id}\n2024-06-21,100.5\n"
    return httpx.Response(200, text=body, headers={"Content-Type": "text/csv"})


# -- parser ---------------------------------------------------------------------------------


def test_dgs10_fixture() -> None:
    points = parse_csv(fixture("DGS10"), "us10y", "DGS10")
    assert [p.ts for p in points] == [day(14), day(17), day(18), day(20), day(21)]  # "." on the 19th
    assert [p.close for p in points] == [4.22, 4.28, 4.22, 4.25, 4.26]
    first = points[0]
    assert (first.series, first.symbol, first.source, first.interval) == ("us10y", "DGS10", "fred", "1d")
    assert first.ts.tzinfo is UTC
    assert (first.ts.hour, first.ts.minute) == (0, 0)


def test_sp500_fixture_crlf_and_empty_value() -> None:
    points = parse_csv(fixture("SP500"), "spx", "SP500")
    assert [p.ts for p in points] == [day(14), day(17), day(18), day(20), day(21)]  # empty on the 19th
    assert points[-1].close == pytest.approx(5464.62)


def test_broad_dollar_is_never_the_dxy() -> None:
    fred_id, stored_as = SERIES["dxy"]
    assert (fred_id, stored_as) == ("DTWEXBGS", "usd_broad")
    assert NAMES[stored_as] == "US dollar (broad index)"
    points = parse_csv(fixture("DTWEXBGS"), stored_as, fred_id)
    assert {(p.series, p.symbol) for p in points} == {("usd_broad", "DTWEXBGS")}
    assert len(points) == 5


def test_no_fred_series_for_european_indices() -> None:
    assert "sx5e" not in SERIES
    assert "dax" not in SERIES
    assert {k: v[0] for k, v in SERIES.items() if k != "dxy"} == {
        "spx": "SP500",
        "ndx": "NASDAQ100",
        "us10y": "DGS10",
        "vix": "VIXCLS",
    }


@pytest.mark.parametrize(
    "value", [".", "", " ", "nan", "NaN", "inf", "-inf", "0", "0.0", "-1.5", "n/a", "1e999"]
)
def test_unusable_values_are_skipped(value: str) -> None:
    text = f"observation_date,VIXCLS\n2024-06-20,{value}\n2024-06-21,13.2\n"
    (p,) = parse_csv(text, "vix", "VIXCLS")
    assert (p.ts, p.close) == (day(21), 13.2)


def test_bad_rows_skipped_duplicates_last_wins() -> None:
    text = (
        "\ufeffobservation_date,VIXCLS\n"
        "2024-06-18,12.0,extra\n"  # wrong width
        "not-a-date,12.5\n"
        "2024-13-40,12.6\n"
        "2024-06-19\n"
        "\n"
        "2024-06-21,13.0\n"
        "2024-06-20,12.9\n"
        "2024-06-21,13.2\n"
    )
    points = parse_csv(text, "vix", "VIXCLS")
    assert [(p.ts, p.close) for p in points] == [(day(20), 12.9), (day(21), 13.2)]


def test_legacy_date_header_and_case() -> None:
    (p,) = parse_csv("DATE,dgs10\r\n2024-06-21,4.26\r\n", "us10y", "DGS10")
    assert p.close == 4.26


def test_header_only_is_empty() -> None:
    assert parse_csv("observation_date,DGS10\n", "us10y", "DGS10") == []


@pytest.mark.parametrize(
    "body",
    [
        "",
        "\n\n",
        "<!DOCTYPE html>\n<html><head><title>FRED</title></head><body>Just a moment...</body></html>\n",
        "observation_date,SP500\n2024-06-21,5464.62\n",  # another series
        "observation_date,DGS10,DGS2\n2024-06-21,4.26,4.70\n",  # another download
        "Date,Open,High,Low,Close,Volume\n2024-06-21,1,2,0.5,1.5,10\n",  # Stooq's shape
        '{"observations": [{"date": "2024-06-21", "value": "4.26"}]}',  # the keyed JSON API
    ],
)
def test_not_the_csv_is_bad_payload(body: str) -> None:
    with pytest.raises(BadPayload):
        parse_csv(body, "us10y", "DGS10")


def test_rows_without_any_date_are_bad_payload() -> None:
    with pytest.raises(BadPayload, match="none starts with a date"):
        parse_csv("observation_date,DGS10\n21/06/2024,4.26\nyesterday,4.2\n", "us10y", "DGS10")


# -- provider and VenueClient.get_text -------------------------------------------------------


async def test_daily_requests_one_csv_per_series(http: HttpClient, fake: FakeVenue) -> None:
    fake.on(CSV_PATH, csv_reply)
    provider = FredProvider(http, FAST, clock=FrozenClock(NOW))
    points = await provider.daily(["us10y", "dxy"])
    assert fake.paths() == [CSV_PATH, CSV_PATH]
    assert fake.params(0) == {"id": "DGS10", "cosd": "2024-03-14"}
    assert fake.params(1)["id"] == "DTWEXBGS"
    assert {p.series for p in points} == {"us10y", "usd_broad"}
    assert str(fake.requests[0].url).startswith("https://fred.stlouisfed.org/graph/fredgraph.csv?")


async def test_rows_before_the_window_are_dropped(http: HttpClient, fake: FakeVenue) -> None:
    """Should FRED ignore ``cosd`` and send the whole history, only the last ~100 days are kept."""
    fake.on(CSV_PATH, httpx.Response(200, text="observation_date,DGS10\n1962-01-02,4.06\n2024-06-21,4.26\n"))
    points = await FredProvider(http, FAST, clock=FrozenClock(NOW)).daily(["us10y"])
    assert [p.ts for p in points] == [day(21)]


async def test_unknown_series_rejected(http: HttpClient) -> None:
    with pytest.raises(ValueError, match="sx5e"):
        await FredProvider(http, FAST).daily(["spx", "sx5e"])


async def test_refused_series_skipped_all_refused_raises(http: HttpClient, fake: FakeVenue) -> None:
    def one_missing(request: httpx.Request) -> httpx.Response:
        if request.url.params["id"] == "NASDAQ100":
            return httpx.Response(404, text="Series not found")
        return csv_reply(request)

    fake.on(CSV_PATH, one_missing)
    provider = FredProvider(http, FAST, clock=FrozenClock(NOW))
    points = await provider.daily(["spx", "ndx"])
    assert {p.series for p in points} == {"spx"}
    with pytest.raises(ProviderError, match="HTTP 404"):
        await provider.daily(["ndx"])


async def test_html_page_is_bad_payload(http: HttpClient, fake: FakeVenue) -> None:
    fake.on(CSV_PATH, httpx.Response(200, text="<html><body>Access denied</body></html>"))
    with pytest.raises(BadPayload):
        await FredProvider(http, FAST).daily(["spx"])


async def test_get_text_retries_5xx_then_returns_body(
    http: HttpClient, fake: FakeVenue, sleeps: list[float]
) -> None:
    fake.on("/x.csv", httpx.Response(503), httpx.Response(200, text="a,b\n1,2\n"))
    client = http.venue("fred", "https://fred.example", 600)
    assert await client.get_text("/x.csv", {"id": "A"}) == "a,b\n1,2\n"
    assert len(sleeps) == 1
    assert client.requests == 2
    assert fake.params() == {"id": "A"}


async def test_get_text_shares_status_handling(
    http: HttpClient, fake: FakeVenue, sleeps: list[float]
) -> None:
    client = http.venue("fred", "https://fred.example", 600)
    fake.on("/geo.csv", httpx.Response(451))
    with pytest.raises(GeoBlocked):
        await client.get_text("/geo.csv")
    fake.on("/down.csv", httpx.Response(500))
    with pytest.raises(TransientError):
        await client.get_text("/down.csv")
    assert len(sleeps) == 2  # retries=2 in the fixture settings; none for the 451


# -- the collector's fallback ----------------------------------------------------------------


def chart(close: float) -> httpx.Response:
    """A Yahoo daily chart with one bar on 2024-06-21."""
    ts = int(day(21).timestamp()) + 14 * 3600
    body = {
        "chart": {
            "result": [{"timestamp": [ts], "indicators": {"quote": [{"close": [close]}]}}],
            "error": None,
        }
    }
    return httpx.Response(200, json=body)


def venues(**overrides: object) -> dict[str, dict[str, object]]:
    """Every venue at an unroutable host (the transport is mocked), Yahoo and FRED unthrottled."""
    out: dict[str, dict[str, object]] = {k: dict(v) for k, v in every_venue_at("https://venue.test").items()}
    for venue in ("yahoo", "fred"):
        out[venue]["requests_per_minute"] = 60_000
        out[venue]["enabled"] = overrides.get(venue, True)
    return out


YAHOO = {
    "spx": "^GSPC",
    "ndx": "^NDX",
    "sx5e": "^STOXX50E",
    "dax": "^GDAXI",
    "dxy": "DX-Y.NYB",
    "us10y": "^TNX",
    "vix": "^VIX",
}


@pytest.fixture
def fred_settings(tmp_path: Path) -> Settings:
    return load_settings(db=tmp_path / "store.db", coins=["BTC"], providers=venues())


@pytest.fixture
async def wired(fred_settings: Settings, http: HttpClient) -> AsyncIterator[tuple[App, Collector]]:
    clock = FrozenClock(NOW)
    app = build_app(fred_settings, clock=clock)
    yield app, Collector(fred_settings, app.store, http, app.registry, clock)
    app.close()


def sources(app: App) -> dict[str, set[str]]:
    rows = app.store.sync.macro(
        ["spx", "ndx", "sx5e", "dax", "dxy", "us10y", "vix", "usd_broad"], "1d", day(1)
    )
    out: dict[str, set[str]] = {}
    for p in rows:
        out.setdefault(p.source, set()).add(p.series)
    return out


@pytest.mark.parametrize("status", [500, 503, 451])
async def test_falls_back_to_fred_when_yahoo_fails(
    wired: tuple[App, Collector], fake: FakeVenue, status: int
) -> None:
    app, collector = wired
    for symbol in YAHOO.values():
        fake.on(f"/v8/finance/chart/{symbol}", httpx.Response(status))
    fake.on(CSV_PATH, csv_reply)
    report = await collector.refresh_macro()
    by_source = {s.source: s for s in report.sources}
    assert list(by_source) == ["yahoo/daily", "fred/daily", "yahoo/intraday"]
    assert by_source["yahoo/daily"].error
    assert by_source["fred/daily"].error is None
    assert by_source["fred/daily"].stored == 17
    assert sources(app) == {"fred": {"spx", "ndx", "us10y", "vix", "usd_broad"}}
    health = {h.source: h for h in app.store.sync.source_health()}
    assert health["fred/daily"].last_success == NOW
    assert health["fred/daily"].last_error is None
    if status == 451:
        assert "yahoo" in collector.disabled
        assert by_source["yahoo/intraday"].error.startswith("disabled")


async def test_fallback_only_for_series_yahoo_did_not_bring(
    wired: tuple[App, Collector], fake: FakeVenue
) -> None:
    app, collector = wired
    for key, symbol in YAHOO.items():
        fake.on(f"/v8/finance/chart/{symbol}", httpx.Response(404) if key in ("vix", "dax") else chart(100.0))
    fake.on(CSV_PATH, csv_reply)
    report = await collector.refresh_macro()
    assert [s.source for s in report.sources] == ["yahoo/daily", "fred/daily", "yahoo/intraday"]
    assert [r.url.params["id"] for r in fake.requests if r.url.path == CSV_PATH] == ["VIXCLS"]
    assert sources(app) == {"yahoo": {"spx", "ndx", "sx5e", "dxy", "us10y"}, "fred": {"vix"}}


async def test_no_fred_request_when_yahoo_answers(wired: tuple[App, Collector], fake: FakeVenue) -> None:
    app, collector = wired
    for symbol in YAHOO.values():
        fake.on(f"/v8/finance/chart/{symbol}", chart(100.0))
    report = await collector.refresh_macro()
    assert [s.source for s in report.sources] == ["yahoo/daily", "yahoo/intraday"]
    assert CSV_PATH not in fake.paths()
    assert sources(app) == {"yahoo": set(YAHOO)}


async def test_fred_used_when_yahoo_disabled_and_respects_its_own_switch(
    tmp_path: Path, http: HttpClient, fake: FakeVenue
) -> None:
    fake.on(CSV_PATH, csv_reply)
    clock = FrozenClock(NOW)
    for fred_on, expect_error in ((True, False), (False, True)):
        settings = load_settings(
            db=tmp_path / f"s{fred_on}.db",
            coins=["BTC"],
            providers=venues(yahoo=False, fred=fred_on),
        )
        app = build_app(settings, clock=clock)
        try:
            report = await Collector(settings, app.store, http, app.registry, clock).refresh_macro()
            fred = next(s for s in report.sources if s.source == "fred/daily")
            assert (fred.error is not None) is expect_error
            if expect_error:
                assert fred.error == "disabled: disabled in config"
        finally:
            app.close()
    assert not any(r.url.path.startswith("/v8/") for r in fake.requests)


def test_unreadable_csv_is_bad_payload() -> None:
    with pytest.raises(BadPayload, match="unreadable CSV"):
        parse_csv("observation_date,DGS10\n2024-06-21," + "9" * 200_000 + "\n", "us10y", "DGS10")
