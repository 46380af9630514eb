"""The daily instrument lists and CoinGecko's ranking, parsed from payloads in the documented
shape (tests/fixtures/documented-shape, see its README) and the recorded CoinGecko sample."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from aiohttp import web

from bot.providers.http import BadPayload, HttpClient, ProviderError
from bot.providers.instruments import (
    InstrumentsProvider,
    parse_binance_info,
    parse_bybit_instruments,
    parse_okx_instruments,
    parse_ranking,
)
from bot.settings import HttpSettings
from tests.helpers import FakeExchange, documented_shape, sample


def test_binance_spot_keeps_trading_usdt_pairs() -> None:
    rows = parse_binance_info(
        documented_shape("binance-spot/exchange-info.json"), "binance_spot", "binance-spot"
    )
    symbols = {r.symbol: r.base for r in rows}
    assert symbols["BTCUSDT"] == "BTC"
    assert symbols["1INCHUSDT"] == "1INCH"
    assert "ETHBTC" not in symbols  # quoted in BTC
    assert "LUNAUSDT" not in symbols  # status BREAK
    assert {r.venue for r in rows} == {"binance_spot"}


def test_binance_usdm_keeps_perpetuals_with_their_multiplied_bases() -> None:
    rows = parse_binance_info(
        documented_shape("binance-usdm/exchange-info.json"), "binance_perp", "binance-futures"
    )
    symbols = {r.symbol: r.base for r in rows}
    assert symbols["1000PEPEUSDT"] == "1000PEPE"
    assert symbols["1MBABYDOGEUSDT"] == "1MBABYDOGE"
    assert "BTCUSDT_250627" not in symbols  # quarterly
    assert "BTCUSDC" not in symbols  # USDC-margined
    assert "LUNAUSDT" not in symbols  # settling


def test_bybit_keeps_usdt_linear_perpetuals_and_gives_the_cursor() -> None:
    rows, cursor = parse_bybit_instruments(documented_shape("bybit-v5/instruments-info-linear.json"))
    symbols = {r.symbol: r.base for r in rows}
    assert symbols["SHIB1000USDT"] == "SHIB1000"
    assert symbols["1000PEPEUSDT"] == "1000PEPE"
    assert not {"BTCPERP", "ETHUSDT-26DEC25", "NEWCOINUSDT"} & set(symbols)
    assert cursor == ""


def test_bybit_refusal_is_the_venues_message() -> None:
    with pytest.raises(ProviderError, match="retCode 10001"):
        parse_bybit_instruments({"retCode": 10001, "retMsg": "params error", "result": {}, "time": 1})


def test_okx_keeps_live_usdt_swaps_with_contract_values() -> None:
    rows = {
        r.symbol: r for r in parse_okx_instruments(documented_shape("okx-v5/public-instruments-swap.json"))
    }
    assert rows["PEPE-USDT-SWAP"].base == "PEPE"
    assert rows["PEPE-USDT-SWAP"].contract_value == 10_000_000
    assert rows["BTC-USDT-SWAP"].contract_value == 0.01
    assert "BTC-USD-SWAP" not in rows  # inverse, settled in BTC
    assert "LUNA-USDT-SWAP" not in rows  # suspended


def test_a_drifted_list_is_a_bad_payload() -> None:
    body = documented_shape("binance-usdm/exchange-info.json")
    for row in body["symbols"]:
        del row["baseAsset"]
    with pytest.raises(BadPayload, match="baseAsset"):
        parse_binance_info(body, "binance_perp", "binance-futures")


def test_ranking_from_the_recorded_sample_and_in_order() -> None:
    [btc] = parse_ranking(sample("coingecko/coins-markets.json"))
    assert (btc.id, btc.symbol, btc.name, btc.rank) == ("bitcoin", "BTC", "Bitcoin", 1)
    ranking = parse_ranking(documented_shape("coingecko/coins-markets-ranking.json"))
    assert [r.symbol for r in ranking[:4]] == ["BTC", "ETH", "USDT", "XRP"]
    assert [r.rank for r in ranking] == list(range(1, len(ranking) + 1))


async def test_bybit_pages_follow_the_cursor() -> None:
    page = documented_shape("bybit-v5/instruments-info-linear.json")
    asked: list[str] = []

    def instruments(request: web.Request) -> tuple[int, Any]:
        asked.append(request.query.get("cursor", ""))
        body = copy.deepcopy(page)
        if "cursor" not in request.query:
            body["result"]["list"] = body["result"]["list"][:2]
            body["result"]["nextPageCursor"] = "next%3D2"
        else:
            body["result"]["list"] = body["result"]["list"][2:4]
        return 200, body

    fake = FakeExchange({"/v5/market/instruments-info": instruments})
    url = await fake.start()
    try:
        async with HttpClient(HttpSettings(retries=0)) as http:
            client = http.venue("bybit", url, 600)
            lists = InstrumentsProvider(
                spot=client, futures=client, bybit=client, okx=client, coingecko=client
            )
            rows = await lists.bybit_linear()
    finally:
        await fake.close()
    assert asked == ["", "next%3D2"]
    assert [r.symbol for r in rows] == ["BTCUSDT", "ETHUSDT", "SOLUSDT", "XRPUSDT"]
