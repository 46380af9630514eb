"""The fault matrix: every venue's provider over a scripted transport, through the real
HttpClient (retries, Retry-After, geo blocks), with sleeps recorded instead of slept.

Also checks that the in-repo sample copies still match the team's shared samples."""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from bot.coins import CoinRegistry
from bot.providers.binance import BinanceProvider
from bot.providers.bybit import BybitProvider
from bot.providers.coingecko import CoinGeckoProvider
from bot.providers.http import BadPayload, GeoBlocked, HttpClient, TransientError
from bot.providers.okx import OkxProvider
from bot.providers.yahoo import YahooProvider
from bot.settings import (
    BinanceSettings,
    BybitSettings,
    CoinGeckoSettings,
    HttpSettings,
    OkxSettings,
    YahooSettings,
)

from .conftest import REPO_SAMPLES, FakeVenue, load_sample, ok


def _rename(row: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    return {(new if k == old else k): v for k, v in row.items()}


def _bybit_linear(row: dict[str, Any] | None = None) -> dict[str, Any]:
    ws = load_sample("bybit-v5/ws-tickers-linear-snapshot.json")
    return {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"category": "linear", "list": [row or ws["data"]]},
        "time": ws["ts"],
    }


def _binance_window() -> list[dict[str, Any]]:
    return [{**load_sample("binance-spot/ticker-rolling-window.json"), "symbol": "BTCUSDT"}]


def _okx_oi_renamed() -> dict[str, Any]:
    body = load_sample("okx-v5/open-interest.json")
    body["data"] = [_rename(r, "oiUsd", "oiUSD") for r in body["data"]]
    return body


def _cg_global_renamed() -> dict[str, Any]:
    body = load_sample("coingecko/global.json")
    body["data"] = _rename(body["data"], "updated_at", "updatedAt")
    return body


def _yahoo_renamed() -> dict[str, Any]:
    body = load_sample("yahoo/v8-finance-chart-WSU.DE-1d.json")
    body["chart"]["result"][0] = _rename(body["chart"]["result"][0], "indicators", "indicator")
    return body


@dataclass(frozen=True)
class Venue:
    """One provider call over one path: the good body, a drifted one, and a check of the result."""

    name: str
    path: str
    good: Callable[[], Any]
    renamed: Callable[[], Any]
    call: Callable[[HttpClient, CoinRegistry], Awaitable[Any]]
    check: Callable[[Any], bool]


VENUES = [
    Venue(
        "binance",
        "/api/v3/ticker",
        _binance_window,
        lambda: [_rename(r, "priceChangePercent", "pricePercentChange") for r in _binance_window()],
        lambda http, reg: BinanceProvider(http, BinanceSettings(), reg).spot_change_7d([reg.get("BTC")]),
        lambda result: result[0].change_pct == -88.889,
    ),
    Venue(
        "bybit",
        "/v5/market/tickers",
        _bybit_linear,
        lambda: _bybit_linear(_rename(_bybit_linear()["result"]["list"][0], "lastPrice", "last")),
        lambda http, reg: BybitProvider(http, BybitSettings(), reg).perp_tickers([reg.get("BTC")]),
        lambda result: result[0].price == 66666.6,
    ),
    Venue(
        "okx",
        "/api/v5/public/open-interest",
        lambda: load_sample("okx-v5/open-interest.json"),
        _okx_oi_renamed,
        lambda http, reg: OkxProvider(http, OkxSettings(), reg).open_interest([reg.get("BTC")]),
        lambda result: result[0].oi_usd == 50000.0,
    ),
    Venue(
        "coingecko",
        "/api/v3/global",
        lambda: load_sample("coingecko/global.json"),
        _cg_global_renamed,
        lambda http, reg: CoinGeckoProvider(
            http, CoinGeckoSettings(requests_per_minute=600), reg
        ).global_stats(),
        lambda result: round(result.btc_dominance_pct, 2) == 57.95,
    ),
    Venue(
        "yahoo",
        "/v8/finance/chart/^GSPC",
        lambda: load_sample("yahoo/v8-finance-chart-WSU.DE-1d.json"),
        _yahoo_renamed,
        lambda http, reg: YahooProvider(http, YahooSettings(requests_per_minute=600), reg).daily(["spx"]),
        lambda result: round(result[0].close, 2) == 34.45,
    ),
]

by_venue = pytest.mark.parametrize("venue", VENUES, ids=[v.name for v in VENUES])


def timeout() -> httpx.ReadTimeout:
    return httpx.ReadTimeout("read timed out")


@by_venue
async def test_timeout_then_success_is_retried(
    venue: Venue, http: HttpClient, fake: FakeVenue, sleeps: list[float], registry: CoinRegistry
) -> None:
    fake.on(venue.path, timeout(), ok(venue.good()))
    result = await venue.call(http, registry)
    assert venue.check(result)
    assert len(fake.requests) == 2
    assert len(sleeps) == 1
    assert 0 <= sleeps[0] <= 30


@by_venue
async def test_timeout_forever_is_transient(
    venue: Venue,
    http: HttpClient,
    fake: FakeVenue,
    sleeps: list[float],
    registry: CoinRegistry,
    http_settings: HttpSettings,
) -> None:
    fake.on(venue.path, timeout())
    with pytest.raises(TransientError, match="timeout"):
        await venue.call(http, registry)
    assert len(fake.requests) == http_settings.retries + 1
    assert len(sleeps) == http_settings.retries


@by_venue
@pytest.mark.parametrize("status", [429, 418])
async def test_rate_limited_waits_retry_after(
    venue: Venue, status: int, http: HttpClient, fake: FakeVenue, sleeps: list[float], registry: CoinRegistry
) -> None:
    fake.on(venue.path, httpx.Response(status, headers={"Retry-After": "7"}), ok(venue.good()))
    result = await venue.call(http, registry)
    assert venue.check(result)
    assert sleeps == [7.0]


@by_venue
async def test_5xx_then_success_is_retried(
    venue: Venue, http: HttpClient, fake: FakeVenue, sleeps: list[float], registry: CoinRegistry
) -> None:
    fake.on(venue.path, httpx.Response(503), httpx.Response(502), ok(venue.good()))
    result = await venue.call(http, registry)
    assert venue.check(result)
    assert len(fake.requests) == 3
    assert len(sleeps) == 2


@by_venue
async def test_5xx_forever_is_transient_after_retries(
    venue: Venue,
    http: HttpClient,
    fake: FakeVenue,
    sleeps: list[float],
    registry: CoinRegistry,
    http_settings: HttpSettings,
) -> None:
    fake.on(venue.path, httpx.Response(500))
    with pytest.raises(TransientError, match="HTTP 500"):
        await venue.call(http, registry)
    assert len(fake.requests) == http_settings.retries + 1
    assert len(sleeps) == http_settings.retries


@by_venue
async def test_malformed_json_is_bad_payload(
    venue: Venue, http: HttpClient, fake: FakeVenue, sleeps: list[float], registry: CoinRegistry
) -> None:
    fake.on(
        venue.path,
        httpx.Response(200, content=b'{"truncated": [1, 2', headers={"Content-Type": "application/json"}),
    )
    with pytest.raises(BadPayload, match="malformed JSON"):
        await venue.call(http, registry)
    assert len(fake.requests) == 1
    assert sleeps == []


@by_venue
async def test_renamed_field_is_bad_payload(
    venue: Venue, http: HttpClient, fake: FakeVenue, sleeps: list[float], registry: CoinRegistry
) -> None:
    fake.on(venue.path, ok(venue.renamed()))
    with pytest.raises(BadPayload) as info:
        await venue.call(http, registry)
    assert info.value.source.startswith(venue.name)  # e.g. "binance-spot"
    assert len(fake.requests) == 1
    assert sleeps == []


@by_venue
@pytest.mark.parametrize("status", [451, 403])
async def test_geo_block_is_not_retried(
    venue: Venue, status: int, http: HttpClient, fake: FakeVenue, sleeps: list[float], registry: CoinRegistry
) -> None:
    fake.on(venue.path, httpx.Response(status, text="Service unavailable from a restricted location"))
    with pytest.raises(GeoBlocked, match=f"HTTP {status}"):
        await venue.call(http, registry)
    assert len(fake.requests) == 1
    assert sleeps == []


def test_fixture_copies_match_their_recorded_checksums() -> None:
    """The copies are byte-for-byte the team's samples (``../shared/samples``) as recorded in
    ``SHA256SUMS``: an edited, added or dropped copy fails here, with nothing outside this
    repository needed. (Refresh the list with ``sha256sum`` after copying new samples in.)"""
    listed = {}
    for line in (REPO_SAMPLES / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        digest, name = line.split(maxsplit=1)
        listed[name] = digest
    copies = {p.relative_to(REPO_SAMPLES).as_posix(): p for p in sorted(REPO_SAMPLES.rglob("*.json"))}
    assert len(copies) >= 27
    assert sorted(copies) == sorted(listed)
    for name, path in copies.items():
        assert hashlib.sha256(path.read_bytes()).hexdigest() == listed[name], name
