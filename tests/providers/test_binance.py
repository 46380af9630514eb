"""Binance parsers against the recorded samples and their edge cases, and the provider's
requests (batching, per-coin history, funding-interval cache) over a scripted transport."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from bot.clock import FrozenClock, from_ms
from bot.coins import CoinRegistry
from bot.models import Ticker
from bot.providers.binance import (
    BinanceProvider,
    WindowChange,
    parse_funding_history,
    parse_funding_info,
    parse_klines,
    parse_long_short_ratio,
    parse_open_interest_hist,
    parse_premium_index,
    parse_ticker_24h,
    parse_ticker_window,
    parse_top_trader_ratio,
    with_change_7d,
)
from bot.providers.http import BadPayload, HttpClient, ProviderError
from bot.settings import BinanceSettings
from tests.helpers import documented_shape

from .conftest import FakeVenue, load_sample, ok, synthetic_coins, with_ids

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

# GET /fapi/v1/fundingInfo has no saved sample; this is the documented shape (only symbols whose
# interval or cap was adjusted are listed).
FUNDING_INFO = [
    {
        "symbol": "BTCUSDT",
        "adjustedFundingRateCap": "0.02500000",
        "adjustedFundingRateFloor": "-0.02500000",
        "fundingIntervalHours": 4,
        "disclaimer": False,
    },
    {
        "symbol": "1000PEPEUSDT",
        "adjustedFundingRateCap": "0.03000000",
        "adjustedFundingRateFloor": "-0.03000000",
        "fundingIntervalHours": 8,
        "disclaimer": False,
    },
]


# -- klines ---------------------------------------------------------------------------------


def test_spot_klines_sample(registry: CoinRegistry) -> None:
    candles = parse_klines(load_sample("binance-spot/klines.json"), registry.get("BTC"), "spot", "1d")
    assert len(candles) == 1
    c = candles[0]
    assert c.open_time == datetime(2017, 7, 3, tzinfo=UTC)
    assert c.open_time.tzinfo is UTC
    assert (c.open, c.high, c.low, c.close) == (0.0163479, 0.8, 0.015758, 0.015771)
    assert c.volume == pytest.approx(148976.11427815)
    assert c.quote_volume == pytest.approx(2434.19055334)
    assert c.taker_buy_quote == pytest.approx(28.46694368)  # field 10, not taker buy base (field 9)
    assert (c.coin, c.venue, c.market, c.interval) == ("BTC", "binance", "spot", "1d")


def test_perp_klines_sample_scaled_per_coin(registry: CoinRegistry) -> None:
    """1000PEPEUSDT quotes 1000 PEPE: prices divide, base volume multiplies, quote stays."""
    body = load_sample("binance-usdm/klines.json")
    pepe = registry.get("PEPE")
    (c,) = parse_klines(body, pepe, "perp", "1d")
    assert c.close == pytest.approx(0.015771 / 1000)
    assert c.high == pytest.approx(0.8 / 1000)
    assert c.volume == pytest.approx(148976.11427815 * 1000)
    assert c.quote_volume == pytest.approx(2434.19055334)
    (btc,) = parse_klines(body, registry.get("BTC"), "perp", "1d")
    assert btc.close == 0.015771
    assert btc.market == "perp"


def test_klines_drop_the_running_bar(registry: CoinRegistry) -> None:
    body = load_sample("binance-spot/klines.json")
    close_ms = body[0][6]  # 1499644799999
    btc = registry.get("BTC")
    assert parse_klines(body, btc, "spot", "1d", now=from_ms(close_ms)) == []
    assert len(parse_klines(body, btc, "spot", "1d", now=from_ms(close_ms + 1))) == 1


def test_klines_numbers_or_strings_and_order(registry: CoinRegistry) -> None:
    row = load_sample("binance-spot/klines.json")[0]
    later = [row[0] + 86_400_000, 1, 2, 0.5, 1.5, 10, row[6] + 86_400_000, 15, 3, 5, 7.5, "0"]
    candles = parse_klines([later, row], registry.get("BTC"), "spot", "1d")  # newest first in
    assert [c.open_time for c in candles] == [
        datetime(2017, 7, 3, tzinfo=UTC),
        datetime(2017, 7, 4, tzinfo=UTC),
    ]
    assert candles[1].close == 1.5
    assert candles[1].taker_buy_quote == 7.5


def test_klines_edge_cases(registry: CoinRegistry) -> None:
    btc = registry.get("BTC")
    row = load_sample("binance-spot/klines.json")[0]
    assert parse_klines([], btc, "spot", "1h") == []
    with pytest.raises(BadPayload, match="no row validated"):
        parse_klines([row[:10]], btc, "spot", "1d")  # a short row lacks taker buy quote
    with pytest.raises(BadPayload, match="expected a list"):
        parse_klines({"code": -1121, "msg": "Invalid symbol."}, btc, "spot", "1d")
    zero = [row[0] + 86_400_000, "0", "0", "0", "0", *row[5:]]
    assert [c.close for c in parse_klines([row, zero], btc, "spot", "1d")] == [0.015771]  # price 0 rejected


# -- 7d rolling window ----------------------------------------------------------------------


def test_ticker_window_sample(registry: CoinRegistry) -> None:
    docs = with_ids(registry, "BNB", binance_spot="BNBBTC")
    body = load_sample("binance-spot/ticker-rolling-window.json")
    (w,) = parse_ticker_window(body, docs)
    assert (w.coin, w.venue, w.market, w.window) == ("BNB", "binance", "spot", "7d")
    assert w.price == 1.0
    assert w.open_price == 9.0
    assert w.change_pct == -88.889
    assert (w.high, w.low, w.quote_volume) == (9.0, 1.0, 487.0)
    assert w.ts == from_ms(1642031999999)
    assert parse_ticker_window([body, body], docs) == [w, w]  # the multi-symbol form is a list
    assert parse_ticker_window(body, registry) == []  # BNBBTC is not a tracked symbol


def test_ticker_window_renamed_field_is_bad_payload(registry: CoinRegistry) -> None:
    body = load_sample("binance-spot/ticker-rolling-window.json")
    body["pricePercentChange"] = body.pop("priceChangePercent")
    with pytest.raises(BadPayload, match="priceChangePercent"):
        parse_ticker_window(body, with_ids(registry, "BNB", binance_spot="BNBBTC"))


def test_with_change_7d_merges_without_touching_24h_fields() -> None:
    ts = datetime(2026, 1, 1, tzinfo=UTC)
    tickers = [
        Ticker(coin="BTC", venue="binance", market="spot", price=100, change_24h_pct=1.5, ts=ts),
        Ticker(coin="ETH", venue="binance", market="spot", price=10, change_24h_pct=-2.0, ts=ts),
    ]
    changes = [
        WindowChange(
            coin="BTC",
            venue="binance",
            market="spot",
            window="7d",
            price=100,
            change_pct=-4.0,
            open_price=104.2,
            high=110,
            low=95,
            quote_volume=1e9,
            ts=ts,
        )
    ]
    merged = with_change_7d(tickers, changes)
    assert merged[0].change_7d_pct == -4.0
    assert merged[0].change_24h_pct == 1.5
    assert merged[1] == tickers[1]


# -- 24h ticker (existing parser, kept as is) -----------------------------------------------


def test_ticker_24h_samples_unchanged(registry: CoinRegistry) -> None:
    (perp,) = parse_ticker_24h(load_sample("binance-usdm/ticker-24hr-all-symbols.json"), registry, "perp")
    assert (perp.coin, perp.price, perp.change_24h_pct) == ("BTC", 4.000002, -95.96)
    docs = with_ids(registry, "BNB", binance_spot="BNBBTC")
    (spot,) = parse_ticker_24h(load_sample("binance-spot/ticker-24hr.json"), docs, "spot")
    assert (spot.coin, spot.quote_volume_24h, spot.ts) == ("BNB", 15.3, from_ms(1499869899040))


# -- open interest history ------------------------------------------------------------------


def test_open_interest_hist_sample(registry: CoinRegistry) -> None:
    points = parse_open_interest_hist(
        load_sample("binance-usdm/open-interest-hist.json"), registry.get("BTC")
    )
    assert [p.ts for p in points] == [from_ms(1583127900000), from_ms(1583128200000)]
    assert points[0].oi_usd == pytest.approx(150570784.07809979)
    assert points[0].oi_coin == pytest.approx(20403.637)
    assert points[1].oi_usd == pytest.approx(149940752.14464448)
    assert all(p.ts.tzinfo is UTC and p.venue == "binance" for p in points)


def test_open_interest_hist_timestamp_string_or_number(registry: CoinRegistry) -> None:
    body = load_sample("binance-usdm/open-interest-hist.json")
    as_numbers = [{**row, "timestamp": int(row["timestamp"])} for row in body]
    btc = registry.get("BTC")
    assert parse_open_interest_hist(as_numbers, btc) == parse_open_interest_hist(body, btc)


def test_open_interest_hist_edge_cases(registry: CoinRegistry) -> None:
    body = load_sample("binance-usdm/open-interest-hist.json")
    btc = registry.get("BTC")
    assert parse_open_interest_hist([], btc) == []
    renamed = [{**r, "sumOpenInterestValueUsd": r["sumOpenInterestValue"]} for r in copy.deepcopy(body)]
    for r in renamed:
        del r["sumOpenInterestValue"]
    with pytest.raises(BadPayload, match="sumOpenInterestValue"):
        parse_open_interest_hist(renamed, btc)
    negative = {**body[1], "sumOpenInterestValue": "-1"}
    assert [p.ts for p in parse_open_interest_hist([body[0], negative], btc)] == [from_ms(1583127900000)]
    (pepe,) = parse_open_interest_hist(body[:1], registry.get("PEPE"))
    assert pepe.oi_coin == pytest.approx(20403.637 * 1000)  # contracts of 1000 PEPE


# -- funding --------------------------------------------------------------------------------


def test_premium_index_samples(registry: CoinRegistry) -> None:
    for name in ("premium-index.json", "premium-index-all-symbols.json"):
        (f,) = parse_premium_index(load_sample(f"binance-usdm/{name}"), registry)
        assert (f.coin, f.venue) == ("BTC", "binance")
        assert f.rate == 0.00038246  # a fraction per interval, not percent
        assert f.ts == from_ms(1597370495002)
        assert f.interval_hours == 8.0


def test_premium_index_known_interval_and_delivery_rows(registry: CoinRegistry) -> None:
    body = load_sample("binance-usdm/premium-index-all-symbols.json")
    delivery = {**body[0], "symbol": "BTCUSDT_260327", "lastFundingRate": "", "nextFundingTime": 0}
    (f,) = parse_premium_index([*body, delivery], registry, {"BTCUSDT": 4.0})
    assert f.interval_hours == 4.0
    assert f.rate_8h == pytest.approx(0.00038246 * 2)


def test_funding_info_documented_shape() -> None:
    assert parse_funding_info(FUNDING_INFO) == {"BTCUSDT": 4.0, "1000PEPEUSDT": 8.0}
    with pytest.raises(BadPayload):
        parse_funding_info([{"symbol": "BTCUSDT", "intervalHours": 4}])


def test_funding_history_sample(registry: CoinRegistry) -> None:
    body = load_sample("binance-usdm/funding-rate-history.json")
    rates = parse_funding_history(body[::-1], registry.get("BTC"), 4.0)  # any order in, ascending out
    assert [(f.ts, f.rate) for f in rates] == [
        (from_ms(1570608000000), -0.0375),
        (from_ms(1570636800000), 0.0001),
    ]
    assert {f.interval_hours for f in rates} == {4.0}


def test_long_short_ratio_sample(registry: CoinRegistry) -> None:
    ratios = parse_long_short_ratio(
        load_sample("binance-usdm/global-long-short-account-ratio.json"), registry.get("BTC")
    )
    assert [(r.ts, r.long_share) for r in ratios] == [
        (from_ms(1583139600000), 0.6622),
        (from_ms(1583139900000), 0.6617),
    ]
    with pytest.raises(BadPayload):  # a share above 1 is absurd: the model refuses it
        parse_long_short_ratio([{"longAccount": "1.7", "timestamp": 1583139600000}], registry.get("BTC"))


def test_top_trader_ratio_samples(registry: CoinRegistry) -> None:
    """Fixtures written in the documented shape (the global ratio's); for the position endpoint
    ``longAccount`` is the long share of the top traders' positions."""
    btc = registry.get("BTC")
    position = parse_top_trader_ratio(
        documented_shape("binance-usdm/top-long-short-position-ratio.json"), btc, "position"
    )
    account = parse_top_trader_ratio(
        documented_shape("binance-usdm/top-long-short-account-ratio.json"), btc, "account"
    )
    assert [(r.basis, r.ts, r.long_share) for r in position] == [
        ("position", from_ms(1583139600000), 0.5891),
        ("position", from_ms(1583139900000), 0.3583),
    ]
    assert [(r.basis, r.long_share) for r in account] == [("account", 0.6442), ("account", 0.358)]
    assert {r.coin for r in (*position, *account)} == {"BTC"}
    with pytest.raises(BadPayload):
        parse_top_trader_ratio([{"longAccount": "-0.1", "timestamp": 1583139600000}], btc, "position")


async def test_top_trader_ratios_ask_both_endpoints_per_coin(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry
) -> None:
    fake.on(
        "/futures/data/topLongShortPositionRatio",
        ok(documented_shape("binance-usdm/top-long-short-position-ratio.json")),
    )
    fake.on(
        "/futures/data/topLongShortAccountRatio",
        ok(documented_shape("binance-usdm/top-long-short-account-ratio.json")),
    )
    p = provider(http, registry)
    points = await p.top_trader_ratios([registry.get("BTC")], "1h", 30)
    assert fake.paths() == [
        "/futures/data/topLongShortPositionRatio",
        "/futures/data/topLongShortAccountRatio",
    ]
    assert fake.params() == {"symbol": "BTCUSDT", "period": "1h", "limit": "30"}
    assert [p.basis for p in points] == ["position", "position", "account", "account"]


# -- provider -------------------------------------------------------------------------------


def provider(http: HttpClient, registry: CoinRegistry) -> BinanceProvider:
    return BinanceProvider(http, BinanceSettings(), registry, clock=FrozenClock(NOW))


async def test_spot_change_7d_batches_100_symbols_per_request(http: HttpClient, fake: FakeVenue) -> None:
    coins = synthetic_coins(120)
    window = load_sample("binance-spot/ticker-rolling-window.json")

    def reply(request: httpx.Request) -> httpx.Response:
        symbols = json.loads(request.url.params["symbols"])
        return ok([{**window, "symbol": s} for s in symbols])

    fake.on("/api/v3/ticker", reply)
    changes = await provider(http, CoinRegistry(coins)).spot_change_7d(coins)
    assert len(fake.requests) == 2
    assert fake.params(0)["windowSize"] == "7d"
    assert len(json.loads(fake.params(0)["symbols"])) == 100
    assert len(changes) == 120
    assert changes[0].change_pct == -88.889


async def test_klines_request_and_running_bar(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry
) -> None:
    day = 86_400_000
    today = int(datetime(2026, 11, 26, tzinfo=UTC).timestamp() * 1000)
    rows = [
        [t, "2", "3", "1", "2.5", "10", t + day - 1, "25", 5, "4", "10", "0"] for t in (today - day, today)
    ]
    fake.on("/fapi/v1/klines", ok(rows))
    candles = await provider(http, registry).klines([registry.get("PEPE")], "perp", "1d", limit=30)
    assert fake.params() == {"symbol": "1000PEPEUSDT", "interval": "1d", "limit": "31"}
    assert [c.open_time for c in candles] == [from_ms(today - day)]  # today's bar is still running
    assert candles[0].close == pytest.approx(0.0025)


async def test_funding_one_call_plus_hourly_interval_cache(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry
) -> None:
    fake.on("/fapi/v1/premiumIndex", ok(load_sample("binance-usdm/premium-index-all-symbols.json")))
    fake.on("/fapi/v1/fundingInfo", ok(FUNDING_INFO))
    clock = FrozenClock(NOW)
    p = BinanceProvider(http, BinanceSettings(), registry, clock=clock)
    (f,) = await p.funding(list(registry.coins.values()))
    assert f.interval_hours == 4.0
    await p.funding(list(registry.coins.values()))
    assert fake.paths().count("/fapi/v1/fundingInfo") == 1
    clock.advance(hours=1, seconds=1)
    await p.funding(list(registry.coins.values()))
    assert fake.paths().count("/fapi/v1/fundingInfo") == 2
    assert fake.paths().count("/fapi/v1/premiumIndex") == 3
    assert "symbol" not in fake.params(0)  # all symbols in one call


async def test_funding_survives_funding_info_outage(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry, sleeps: list[float]
) -> None:
    fake.on("/fapi/v1/premiumIndex", ok(load_sample("binance-usdm/premium-index.json")))
    fake.on("/fapi/v1/fundingInfo", httpx.Response(503))
    (f,) = await provider(http, registry).funding([registry.get("BTC")])
    assert f.interval_hours == 8.0
    assert len(sleeps) == 2  # fundingInfo was retried before falling back


async def test_per_coin_history_skips_a_refused_symbol(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry
) -> None:
    body = load_sample("binance-usdm/open-interest-hist.json")

    def reply(request: httpx.Request) -> httpx.Response:
        if request.url.params["symbol"] == "BTCUSDT":
            return ok(body)
        return httpx.Response(400, json={"code": -1121, "msg": "Invalid symbol."})

    fake.on("/futures/data/openInterestHist", reply)
    p = provider(http, registry)
    points = await p.open_interest_history([registry.get("BTC"), registry.get("ETH")], "1d", 30)
    assert {pt.coin for pt in points} == {"BTC"}
    assert len(points) == 2
    assert fake.params(0) == {"symbol": "BTCUSDT", "period": "1d", "limit": "30"}
    with pytest.raises(ProviderError, match="HTTP 400"):
        await p.open_interest_history([registry.get("ETH")])


async def test_history_methods_request_shapes(
    http: HttpClient, fake: FakeVenue, registry: CoinRegistry
) -> None:
    fake.on("/fapi/v1/fundingInfo", ok(FUNDING_INFO))
    fake.on("/fapi/v1/fundingRate", ok(load_sample("binance-usdm/funding-rate-history.json")))
    fake.on(
        "/futures/data/globalLongShortAccountRatio",
        ok(load_sample("binance-usdm/global-long-short-account-ratio.json")),
    )
    p = provider(http, registry)
    rates = await p.funding_history([registry.get("BTC")], limit=5000)
    assert fake.params() == {"symbol": "BTCUSDT", "limit": "1000"}
    assert rates[0].interval_hours == 4.0
    assert rates[0].rate == -0.0375
    ratios = await p.long_short_ratio([registry.get("BTC")], "1h", 30)
    assert fake.params() == {"symbol": "BTCUSDT", "period": "1h", "limit": "30"}
    assert ratios[-1].long_share == 0.6617


async def test_refresh_cycle_budget_at_100_coins(http: HttpClient, fake: FakeVenue) -> None:
    """Tickers (spot + perp), 7d change and funding for 100 coins stay within 10 requests."""
    coins = synthetic_coins(100)
    ticker: dict[str, Any] = load_sample("binance-usdm/ticker-24hr.json")
    window = load_sample("binance-spot/ticker-rolling-window.json")
    premium = load_sample("binance-usdm/premium-index.json")
    fake.on("/api/v3/ticker/24hr", ok([{**ticker, "symbol": c.binance_spot} for c in coins]))
    fake.on("/fapi/v1/ticker/24hr", ok([{**ticker, "symbol": c.binance_perp} for c in coins]))
    fake.on("/api/v3/ticker", ok([{**window, "symbol": c.binance_spot} for c in coins]))
    fake.on("/fapi/v1/premiumIndex", ok([{**premium, "symbol": c.binance_perp} for c in coins]))
    fake.on("/fapi/v1/fundingInfo", ok([]))
    p = provider(http, CoinRegistry(coins))
    spot = await p.spot_tickers(coins)
    perp = await p.perp_tickers(coins)
    merged = with_change_7d(spot, await p.spot_change_7d(coins))
    funding = await p.funding(coins)
    assert (len(spot), len(perp), len(funding)) == (100, 100, 100)
    assert all(t.change_7d_pct == -88.889 for t in merged)
    assert len(fake.requests) <= 10


async def test_spot_tickers_past_100_symbols_ask_for_all_in_one_request(
    http: HttpClient, fake: FakeVenue
) -> None:
    """The symbols filter takes at most 100: a tracked set past that (the top 100 plus a
    server's shortlist) asks once for every symbol and keeps its own, none dropped."""
    coins = synthetic_coins(120)
    ticker: dict[str, Any] = load_sample("binance-usdm/ticker-24hr.json")
    others = [{**ticker, "symbol": f"ZZ{i}USDT"} for i in range(30)]
    fake.on("/api/v3/ticker/24hr", ok([{**ticker, "symbol": c.binance_spot} for c in coins] + others))
    spot = await provider(http, CoinRegistry(coins)).spot_tickers(coins)
    assert len(fake.requests) == 1
    assert "symbols" not in fake.params(0)
    assert sorted(t.coin for t in spot) == sorted(c.symbol for c in coins)
