"""OKX parsers against the recorded samples and their edge cases, and the provider's requests
over a scripted transport."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.clock import from_ms
from bot.coins import CoinRegistry
from bot.providers.http import BadPayload, HttpClient, ProviderError
from bot.providers.okx import (
    OkxProvider,
    parse_candles,
    parse_contract_values,
    parse_funding_rate,
    parse_long_short_ratio,
    parse_open_interest,
    parse_open_interest_history,
    parse_swap_tickers,
)
from bot.settings import OkxSettings

from .conftest import FakeVenue, load_sample, ok, synthetic_coins, with_ids

# GET /api/v5/public/instruments?instType=SWAP has no saved sample: the documented shape, trimmed
# to the fields we read plus a few neighbours, and a pre-open contract without a face value yet.
INSTRUMENTS = {
    "code": "0",
    "msg": "",
    "data": [
        {
            "instType": "SWAP",
            "instId": "BTC-USDT-SWAP",
            "ctVal": "0.01",
            "ctValCcy": "BTC",
            "ctType": "linear",
        },
        {
            "instType": "SWAP",
            "instId": "ETH-USDT-SWAP",
            "ctVal": "0.1",
            "ctValCcy": "ETH",
            "ctType": "linear",
        },
        {
            "instType": "SWAP",
            "instId": "BTC-USD-SWAP",
            "ctVal": "100",
            "ctValCcy": "USD",
            "ctType": "inverse",
        },
        {"instType": "SWAP", "instId": "NEW-USDT-SWAP", "ctVal": "", "ctValCcy": "", "state": "preopen"},
    ],
}


def inverse_ids(registry: CoinRegistry) -> CoinRegistry:
    """The tickers example lists the inverse BTC-USD-SWAP and LTC-USD-SWAP."""
    return with_ids(with_ids(registry, "BTC", okx="BTC-USD-SWAP"), "LTC", okx="LTC-USD-SWAP")


def envelope(*rows: Any) -> dict[str, Any]:
    return {"code": "0", "msg": "", "data": list(rows)}


# -- tickers --------------------------------------------------------------------------------


def test_swap_tickers_sample(registry: CoinRegistry) -> None:
    tickers = parse_swap_tickers(load_sample("okx-v5/market-tickers-swap.json"), inverse_ids(registry))
    assert [t.coin for t in tickers] == ["LTC", "BTC"]
    t = tickers[1]
    assert (t.venue, t.market, t.price) == ("okx", "perp", 9999.99)
    assert t.change_24h_pct == pytest.approx((9999.99 / 9000 - 1) * 100)  # 11.111 %, from open24h
    assert (t.high_24h, t.low_24h) == (10000.0, 8888.88)
    assert t.quote_volume_24h is None  # OKX gives swap volume in contracts / base only
    assert t.ts == from_ms(1597026383085)
    assert parse_swap_tickers(load_sample("okx-v5/market-tickers-swap.json"), registry) == []


def test_swap_tickers_edge_cases(registry: CoinRegistry) -> None:
    row = load_sample("okx-v5/market-tickers-swap.json")["data"][1]
    ids = inverse_ids(registry)
    (no_open,) = parse_swap_tickers(envelope({**row, "open24h": "0"}), ids)
    assert no_open.change_24h_pct is None
    as_numbers = {**row, "last": 9999.99, "open24h": 9000, "ts": 1597026383085}
    assert parse_swap_tickers(envelope(as_numbers), ids) == parse_swap_tickers(envelope(row), ids)
    with pytest.raises(BadPayload, match="no row validated"):
        parse_swap_tickers(envelope({**row, "last": "0"}), ids)
    assert parse_swap_tickers(envelope(), ids) == []
    renamed = {("lastPx" if k == "last" else k): v for k, v in row.items()}
    with pytest.raises(BadPayload, match="last"):
        parse_swap_tickers(envelope(renamed), ids)


def test_error_code_and_envelope_drift(registry: CoinRegistry) -> None:
    refused = {"code": "51001", "msg": "Instrument ID doesn't exist", "data": []}
    with pytest.raises(ProviderError, match="Instrument ID") as info:
        parse_swap_tickers(refused, registry)
    assert not isinstance(info.value, BadPayload)
    with pytest.raises(BadPayload, match="data"):
        parse_swap_tickers({"code": "0", "msg": "", "result": []}, registry)
    with pytest.raises(BadPayload, match="code"):
        parse_swap_tickers([], registry)


# -- candles --------------------------------------------------------------------------------


def test_candles_sample_drops_unconfirmed(registry: CoinRegistry) -> None:
    body = load_sample("okx-v5/market-candles.json")
    (c,) = parse_candles(body, registry.get("BTC"), "1d")  # the first row has confirm "0"
    assert (c.open, c.high, c.low, c.close) == (3.731, 3.799, 3.494, 3.72)
    assert c.volume == pytest.approx(67632347.24399722)  # volCcy (base), not vol (contracts)
    assert c.quote_volume == pytest.approx(37632347.24399722)
    assert c.open_time == from_ms(1597026383085)
    assert (c.venue, c.market, c.interval) == ("okx", "perp", "1d")
    assert len(parse_candles(body, registry.get("BTC"), "1d", include_unconfirmed=True)) == 2


def test_history_candles_sample_ascending(registry: CoinRegistry) -> None:
    body = load_sample("okx-v5/market-history-candles.json")
    candles = parse_candles(body, registry.get("BTC"), "1d")
    assert [c.close for c in candles] == [3.72, 3.708]  # equal timestamps: oldest (last row) first
    later = copy.deepcopy(body)
    later["data"][0][0] = "1597112783085"  # make the newest-first order visible
    assert [c.open_time for c in parse_candles(later, registry.get("BTC"), "1d")] == [
        from_ms(1597026383085),
        from_ms(1597112783085),
    ]


def test_candles_edge_cases(registry: CoinRegistry) -> None:
    row = load_sample("okx-v5/market-history-candles.json")["data"][0]
    btc = registry.get("BTC")
    assert parse_candles(envelope(), btc, "1h") == []
    with pytest.raises(BadPayload):
        parse_candles(envelope(row[:5]), btc, "1h")  # short row: no volume, no confirm
    old_shape = [*row[:7], "1"]  # a row without volCcyQuote shifts confirm into its place
    with pytest.raises(BadPayload):
        parse_candles(envelope(old_shape), btc, "1h")
    zero = ["1597026383085", "0", "0", "0", "0", "1", "1", "1", "1"]
    assert len(parse_candles(envelope(row, zero), btc, "1h")) == 1


# -- open interest --------------------------------------------------------------------------


def test_open_interest_sample(registry: CoinRegistry) -> None:
    (oi,) = parse_open_interest(load_sample("okx-v5/open-interest.json"), registry)
    assert (oi.coin, oi.venue, oi.oi_usd, oi.oi_coin) == ("BTC", "okx", 50000.0, 555.55)
    assert oi.ts == from_ms(1597026383085)


def test_open_interest_history_sample(registry: CoinRegistry) -> None:
    points = parse_open_interest_history(
        load_sample("okx-v5/rubik-contracts-open-interest-history.json"), registry.get("BTC")
    )
    assert [p.ts for p in points] == [from_ms(1701417500000), from_ms(1701417600000)]
    assert (points[0].oi_usd, points[0].oi_coin) == (8888888.0, 111.0)
    negative = envelope(["1701417700000", "1", "-5", "-500"])
    with pytest.raises(BadPayload):
        parse_open_interest_history(negative, registry.get("BTC"))


# -- funding --------------------------------------------------------------------------------


def test_funding_rate_sample(registry: CoinRegistry) -> None:
    (f,) = parse_funding_rate(load_sample("okx-v5/funding-rate.json"), registry)
    assert (f.coin, f.venue) == ("BTC", "okx")
    assert f.rate == pytest.approx(0.0000182221218054)
    assert f.interval_hours == 8.0  # 1743638400000 - 1743609600000
    assert f.ts == from_ms(1743588686291)


def test_funding_interval_from_times(registry: CoinRegistry) -> None:
    row = load_sample("okx-v5/funding-rate.json")["data"][0]
    four = {**row, "nextFundingTime": str(int(row["fundingTime"]) + 4 * 3_600_000)}
    (f,) = parse_funding_rate(envelope(four), registry)
    assert f.interval_hours == 4.0
    assert f.rate_8h == pytest.approx(2 * 0.0000182221218054)
    (missing,) = parse_funding_rate(envelope({**row, "nextFundingTime": ""}), registry)
    assert missing.interval_hours == 8.0


# -- long/short -----------------------------------------------------------------------------


def test_long_short_ratio_sample(registry: CoinRegistry) -> None:
    ratios = parse_long_short_ratio(
        load_sample("okx-v5/rubik-long-short-account-ratio-contract.json"), registry.get("BTC")
    )
    shares = sorted(r.long_share for r in ratios)
    assert shares == pytest.approx([0.1236 / 1.1236, 1.1739 / 2.1739])
    assert {r.ts for r in ratios} == {from_ms(1701417600000)}


def test_long_short_ratio_order_and_absurd(registry: CoinRegistry) -> None:
    body = envelope(["1701421200000", "1"], ["1701417600000", "3"])  # newest first
    ratios = parse_long_short_ratio(body, registry.get("BTC"))
    assert [(r.ts, r.long_share) for r in ratios] == [
        (from_ms(1701417600000), 0.75),
        (from_ms(1701421200000), 0.5),
    ]
    with pytest.raises(BadPayload):
        parse_long_short_ratio(envelope(["1701417600000", "-0.5"]), registry.get("BTC"))


# -- contract values ------------------------------------------------------------------------


def test_contract_values_documented_shape() -> None:
    assert parse_contract_values(INSTRUMENTS) == {
        "BTC-USDT-SWAP": 0.01,
        "ETH-USDT-SWAP": 0.1,
        "BTC-USD-SWAP": 100.0,
    }
    with pytest.raises(BadPayload):
        parse_contract_values(envelope({"instrument": "BTC-USDT-SWAP", "ctVal": "0.01"}))


# -- provider -------------------------------------------------------------------------------


async def test_batch_endpoints_one_request_each_at_100_coins(http: HttpClient, fake: FakeVenue) -> None:
    coins = synthetic_coins(100)
    ticker = load_sample("okx-v5/market-tickers-swap.json")["data"][0]
    oi = load_sample("okx-v5/open-interest.json")["data"][0]
    funding = load_sample("okx-v5/funding-rate.json")["data"][0]
    fake.on("/api/v5/market/tickers", ok(envelope(*({**ticker, "instId": c.okx} for c in coins))))
    fake.on("/api/v5/public/open-interest", ok(envelope(*({**oi, "instId": c.okx} for c in coins))))
    fake.on("/api/v5/public/funding-rate", ok(envelope(*({**funding, "instId": c.okx} for c in coins))))
    p = OkxProvider(http, OkxSettings(), CoinRegistry(coins))
    assert len(await p.perp_tickers(coins)) == 100
    assert len(await p.open_interest(coins)) == 100
    assert len(await p.funding(coins)) == 100
    assert fake.paths() == [
        "/api/v5/market/tickers",
        "/api/v5/public/open-interest",
        "/api/v5/public/funding-rate",
    ]
    assert [fake.params(i) for i in range(3)] == [
        {"instType": "SWAP"},
        {"instType": "SWAP"},
        {"instId": "ANY"},
    ]


async def test_history_requests(http: HttpClient, fake: FakeVenue, registry: CoinRegistry) -> None:
    fake.on("/api/v5/market/candles", ok(load_sample("okx-v5/market-candles.json")))
    fake.on("/api/v5/market/history-candles", ok(load_sample("okx-v5/market-history-candles.json")))
    fake.on(
        "/api/v5/rubik/stat/contracts/open-interest-history",
        ok(load_sample("okx-v5/rubik-contracts-open-interest-history.json")),
    )
    fake.on(
        "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract",
        ok(load_sample("okx-v5/rubik-long-short-account-ratio-contract.json")),
    )
    fake.on("/api/v5/public/instruments", ok(INSTRUMENTS))
    p = OkxProvider(http, OkxSettings(), registry)
    btc = [registry.get("BTC")]
    assert [c.close for c in await p.klines(btc, "1d", 30)] == [3.72]
    assert fake.params() == {"instId": "BTC-USDT-SWAP", "bar": "1Dutc", "limit": "31"}
    before = datetime(2020, 8, 11, tzinfo=UTC)
    assert len(await p.history_klines(btc, "1h", 100, before=before)) == 2
    assert fake.params() == {"instId": "BTC-USDT-SWAP", "bar": "1H", "limit": "100", "after": "1597104000000"}
    assert (await p.open_interest_history(btc, "1d", 500))[-1].oi_usd == 8888888.0
    assert fake.params() == {"instId": "BTC-USDT-SWAP", "period": "1Dutc", "limit": "100"}
    assert len(await p.long_short_ratio(btc, "1h", 24)) == 2
    assert fake.params() == {"instId": "BTC-USDT-SWAP", "period": "1H", "limit": "24"}
    assert (await p.contract_values())["BTC-USDT-SWAP"] == 0.01
    assert fake.params() == {"instType": "SWAP"}


async def test_per_coin_code_refusal_skips_the_coin(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry
) -> None:
    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.params["instId"] == "BTC-USDT-SWAP":
            return ok(load_sample("okx-v5/rubik-contracts-open-interest-history.json"))
        return ok({"code": "51001", "msg": "Instrument ID doesn't exist", "data": []})

    fake.on("/api/v5/rubik/stat/contracts/open-interest-history", reply)
    p = OkxProvider(http, OkxSettings(), registry)
    points = await p.open_interest_history([registry.get("ETH"), registry.get("BTC")])
    assert {pt.coin for pt in points} == {"BTC"}
    with pytest.raises(ProviderError, match="51001"):
        await p.open_interest_history([registry.get("ETH")])
