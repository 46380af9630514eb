"""CoinGecko parsers against the recorded samples and their edge cases, and the provider's
single-request calls over a scripted transport."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.coins import CoinRegistry
from bot.providers.coingecko import (
    CoinGeckoProvider,
    MarketEntry,
    parse_global,
    parse_market_breadth,
    parse_market_tickers,
    parse_markets,
)
from bot.providers.http import BadPayload, HttpClient
from bot.settings import CoinGeckoSettings

from .conftest import FakeVenue, load_sample, ok

# The keyless default (10/min) would make the limiter really wait between test requests.
FAST = CoinGeckoSettings(requests_per_minute=600)


def markets_with(*extra: dict[str, Any]) -> list[dict[str, Any]]:
    return [*load_sample("coingecko/coins-markets.json"), *extra]


def test_markets_sample_ticker(registry: CoinRegistry) -> None:
    (t,) = parse_market_tickers(load_sample("coingecko/coins-markets.json"), registry)
    assert (t.coin, t.venue, t.market) == ("BTC", "coingecko", "spot")
    assert t.price == 77671.0
    assert t.change_24h_pct == -0.95302
    assert t.change_7d_pct == pytest.approx(-4.042267423689584)
    assert t.market_cap == 1555886872303.0
    assert (t.high_24h, t.low_24h) == (78419.0, 76696.0)
    assert t.quote_volume_24h == 33235034316.0
    assert t.ts == datetime(2026, 5, 18, 12, 49, 21, 599000, tzinfo=UTC)
    assert t.ts.utcoffset() is not None


def test_markets_sample_breadth(registry: CoinRegistry) -> None:
    markets = parse_markets(load_sample("coingecko/coins-markets.json"), registry)
    assert markets.breadth == [
        MarketEntry(id="bitcoin", symbol="BTC", change_24h_pct=-0.95302, market_cap=1555886872303.0)
    ]
    assert len(markets.tickers) == 1


def test_breadth_covers_untracked_and_thin_coins(registry: CoinRegistry) -> None:
    btc = load_sample("coingecko/coins-markets.json")[0]
    untracked = {**btc, "id": "some-token", "symbol": "some", "price_change_percentage_24h": 3.5}
    thin = {
        "id": "thin",
        "symbol": "thn",
        "current_price": None,
        "market_cap": None,
        "price_change_percentage_24h": None,
        "last_updated": None,
    }
    body = markets_with(untracked, thin)
    assert [t.coin for t in parse_market_tickers(body, registry)] == ["BTC"]
    breadth = parse_market_breadth(body)
    assert [(e.symbol, e.change_24h_pct) for e in breadth] == [
        ("BTC", -0.95302),
        ("SOME", 3.5),
        ("THN", None),
    ]
    assert breadth[2].market_cap is None


def test_markets_edge_cases(registry: CoinRegistry) -> None:
    btc = load_sample("coingecko/coins-markets.json")[0]
    no_7d = {k: v for k, v in btc.items() if k != "price_change_percentage_7d_in_currency"}
    (t,) = parse_market_tickers([no_7d], registry)
    assert t.change_7d_pct is None
    eth_zero = {**btc, "id": "ethereum", "symbol": "eth", "current_price": 0}
    assert [t.coin for t in parse_market_tickers([btc, eth_zero], registry)] == ["BTC"]  # price 0 rejected
    with pytest.raises(BadPayload, match="no row validated"):
        parse_market_tickers([eth_zero], registry)
    assert parse_market_tickers([], registry) == []
    renamed = {("coin_id" if k == "id" else k): v for k, v in btc.items()}
    with pytest.raises(BadPayload, match="id"):
        parse_market_breadth([renamed])
    with pytest.raises(BadPayload, match="expected a list"):
        parse_market_tickers({"status": {"error_code": 429}}, registry)


def test_global_sample() -> None:
    g = parse_global(load_sample("coingecko/global.json"))
    assert g.ts == datetime(2026, 5, 27, 10, 39, 11, tzinfo=UTC)  # updated_at is seconds
    assert g.source == "coingecko"
    assert g.total_market_cap_usd == pytest.approx(2621040321355.0405)
    assert g.market_cap_change_24h_pct == pytest.approx(-1.6081983639177684)
    assert g.btc_dominance_pct == pytest.approx(57.9539332566265)
    assert g.eth_dominance_pct == pytest.approx(9.58227145398409)


def test_global_edge_cases() -> None:
    body = load_sample("coingecko/global.json")
    no_usd = copy.deepcopy(body)
    del no_usd["data"]["total_market_cap"]["usd"]
    with pytest.raises(BadPayload, match="total_market_cap_usd"):
        parse_global(no_usd)
    renamed = copy.deepcopy(body)
    renamed["data"]["updated"] = renamed["data"].pop("updated_at")
    with pytest.raises(BadPayload, match="updated_at"):
        parse_global(renamed)
    absurd = copy.deepcopy(body)
    absurd["data"]["market_cap_percentage"]["btc"] = 157.9
    with pytest.raises(BadPayload, match="btc_dominance_pct"):
        parse_global(absurd)
    with pytest.raises(BadPayload):
        parse_global({"data": None})


async def test_markets_is_one_request(http: HttpClient, fake: FakeVenue, registry: CoinRegistry) -> None:
    fake.on("/api/v3/coins/markets", ok(load_sample("coingecko/coins-markets.json")))
    p = CoinGeckoProvider(http, FAST, registry)
    markets = await p.markets([registry.get("BTC"), registry.get("ETH")])
    assert len(fake.requests) == 1
    assert fake.params() == {
        "vs_currency": "usd",
        "order": "market_cap_desc",
        "per_page": "100",
        "page": "1",
        "price_change_percentage": "24h,7d",
    }
    assert markets.tickers[0].price == 77671.0
    assert await p.tickers([registry.get("ETH")]) == []  # only coins asked for get tickers


async def test_global_request(http: HttpClient, fake: FakeVenue, registry: CoinRegistry) -> None:
    fake.on("/api/v3/global", ok(load_sample("coingecko/global.json")))
    g = await CoinGeckoProvider(http, FAST, registry).global_stats()
    assert g.btc_dominance_pct == pytest.approx(57.9539332566265)
    assert fake.paths() == ["/api/v3/global"]
