"""Every REST venue the collector calls, served by :class:`tests.helpers.FakeExchange` from the
recorded sample payloads (tests/fixtures/samples, copies of ../shared/samples).

``venue_routes(["BTC", "ETH"])`` maps each URL path to a body or a ``callable(request) ->
(status, body)``. Per-coin endpoints read the instrument from the query (``symbol`` / ``instId``)
and answer for it; batch endpoints list every tracked coin. Values and timestamps are kept as
recorded (all in the past, so the collector's "not in the future" filter keeps them); only the
instrument names are re-keyed to the tracked coins' venue ids (from config/coins.toml), and the
same recorded row is served for every coin.

Routes, the sample each serves, and what was re-keyed:

Binance spot (``spot_url``)
  /api/v3/ticker/24hr          binance-spot/ticker-24hr[-all-symbols].json — the BNBBTC row re-keyed
                               to each asked ``symbols`` entry (JSON list) or ``symbol``; no filter
                               → the recorded BNBBTC row plus one row per tracked coin.
  /api/v3/ticker               binance-spot/ticker-rolling-window.json (BNBBTC) — same re-keying.
  /api/v3/klines               binance-spot/klines.json as recorded (rows carry no symbol).
Binance USDⓈ-M (``futures_url``)
  /fapi/v1/ticker/24hr         binance-usdm/ticker-24hr[-all-symbols].json — the BTCUSDT row re-keyed
                               to each tracked perp symbol (1000PEPEUSDT, ...).
  /fapi/v1/premiumIndex        binance-usdm/premium-index[-all-symbols].json — same.
  /fapi/v1/fundingInfo         NO SAMPLE: the documented example row (BLZUSDT, 8h), an untracked
                               symbol, so every tracked coin keeps the default 8h interval.
  /fapi/v1/klines              binance-usdm/klines.json as recorded.
  /fapi/v1/fundingRate         binance-usdm/funding-rate-history.json, ``symbol`` re-keyed.
  /futures/data/openInterestHist            binance-usdm/open-interest-hist.json, ``symbol`` re-keyed.
  /futures/data/globalLongShortAccountRatio binance-usdm/global-long-short-account-ratio.json, same.
  /futures/data/topLongShortPositionRatio, /futures/data/topLongShortAccountRatio
                               documented-shape/binance-usdm/top-long-short-{position,account}-ratio.json
                               (written in the documented shape: no recorded sample), same.
Bybit v5 (``rest_url``)
  /v5/market/tickers           category=linear: the envelope of bybit-v5/tickers-linear-inverse-tab.json
                               (category → "linear") around the linear row of
                               bybit-v5/ws-tickers-linear-snapshot.json (BTCUSDT) re-keyed per tracked
                               coin (the REST sample's only row is the inverse BTCUSD); other
                               categories: the REST sample as recorded.
  /v5/market/kline             bybit-v5/kline.json — inverse BTCUSD → the asked linear symbol.
  /v5/market/open-interest     bybit-v5/open-interest.json — inverse BTCUSD → the asked linear symbol.
  /v5/market/account-ratio     bybit-v5/account-ratio.json, ``symbol`` re-keyed.
  /v5/market/funding/history   bybit-v5/funding-history.json, ETHPERP → the asked symbol.
OKX v5 (``rest_url``)
  /api/v5/market/tickers       okx-v5/market-tickers-swap.json — the inverse BTC-USD-SWAP row
                               re-keyed to each tracked ``-USDT-SWAP`` id; LTC-USD-SWAP kept as
                               recorded (an untracked instrument the parser must skip).
  /api/v5/public/open-interest okx-v5/open-interest.json — the BTC-USDT-SWAP row per tracked coin.
  /api/v5/public/funding-rate  okx-v5/funding-rate.json — ``instId=ANY``: the row per tracked coin;
                               a given ``instId``: that one.
  /api/v5/market/candles, /api/v5/market/history-candles
                               okx-v5/market-candles.json, market-history-candles.json as recorded.
  /api/v5/rubik/stat/contracts/open-interest-history
                               okx-v5/rubik-contracts-open-interest-history.json as recorded.
  /api/v5/rubik/stat/contracts/long-short-account-ratio-contract
                               okx-v5/rubik-long-short-account-ratio-contract.json as recorded.
  /api/v5/public/instruments   NO SAMPLE: the documented shape (as in tests/providers/test_okx.py);
                               ctVal 0.01 BTC / 0.1 ETH as on OKX, "1" for other coins.
Instrument lists (the tracked set's discovery, tests/fixtures/documented-shape: no recorded sample)
  /api/v3/exchangeInfo, /fapi/v1/exchangeInfo, /v5/market/instruments-info
                               the BTCUSDT row of each documented-shape file re-keyed to each
                               coin's venue symbol and base (1000PEPE for 1000PEPEUSDT).
CoinGecko (``rest_url`` = <fake>/api/v3)
  /api/v3/coins/markets        coingecko/coins-markets.json — the bitcoin row re-keyed (id, symbol,
                               name) per tracked coin.
  /api/v3/global               coingecko/global.json as recorded.
Yahoo (``rest_url``)
  /v8/finance/chart/<symbol>   yahoo/v8-finance-chart-WSU.DE-1d.json, ``meta.symbol`` re-keyed, one
                               route per symbol of ``bot.providers.yahoo.SERIES`` (the server sees
                               the decoded path: ``^GSPC``, not ``%5EGSPC``). The 1d recording also
                               answers the hourly request.
alternative.me (``rest_url``)
  /fng/                        NO SAMPLE: documented-shape/alternative-me/fng-limit-10.json (written
                               from the API's documentation), whatever ``limit`` asks.

A symbol the fake does not track gets the venue's own refusal (not from the samples: Binance
HTTP 400 code -1121, Bybit retCode 10001, OKX code 51001; an unknown Yahoo symbol has no route,
so FakeExchange answers 404), so a wrong instrument id shows instead of a silently served row.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

from aiohttp import web

from bot.coins import Coin, CoinRegistry
from bot.providers.yahoo import SERIES
from tests.helpers import documented_shape, sample

Reply = tuple[int, Any]
Handler = Callable[[web.Request], Reply]

# GET /fapi/v1/fundingInfo has no saved sample: the example row of Binance's docs.
FUNDING_INFO = [
    {
        "symbol": "BLZUSDT",
        "adjustedFundingRateCap": "0.02500000",
        "adjustedFundingRateFloor": "-0.02500000",
        "fundingIntervalHours": 8,
        "disclaimer": False,
    }
]

OKX_CT_VAL = {"BTC": "0.01", "ETH": "0.1"}


def venue_routes(symbols: list[str]) -> dict[str, Any]:
    """Routes for :class:`~tests.helpers.FakeExchange` answering every REST path the collector
    requests, for the coins ``symbols`` (registry symbols, e.g. ``["BTC", "ETH"]``)."""
    registry = CoinRegistry.load()
    coins = [registry.get(s) for s in symbols]
    return {
        **_binance_spot(coins),
        **_binance_futures(coins),
        **_bybit(coins),
        **_okx(coins),
        **_coingecko(coins),
        **_yahoo(),
        **instrument_routes(coins),
        "/fng/": documented_shape("alternative-me/fng-limit-10.json"),
    }


def _rekey(row: dict[str, Any], key: str, value: str) -> dict[str, Any]:
    return {**copy.deepcopy(row), key: value}


# -- Binance ------------------------------------------------------------------------------------

BINANCE_UNKNOWN: Reply = (400, {"code": -1121, "msg": "Invalid symbol."})


def _binance_rows(template: dict[str, Any], listed: list[str], extra: list[Any]) -> Handler:
    """A ticker endpoint: ``symbols=[...]`` → a list, ``symbol=`` → one object, neither → all
    (``extra`` recorded rows first, then one re-keyed row per listed symbol)."""

    def handle(request: web.Request) -> Reply:
        if "symbols" in request.query:
            asked = json.loads(request.query["symbols"])
            if any(s not in listed for s in asked):
                return BINANCE_UNKNOWN
            return 200, [_rekey(template, "symbol", s) for s in asked]
        if "symbol" in request.query:
            symbol = request.query["symbol"]
            return (200, _rekey(template, "symbol", symbol)) if symbol in listed else BINANCE_UNKNOWN
        return 200, [*copy.deepcopy(extra), *(_rekey(template, "symbol", s) for s in listed)]

    return handle


def _binance_series(body: list[Any], listed: list[str], *, symbol_field: bool = True) -> Handler:
    """A per-symbol history endpoint: the recorded rows, their ``symbol`` set to the asked one."""

    def handle(request: web.Request) -> Reply:
        symbol = request.query.get("symbol", "")
        if symbol not in listed:
            return BINANCE_UNKNOWN
        if not symbol_field:
            return 200, copy.deepcopy(body)
        return 200, [_rekey(row, "symbol", symbol) for row in body]

    return handle


def _binance_spot(coins: list[Coin]) -> dict[str, Any]:
    listed = [c.binance_spot for c in coins if c.binance_spot]
    [recorded] = sample("binance-spot/ticker-24hr-all-symbols.json")  # BNBBTC
    return {
        "/api/v3/ticker/24hr": _binance_rows(sample("binance-spot/ticker-24hr.json"), listed, [recorded]),
        "/api/v3/ticker": _binance_rows(sample("binance-spot/ticker-rolling-window.json"), listed, []),
        "/api/v3/klines": _binance_series(sample("binance-spot/klines.json"), listed, symbol_field=False),
    }


def _binance_futures(coins: list[Coin]) -> dict[str, Any]:
    listed = [c.binance_perp for c in coins if c.binance_perp]
    [ticker] = sample("binance-usdm/ticker-24hr-all-symbols.json")  # BTCUSDT
    [premium] = sample("binance-usdm/premium-index-all-symbols.json")  # BTCUSDT
    return {
        "/fapi/v1/ticker/24hr": _binance_rows(ticker, listed, []),
        "/fapi/v1/premiumIndex": _binance_rows(premium, listed, []),
        "/fapi/v1/fundingInfo": copy.deepcopy(FUNDING_INFO),
        "/fapi/v1/klines": _binance_series(sample("binance-usdm/klines.json"), listed, symbol_field=False),
        "/fapi/v1/fundingRate": _binance_series(sample("binance-usdm/funding-rate-history.json"), listed),
        "/futures/data/openInterestHist": _binance_series(
            sample("binance-usdm/open-interest-hist.json"), listed
        ),
        "/futures/data/globalLongShortAccountRatio": _binance_series(
            sample("binance-usdm/global-long-short-account-ratio.json"), listed
        ),
        "/futures/data/topLongShortPositionRatio": _binance_series(
            documented_shape("binance-usdm/top-long-short-position-ratio.json"), listed
        ),
        "/futures/data/topLongShortAccountRatio": _binance_series(
            documented_shape("binance-usdm/top-long-short-account-ratio.json"), listed
        ),
    }


# -- Bybit --------------------------------------------------------------------------------------


def _bybit_unknown(time_ms: int) -> Reply:
    return 200, {
        "retCode": 10001,
        "retMsg": "params error: symbol invalid",
        "result": {},
        "retExtInfo": {},
        "time": time_ms,
    }


def _bybit_series(body: dict[str, Any], listed: list[str], *, row_symbol: bool = False) -> Handler:
    """A per-symbol linear endpoint: the recorded envelope re-keyed to the asked symbol (and to
    ``category=linear`` where the sample is an inverse contract)."""

    def handle(request: web.Request) -> Reply:
        symbol = request.query.get("symbol", "")
        if symbol not in listed:
            return _bybit_unknown(body["time"])
        out = copy.deepcopy(body)
        result = out["result"]
        if "symbol" in result:
            result["symbol"] = symbol
        if "category" in result:
            result["category"] = request.query.get("category", "linear")
        if row_symbol:
            result["list"] = [_rekey(row, "symbol", symbol) for row in result["list"]]
        return 200, out

    return handle


def _bybit(coins: list[Coin]) -> dict[str, Any]:
    listed = [c.bybit for c in coins if c.bybit]
    rest = sample("bybit-v5/tickers-linear-inverse-tab.json")  # inverse BTCUSD only
    linear_row = sample("bybit-v5/ws-tickers-linear-snapshot.json")["data"]  # linear BTCUSDT

    def tickers(request: web.Request) -> Reply:
        if request.query.get("category") != "linear":
            return 200, copy.deepcopy(rest)
        wanted = [request.query["symbol"]] if "symbol" in request.query else listed
        if any(s not in listed for s in wanted):
            return _bybit_unknown(rest["time"])
        body = copy.deepcopy(rest)
        body["result"] = {"category": "linear", "list": [_rekey(linear_row, "symbol", s) for s in wanted]}
        return 200, body

    return {
        "/v5/market/tickers": tickers,
        "/v5/market/kline": _bybit_series(sample("bybit-v5/kline.json"), listed),
        "/v5/market/open-interest": _bybit_series(sample("bybit-v5/open-interest.json"), listed),
        "/v5/market/account-ratio": _bybit_series(
            sample("bybit-v5/account-ratio.json"), listed, row_symbol=True
        ),
        "/v5/market/funding/history": _bybit_series(
            sample("bybit-v5/funding-history.json"), listed, row_symbol=True
        ),
    }


# -- OKX ----------------------------------------------------------------------------------------

OKX_UNKNOWN: Reply = (200, {"code": "51001", "msg": "Instrument ID does not exist", "data": []})


def _okx_all(body: dict[str, Any], template_id: str, listed: list[str], *, keep_others: bool) -> Handler:
    """An all-swaps endpoint: the row of ``template_id`` re-keyed per listed instId (``instId``
    given and not ``ANY``: only that one); other recorded rows kept when ``keep_others``."""
    [template] = [r for r in body["data"] if r["instId"] == template_id]
    others = [r for r in body["data"] if r["instId"] != template_id] if keep_others else []

    def handle(request: web.Request) -> Reply:
        inst = request.query.get("instId", "ANY")
        if inst != "ANY" and inst not in listed:
            return OKX_UNKNOWN
        wanted = listed if inst == "ANY" else [inst]
        out = copy.deepcopy(body)
        out["data"] = [*copy.deepcopy(others), *(_rekey(template, "instId", i) for i in wanted)]
        return 200, out

    return handle


def _okx_series(body: dict[str, Any], listed: list[str]) -> Handler:
    """A per-instrument endpoint whose array rows carry no instId: served as recorded."""

    def handle(request: web.Request) -> Reply:
        if request.query.get("instId", "") not in listed:
            return OKX_UNKNOWN
        return 200, copy.deepcopy(body)

    return handle


def _okx(coins: list[Coin]) -> dict[str, Any]:
    listed = [c.okx for c in coins if c.okx]
    instruments = {
        "code": "0",
        "msg": "",
        "data": [
            {
                "instType": "SWAP",
                "instId": c.okx,
                "ctVal": OKX_CT_VAL.get(c.symbol, "1"),
                "ctValCcy": c.symbol,
                "ctType": "linear",
                "settleCcy": "USDT",
                "state": "live",
            }
            for c in coins
            if c.okx
        ],
    }
    return {
        "/api/v5/market/tickers": _okx_all(
            sample("okx-v5/market-tickers-swap.json"), "BTC-USD-SWAP", listed, keep_others=True
        ),
        "/api/v5/public/open-interest": _okx_all(
            sample("okx-v5/open-interest.json"), "BTC-USDT-SWAP", listed, keep_others=False
        ),
        "/api/v5/public/funding-rate": _okx_all(
            sample("okx-v5/funding-rate.json"), "BTC-USDT-SWAP", listed, keep_others=False
        ),
        "/api/v5/public/instruments": instruments,
        "/api/v5/market/candles": _okx_series(sample("okx-v5/market-candles.json"), listed),
        "/api/v5/market/history-candles": _okx_series(sample("okx-v5/market-history-candles.json"), listed),
        "/api/v5/rubik/stat/contracts/open-interest-history": _okx_series(
            sample("okx-v5/rubik-contracts-open-interest-history.json"), listed
        ),
        "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract": _okx_series(
            sample("okx-v5/rubik-long-short-account-ratio-contract.json"), listed
        ),
    }


# -- instrument lists (the tracked set's discovery) -----------------------------------------------


def _base(symbol: str, quote: str = "USDT") -> str:
    return symbol[: -len(quote)] if symbol.endswith(quote) else symbol


def instrument_routes(coins: list[Coin]) -> dict[str, Any]:
    """Binance spot and USDⓈ-M ``exchangeInfo`` and Bybit's linear ``instruments-info``: the
    first row of each documented-shape fixture re-keyed to each coin's venue symbol (OKX's
    ``/public/instruments`` is served by the OKX routes)."""
    spot = documented_shape("binance-spot/exchange-info.json")
    perp = documented_shape("binance-usdm/exchange-info.json")
    bybit = documented_shape("bybit-v5/instruments-info-linear.json")
    spot_row = next(r for r in spot["symbols"] if r["symbol"] == "BTCUSDT")
    perp_row = next(r for r in perp["symbols"] if r["symbol"] == "BTCUSDT")
    bybit_row = bybit["result"]["list"][0]
    spot["symbols"] = [
        {**copy.deepcopy(spot_row), "symbol": c.binance_spot, "baseAsset": c.binance_spot[:-4]}
        for c in coins
        if c.binance_spot
    ]
    perp["symbols"] = [
        {
            **copy.deepcopy(perp_row),
            "symbol": c.binance_perp,
            "pair": c.binance_perp,
            "baseAsset": _base(c.binance_perp),
        }
        for c in coins
        if c.binance_perp
    ]
    bybit["result"]["list"] = [
        {**copy.deepcopy(bybit_row), "symbol": c.bybit, "baseCoin": _base(c.bybit)} for c in coins if c.bybit
    ]
    return {"/api/v3/exchangeInfo": spot, "/fapi/v1/exchangeInfo": perp, "/v5/market/instruments-info": bybit}


# -- CoinGecko ----------------------------------------------------------------------------------


def _coingecko(coins: list[Coin]) -> dict[str, Any]:
    [bitcoin] = sample("coingecko/coins-markets.json")
    markets = [
        {**copy.deepcopy(bitcoin), "id": c.coingecko, "symbol": c.symbol.lower(), "name": c.name}
        for c in coins
    ]
    return {
        "/api/v3/coins/markets": markets,
        "/api/v3/global": sample("coingecko/global.json"),
    }


# -- Yahoo --------------------------------------------------------------------------------------


def _yahoo() -> dict[str, Any]:
    chart = sample("yahoo/v8-finance-chart-WSU.DE-1d.json")

    def for_symbol(symbol: str) -> dict[str, Any]:
        body: dict[str, Any] = copy.deepcopy(chart)
        body["chart"]["result"][0]["meta"]["symbol"] = symbol
        return body

    return {f"/v8/finance/chart/{symbol}": for_symbol(symbol) for symbol in SERIES.values()}
