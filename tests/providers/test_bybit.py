"""Bybit parsers against the recorded samples and their edge cases, and the provider's requests
over a scripted transport.

The docs' only REST tickers example is the inverse ``BTCUSD``; the only official linear ticker is
the websocket snapshot, so the linear REST body here wraps that snapshot's ``data`` in the REST
envelope (same field names and string values)."""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from bot.clock import FrozenClock, from_ms
from bot.coins import CoinRegistry
from bot.models import Candle
from bot.providers.bybit import (
    BybitProvider,
    parse_account_ratio,
    parse_funding_history,
    parse_kline,
    parse_linear_funding,
    parse_linear_open_interest,
    parse_linear_snapshot,
    parse_linear_tickers,
    parse_open_interest_history,
    price_points,
)
from bot.providers.http import BadPayload, HttpClient, ProviderError
from bot.settings import BybitSettings

from .conftest import FakeVenue, load_sample, ok, synthetic_coins, with_ids

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def linear_tickers(*rows: dict[str, Any]) -> dict[str, Any]:
    """The REST tickers envelope around the websocket sample's linear BTCUSDT ticker."""
    ws = load_sample("bybit-v5/ws-tickers-linear-snapshot.json")
    return {
        "retCode": 0,
        "retMsg": "OK",
        "result": {"category": "linear", "list": list(rows) or [ws["data"]]},
        "retExtInfo": {},
        "time": ws["ts"],
    }


# -- tickers / OI now / funding now -----------------------------------------------------------


def test_linear_ticker_from_snapshot(registry: CoinRegistry) -> None:
    (t,) = parse_linear_tickers(linear_tickers(), registry)
    assert (t.coin, t.venue, t.market) == ("BTC", "bybit", "perp")
    assert t.price == 66666.6
    assert t.change_24h_pct == pytest.approx(-15.8315)  # price24hPcnt -0.158315 is a fraction
    assert (t.high_24h, t.low_24h) == (79266.3, 65076.9)
    assert t.quote_volume_24h == pytest.approx(4936790807.6521)
    assert t.ts == from_ms(1760325052630)


def test_rest_tickers_sample(registry: CoinRegistry) -> None:
    """The inverse example has the same fields; mapped to BTC it checks the envelope and units."""
    body = load_sample("bybit-v5/tickers-linear-inverse-tab.json")
    (t,) = parse_linear_tickers(body, with_ids(registry, "BTC", bybit="BTCUSD"))
    assert t.price == 120635.5
    assert t.change_24h_pct == pytest.approx(14.2425)
    assert t.ts == from_ms(1760352369814)
    (f,) = parse_linear_funding(body, with_ids(registry, "BTC", bybit="BTCUSD"))
    assert (f.rate, f.interval_hours) == (0.0001, 8.0)
    assert parse_linear_tickers(body, registry) == []  # BTCUSD is not our linear symbol


def test_linear_open_interest_is_one_sided(registry: CoinRegistry) -> None:
    (oi,) = parse_linear_open_interest(linear_tickers(), registry)
    assert oi.oi_usd == pytest.approx(32824881841.75 / 2)  # both-sides value halved
    assert oi.oi_coin == pytest.approx(492373.72 / 2)
    row = {
        **linear_tickers()["result"]["list"][0],
        "singleOpenInterest": "246000",
        "singleOpenInterestValue": "1.6e10",
    }
    (single,) = parse_linear_open_interest(linear_tickers(row), registry)
    assert (single.oi_coin, single.oi_usd) == (246000.0, 1.6e10)


def test_linear_funding_interval(registry: CoinRegistry) -> None:
    (f,) = parse_linear_funding(linear_tickers(), registry)
    assert (f.coin, f.rate, f.interval_hours) == ("BTC", -0.005, 8.0)
    row = {**linear_tickers()["result"]["list"][0], "fundingIntervalHour": "4"}
    (four,) = parse_linear_funding(linear_tickers(row), registry)
    assert four.interval_hours == 4.0
    assert four.rate_8h == pytest.approx(-0.01)


def test_linear_1000x_contract_scaled(registry: CoinRegistry) -> None:
    row = {**linear_tickers()["result"]["list"][0], "symbol": "1000PEPEUSDT", "lastPrice": "0.0105"}
    snap = parse_linear_snapshot(linear_tickers(row), registry)
    assert snap.tickers[0].price == pytest.approx(0.0000105)
    assert snap.open_interest[0].oi_coin == pytest.approx(492373.72 / 2 * 1000)
    assert snap.funding[0].coin == "PEPE"


def test_tickers_edge_cases(registry: CoinRegistry) -> None:
    assert parse_linear_tickers(_empty(), registry) == []
    row = linear_tickers()["result"]["list"][0]
    pre_listing = {**row, "symbol": "NEWUSDT", "fundingRate": "", "fundingIntervalHour": ""}
    assert [f.coin for f in parse_linear_funding(linear_tickers(row, pre_listing), registry)] == ["BTC"]
    zero = {**row, "lastPrice": "0"}
    with pytest.raises(BadPayload, match="no row validated"):
        parse_linear_tickers(linear_tickers(zero), registry)
    negative = {**row, "openInterestValue": "-5"}
    with pytest.raises(BadPayload):
        parse_linear_open_interest(linear_tickers(negative), registry)
    renamed = {k if k != "lastPrice" else "last": v for k, v in row.items()}
    with pytest.raises(BadPayload, match="lastPrice"):
        parse_linear_tickers(linear_tickers(renamed), registry)


def _empty() -> dict[str, Any]:
    body = linear_tickers()
    body["result"]["list"] = []
    return body


def test_envelope_errors(registry: CoinRegistry) -> None:
    refused = {"retCode": 10001, "retMsg": "params error: symbol invalid", "result": {}, "time": 1}
    with pytest.raises(ProviderError, match="params error") as info:
        parse_linear_tickers(refused, registry)
    assert not isinstance(info.value, BadPayload)
    drifted = linear_tickers()
    drifted["result"]["rows"] = drifted["result"].pop("list")
    with pytest.raises(BadPayload, match=r"result\.list"):
        parse_linear_tickers(drifted, registry)
    with pytest.raises(BadPayload):
        parse_linear_tickers([], registry)


# -- klines ---------------------------------------------------------------------------------


def test_kline_sample_newest_first_to_ascending(registry: CoinRegistry) -> None:
    candles = parse_kline(load_sample("bybit-v5/kline.json"), registry.get("BTC"), "1h")
    assert [c.open_time for c in candles] == [
        from_ms(1670601600000),
        from_ms(1670605200000),
        from_ms(1670608800000),
    ]
    first, last = candles[0], candles[-1]
    assert (first.open, first.high, first.low, first.close) == (17086.5, 17088.0, 16978.0, 17071.5)
    assert (first.volume, first.quote_volume) == (6356.0, 0.37288112)
    assert last.close == 17055.5
    assert first.open_time.tzinfo is UTC
    assert (first.venue, first.market, first.interval, first.taker_buy_quote) == ("bybit", "perp", "1h", None)


def test_kline_running_bar_dropped(registry: CoinRegistry) -> None:
    body = load_sample("bybit-v5/kline.json")
    running_until = from_ms(1670608800000 + 3_600_000)
    closed = parse_kline(body, registry.get("BTC"), "1h", now=running_until - timedelta(milliseconds=1))
    assert [c.close for c in closed] == [17071.5, 17071.0]
    assert len(parse_kline(body, registry.get("BTC"), "1h", now=running_until)) == 3


def test_kline_edge_cases(registry: CoinRegistry) -> None:
    body = load_sample("bybit-v5/kline.json")
    pepe = parse_kline(body, registry.get("PEPE"), "1h")
    assert pepe[0].close == pytest.approx(17.0715)
    assert pepe[0].volume == pytest.approx(6356000)
    short = copy.deepcopy(body)
    short["result"]["list"] = [row[:5] for row in short["result"]["list"]]
    with pytest.raises(BadPayload):
        parse_kline(short, registry.get("BTC"), "1h")
    empty = copy.deepcopy(body)
    empty["result"]["list"] = []
    assert parse_kline(empty, registry.get("BTC"), "1d") == []


# -- open interest history ------------------------------------------------------------------


def candles_at(times_ms: list[int], price: float) -> list[Candle]:
    return [
        Candle(
            coin="BTC",
            venue="bybit",
            market="perp",
            interval="1d",
            open_time=from_ms(t),
            open=price,
            high=price,
            low=price,
            close=price,
            volume=1,
        )
        for t in times_ms
    ]


def test_price_points_open_then_previous_close() -> None:
    day, t0 = 86_400_000, 1_700_006_400_000  # a UTC midnight
    candles = [*candles_at([t0], 10.0), *candles_at([t0 + day], 20.0)]
    points = price_points(candles, "1d")
    assert points == {from_ms(t0): 10.0, from_ms(t0 + day): 20.0, from_ms(t0 + 2 * day): 20.0}


def test_open_interest_history_sample_priced_in_usd(registry: CoinRegistry) -> None:
    body = load_sample("bybit-v5/open-interest.json")
    times = [int(row["timestamp"]) for row in body["result"]["list"]]
    prices = price_points(candles_at(sorted(times), 100_000.0), "1d")
    points = parse_open_interest_history(body, registry.get("BTC"), prices)
    assert [p.ts for p in points] == [from_ms(t) for t in sorted(times)]  # newest first in
    assert points[0].oi_coin == 31971156  # singleOpenInterest, one side
    assert points[0].oi_usd == pytest.approx(31971156 * 100_000.0)
    assert points[-1].oi_coin == 31955346


def test_open_interest_history_edge_cases(registry: CoinRegistry) -> None:
    body = load_sample("bybit-v5/open-interest.json")
    times = sorted(int(row["timestamp"]) for row in body["result"]["list"])
    prices = price_points(candles_at(times[-2:], 50.0), "1d")
    assert len(parse_open_interest_history(body, registry.get("BTC"), prices)) == 2  # unpriced dropped
    legacy = copy.deepcopy(body)
    for row in legacy["result"]["list"]:
        del row["singleOpenInterest"]
    full = price_points(candles_at(times, 50.0), "1d")
    assert parse_open_interest_history(legacy, registry.get("BTC"), full)[-1].oi_coin == 63910691 / 2
    (pepe,) = parse_open_interest_history(
        {**body, "result": {**body["result"], "list": body["result"]["list"][:1]}},
        registry.get("PEPE"),
        {from_ms(times[-1]): 0.00001},
    )
    assert pepe.oi_coin == 31955346 * 1000
    assert pepe.oi_usd == pytest.approx(31955346 * 1000 * 0.00001)
    renamed = copy.deepcopy(body)
    for row in renamed["result"]["list"]:
        row["ts"] = row.pop("timestamp")
    with pytest.raises(BadPayload, match="timestamp"):
        parse_open_interest_history(renamed, registry.get("BTC"), full)


# -- funding history and account ratio ------------------------------------------------------


def test_funding_history_sample(registry: CoinRegistry) -> None:
    (f,) = parse_funding_history(load_sample("bybit-v5/funding-history.json"), registry.get("ETH"), 4.0)
    assert (f.coin, f.rate, f.ts, f.interval_hours) == ("ETH", 0.0001, from_ms(1672041600000), 4.0)


def test_account_ratio_sample(registry: CoinRegistry) -> None:
    ratios = parse_account_ratio(load_sample("bybit-v5/account-ratio.json"), registry.get("BTC"))
    assert [(r.ts, r.long_share) for r in ratios] == [
        (from_ms(1696258800000), 0.4927),
        (from_ms(1696262400000), 0.49),
    ]
    assert all(r.venue == "bybit" for r in ratios)


# -- provider -------------------------------------------------------------------------------


def provider(http: HttpClient, registry: CoinRegistry) -> BybitProvider:
    return BybitProvider(http, BybitSettings(), registry, clock=FrozenClock(NOW))


async def test_snapshot_is_one_request_at_100_coins(http: HttpClient, fake: FakeVenue) -> None:
    coins = synthetic_coins(100)
    row = linear_tickers()["result"]["list"][0]
    fake.on("/v5/market/tickers", ok(linear_tickers(*({**row, "symbol": c.bybit} for c in coins))))
    snap = await provider(http, CoinRegistry(coins)).linear_snapshot(coins)
    assert len(fake.requests) == 1
    assert fake.params() == {"category": "linear"}
    assert (len(snap.tickers), len(snap.open_interest), len(snap.funding)) == (100, 100, 100)


async def test_open_interest_history_requests(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry
) -> None:
    body = load_sample("bybit-v5/open-interest.json")
    times = sorted(int(row["timestamp"]) for row in body["result"]["list"])
    kline = {
        "retCode": 0,
        "retMsg": "OK",
        "result": {
            "category": "linear",
            "list": [[str(t), "100", "110", "90", "105", "1", "100"] for t in times[::-1]],
        },
        "time": times[-1],
    }
    fake.on("/v5/market/open-interest", ok(body))
    fake.on("/v5/market/kline", ok(kline))
    points = await provider(http, registry).open_interest_history([registry.get("BTC")], "1d", 5)
    assert fake.paths() == ["/v5/market/open-interest", "/v5/market/kline"]
    assert fake.params(0) == {"category": "linear", "symbol": "BTCUSDT", "intervalTime": "1d", "limit": "5"}
    assert fake.params(1) == {"category": "linear", "symbol": "BTCUSDT", "interval": "D", "limit": "6"}
    assert len(points) == 5
    assert points[-1].oi_usd == pytest.approx(31955346 * 100.0)  # priced at the bar's open


async def test_klines_and_ratio_requests(http: HttpClient, fake: FakeVenue, registry: CoinRegistry) -> None:
    fake.on("/v5/market/kline", ok(load_sample("bybit-v5/kline.json")))
    fake.on("/v5/market/account-ratio", ok(load_sample("bybit-v5/account-ratio.json")))
    p = provider(http, registry)
    candles = await p.klines([registry.get("BTC")], "1h", limit=2)
    assert fake.params() == {"category": "linear", "symbol": "BTCUSDT", "interval": "60", "limit": "3"}
    assert [c.close for c in candles] == [17071.0, 17055.5]  # the last two closed bars (2022)
    ratios = await p.long_short_ratio([registry.get("BTC")], "1d", 50)
    assert fake.params() == {"category": "linear", "symbol": "BTCUSDT", "period": "1d", "limit": "50"}
    assert ratios[-1].long_share == 0.49


async def test_funding_history_uses_current_interval(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry
) -> None:
    row = {**linear_tickers()["result"]["list"][0], "fundingIntervalHour": "4"}
    fake.on("/v5/market/tickers", ok(linear_tickers(row)))
    fake.on("/v5/market/funding/history", ok(load_sample("bybit-v5/funding-history.json")))
    (f,) = await provider(http, registry).funding_history([registry.get("BTC")], limit=500)
    assert f.interval_hours == 4.0
    assert fake.params() == {"category": "linear", "symbol": "BTCUSDT", "limit": "200"}


async def test_per_coin_refusal_skips_only_that_coin(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry
) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.params["symbol"] == "BTCUSDT":
            return ok(load_sample("bybit-v5/account-ratio.json"))
        return ok({"retCode": 10001, "retMsg": "Illegal category", "result": {}, "time": 1})

    fake.on("/v5/market/account-ratio", reply)
    ratios = await provider(http, registry).long_short_ratio([registry.get("ETH"), registry.get("BTC")])
    assert {r.coin for r in ratios} == {"BTC"}
