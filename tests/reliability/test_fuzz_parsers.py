"""Fuzzing every parser: hypothesis-generated provider payloads (random JSON, and mutations of
the recorded samples in tests/fixtures/samples and tests/fixtures/ws: keys dropped or renamed,
wrong types, strings for numbers and numbers for strings, NaN/inf/negative/zero/huge values,
seconds for milliseconds and back, rows duplicated or emptied) through every ``parse_*`` of
``bot.providers`` and ``parse_frame`` of ``bot.streams``.

What may come out:

* a REST parser returns a result or raises :class:`~bot.providers.http.ProviderError` (its
  subclass ``BadPayload`` for drift). Nothing else: the collector catches exactly
  ``ProviderError`` (``Collector.collect``), so any other exception — a pydantic
  ``ValidationError`` included — escapes the job, skips the rest of ``collect --once`` and is
  never recorded in the source's health;
* a stream ``parse_frame`` never raises (``VenueAdapter.parse``: "Must not raise");
* every record returned passes its model's invariants (re-validated: price > 0, OI ≥ 0, finite
  numbers, aware timestamps), every number in it is finite, its coin is a registry coin, and a
  mapping returned (funding intervals, contract values) holds finite positive numbers: nothing
  absurd can reach the store.

The crashes the fuzzer found (timestamps out of range, non-finite closes and mapping values)
are fixed; each keeps a minimal example below as a regression test.
"""

from __future__ import annotations

import copy
import importlib
import inspect
import json
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass, fields, is_dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from bot.clock import from_ms
from bot.coins import Coin, CoinRegistry
from bot.providers import alternative, binance, bybit, coingecko, fred, instruments, okx, yahoo
from bot.providers.http import ProviderError
from bot.streams import binance as binance_ws
from bot.streams import bybit as bybit_ws
from bot.streams import okx as okx_ws

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
PROVIDER_MODULES = (binance, bybit, okx, coingecko, yahoo, fred, instruments, alternative)
STREAM_MODULES = (binance_ws, bybit_ws, okx_ws)
PROVIDER_ALLOWED: tuple[type[BaseException], ...] = (ProviderError,)
STREAM_ALLOWED: tuple[type[BaseException], ...] = ()
EXAMPLES = 40
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)

# Venue ids of the samples' instruments (BNBBTC, BTCUSD inverse, LTC-USD-SWAP, ROSE, IOST, ...)
# so the fuzzer reaches the conversion code instead of skipping untracked rows.
REGISTRY = CoinRegistry(
    [
        Coin(symbol="BTC", name="Bitcoin", coingecko="bitcoin", binance_spot="BTCUSDT",
             binance_perp="BTCUSDT", bybit="BTCUSDT", okx="BTC-USDT-SWAP"),
        Coin(symbol="BNB", name="BNB", coingecko="binancecoin", binance_spot="BNBBTC"),
        Coin(symbol="XBT", name="Bitcoin inverse", coingecko="xbt", bybit="BTCUSD", okx="BTC-USD-SWAP"),
        Coin(symbol="LTC", name="Litecoin", coingecko="litecoin", okx="LTC-USD-SWAP"),
        Coin(symbol="PEPE", name="Pepe", coingecko="pepe", binance_perp="1000PEPEUSDT",
             bybit="1000PEPEUSDT", okx="PEPE-USDT-SWAP", perp_multiplier=1000),
        Coin(symbol="ROSE", name="Oasis", coingecko="oasis-network", binance_perp="ROSEUSDT",
             bybit="ROSEUSDT", okx="ROSE-USDT-SWAP"),
        Coin(symbol="IOST", name="IOST", coingecko="iostoken", binance_perp="IOSTUSDT", bybit="IOSTUSDT",
             okx="IOST-USDT-SWAP"),
    ]
)  # fmt: skip
CT_VAL = {"BTC-USDT-SWAP": 0.01, "IOST-USDT-SWAP": 1000.0, "ROSE-USDT-SWAP": 1.0, "PEPE-USDT-SWAP": 1e6}
NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def sample(relpath: str) -> Any:
    return json.loads((FIXTURES / relpath).read_text(encoding="utf-8"))


def bybit_oi_prices() -> dict[datetime, float]:
    """Candle prices at the OI sample's timestamps, so its rows can be priced."""
    rows = sample("samples/bybit-v5/open-interest.json")["result"]["list"]
    return {from_ms(int(r["timestamp"])): 65_000.0 for r in rows}


# -- the parsers --------------------------------------------------------------------------------


NO_OPTIONS: st.SearchStrategy[Any] = st.none()


@dataclass(frozen=True)
class Parser:
    name: str  # module.function
    call: Callable[[Any, Any], Any]  # (body, drawn options) -> result
    samples: tuple[str, ...]
    options: st.SearchStrategy[Any] = NO_OPTIONS
    stream: bool = False

    @property
    def allowed(self) -> tuple[type[BaseException], ...]:
        return STREAM_ALLOWED if self.stream else PROVIDER_ALLOWED


COINS = st.sampled_from([REGISTRY.get("BTC"), REGISTRY.get("PEPE"), REGISTRY.get("XBT")])
BARS = st.sampled_from(["1h", "1d"])
MAYBE_NOW = st.none() | st.just(NOW)

PARSERS = [
    # Binance
    Parser("binance.parse_ticker_24h", lambda b, o: binance.parse_ticker_24h(b, REGISTRY, o),
           ("samples/binance-spot/ticker-24hr.json", "samples/binance-spot/ticker-24hr-all-symbols.json",
            "samples/binance-usdm/ticker-24hr.json", "samples/binance-usdm/ticker-24hr-all-symbols.json"),
           st.sampled_from(["spot", "perp"])),
    Parser("binance.parse_ticker_window", lambda b, o: binance.parse_ticker_window(b, REGISTRY),
           ("samples/binance-spot/ticker-rolling-window.json",)),
    Parser("binance.parse_klines", lambda b, o: binance.parse_klines(b, o[0], o[1], o[2], now=o[3]),
           ("samples/binance-spot/klines.json", "samples/binance-usdm/klines.json"),
           st.tuples(COINS, st.sampled_from(["spot", "perp"]), BARS, MAYBE_NOW)),
    Parser("binance.parse_open_interest_hist", lambda b, o: binance.parse_open_interest_hist(b, o),
           ("samples/binance-usdm/open-interest-hist.json",), COINS),
    Parser("binance.parse_premium_index",
           lambda b, o: binance.parse_premium_index(b, REGISTRY, {"BTCUSDT": o} if o else None),
           ("samples/binance-usdm/premium-index.json", "samples/binance-usdm/premium-index-all-symbols.json"),
           st.none() | st.sampled_from([1.0, 4.0, 8.0])),
    Parser("binance.parse_funding_info", lambda b, o: binance.parse_funding_info(b),
           ("synthetic/binance-funding-info",)),
    Parser("binance.parse_funding_history", lambda b, o: binance.parse_funding_history(b, o[0], o[1]),
           ("samples/binance-usdm/funding-rate-history.json",), st.tuples(COINS, st.sampled_from([4.0, 8.0]))),
    Parser("binance.parse_long_short_ratio", lambda b, o: binance.parse_long_short_ratio(b, o),
           ("samples/binance-usdm/global-long-short-account-ratio.json",), COINS),
    Parser("binance.parse_top_trader_ratio", lambda b, o: binance.parse_top_trader_ratio(b, o[0], o[1]),
           ("documented-shape/binance-usdm/top-long-short-position-ratio.json",
            "documented-shape/binance-usdm/top-long-short-account-ratio.json"),
           st.tuples(COINS, st.sampled_from(["position", "account"]))),
    # Bybit
    Parser("bybit.parse_linear_tickers", lambda b, o: bybit.parse_linear_tickers(b, REGISTRY),
           ("samples/bybit-v5/tickers-linear-inverse-tab.json", "synthetic/bybit-linear-tickers")),
    Parser("bybit.parse_linear_open_interest", lambda b, o: bybit.parse_linear_open_interest(b, REGISTRY),
           ("samples/bybit-v5/tickers-linear-inverse-tab.json", "synthetic/bybit-linear-tickers")),
    Parser("bybit.parse_linear_funding", lambda b, o: bybit.parse_linear_funding(b, REGISTRY),
           ("samples/bybit-v5/tickers-linear-inverse-tab.json", "synthetic/bybit-linear-tickers")),
    Parser("bybit.parse_linear_snapshot", lambda b, o: bybit.parse_linear_snapshot(b, REGISTRY),
           ("samples/bybit-v5/tickers-linear-inverse-tab.json", "synthetic/bybit-linear-tickers")),
    Parser("bybit.parse_kline", lambda b, o: bybit.parse_kline(b, o[0], o[1], now=o[2]),
           ("samples/bybit-v5/kline.json",), st.tuples(COINS, BARS, MAYBE_NOW)),
    Parser("bybit.parse_open_interest_history",
           lambda b, o: bybit.parse_open_interest_history(b, o, bybit_oi_prices()),
           ("samples/bybit-v5/open-interest.json",), COINS),
    Parser("bybit.parse_funding_history", lambda b, o: bybit.parse_funding_history(b, o),
           ("samples/bybit-v5/funding-history.json",), COINS),
    Parser("bybit.parse_account_ratio", lambda b, o: bybit.parse_account_ratio(b, o),
           ("samples/bybit-v5/account-ratio.json",), COINS),
    # OKX
    Parser("okx.parse_swap_tickers", lambda b, o: okx.parse_swap_tickers(b, REGISTRY),
           ("samples/okx-v5/market-tickers-swap.json",)),
    Parser("okx.parse_candles", lambda b, o: okx.parse_candles(b, o[0], o[1], include_unconfirmed=o[2]),
           ("samples/okx-v5/market-candles.json", "samples/okx-v5/market-history-candles.json"),
           st.tuples(COINS, BARS, st.booleans())),
    Parser("okx.parse_open_interest", lambda b, o: okx.parse_open_interest(b, REGISTRY),
           ("samples/okx-v5/open-interest.json",)),
    Parser("okx.parse_open_interest_history", lambda b, o: okx.parse_open_interest_history(b, o),
           ("samples/okx-v5/rubik-contracts-open-interest-history.json",), COINS),
    Parser("okx.parse_funding_rate", lambda b, o: okx.parse_funding_rate(b, REGISTRY),
           ("samples/okx-v5/funding-rate.json",)),
    Parser("okx.parse_long_short_ratio", lambda b, o: okx.parse_long_short_ratio(b, o),
           ("samples/okx-v5/rubik-long-short-account-ratio-contract.json",), COINS),
    Parser("okx.parse_contract_values", lambda b, o: okx.parse_contract_values(b),
           ("synthetic/okx-instruments",)),
    # CoinGecko
    Parser("coingecko.parse_market_tickers", lambda b, o: coingecko.parse_market_tickers(b, REGISTRY),
           ("samples/coingecko/coins-markets.json",)),
    Parser("coingecko.parse_market_breadth", lambda b, o: coingecko.parse_market_breadth(b),
           ("samples/coingecko/coins-markets.json",)),
    Parser("coingecko.parse_markets", lambda b, o: coingecko.parse_markets(b, REGISTRY),
           ("samples/coingecko/coins-markets.json",)),
    Parser("coingecko.parse_global", lambda b, o: coingecko.parse_global(b),
           ("samples/coingecko/global.json",)),
    # Yahoo
    Parser("yahoo.parse_chart", lambda b, o: yahoo.parse_chart(b, "spx", "^GSPC", o),
           ("samples/yahoo/v8-finance-chart-WSU.DE-1d.json",), BARS),
    # FRED: a CSV, fuzzed as its rows of cells (see csv_text)
    Parser("fred.parse_csv", lambda b, o: fred.parse_csv(csv_text(b), "us10y", "DGS10"),
           ("synthetic/fred-dgs10-rows",)),
    # Instrument lists and the market-cap ranking (the tracked set's discovery)
    Parser("instruments.parse_binance_info", lambda b, o: instruments.parse_binance_info(b, o, "binance"),
           ("documented-shape/binance-spot/exchange-info.json", "documented-shape/binance-usdm/exchange-info.json"),
           st.sampled_from(["binance_spot", "binance_perp"])),
    Parser("instruments.parse_bybit_instruments", lambda b, o: instruments.parse_bybit_instruments(b)[0],
           ("documented-shape/bybit-v5/instruments-info-linear.json",)),
    Parser("instruments.parse_okx_instruments", lambda b, o: instruments.parse_okx_instruments(b),
           ("documented-shape/okx-v5/public-instruments-swap.json",)),
    Parser("instruments.parse_ranking", lambda b, o: instruments.parse_ranking(b),
           ("samples/coingecko/coins-markets.json", "documented-shape/coingecko/coins-markets-ranking.json")),
    # alternative.me: Fear & Greed (a documented-shape payload, no recorded sample)
    Parser("alternative.parse_fng", lambda b, o: alternative.parse_fng(b),
           ("documented-shape/alternative-me/fng-limit-10.json",)),
    # Liquidation streams
    Parser("binance_ws.parse_frame", lambda b, o: binance_ws.parse_frame(b, REGISTRY),
           ("ws/binance-usdm/ws-force-order-arr.json", "synthetic/binance-ws-combined"), stream=True),
    Parser("bybit_ws.parse_frame", lambda b, o: bybit_ws.parse_frame(b, REGISTRY),
           ("ws/bybit-v5/ws-all-liquidation.json", "synthetic/bybit-ws-two-rows"), stream=True),
    Parser("okx_ws.parse_frame", lambda b, o: okx_ws.parse_frame(b, REGISTRY, CT_VAL),
           ("ws/okx-v5/ws-liquidation-orders.json", "synthetic/okx-ws-net-mode"), stream=True),
]  # fmt: skip
BY_NAME = {p.name: p for p in PARSERS}


def csv_text(body: Any) -> str:
    """A fuzzed list of rows of cells as CSV text (anything else as its text)."""
    if isinstance(body, str):
        return body
    if not isinstance(body, list):
        return json.dumps(body)
    return "\n".join(",".join(map(str, row)) if isinstance(row, list) else str(row) for row in body)


def synthetic(name: str) -> Any:
    """Payloads with no recorded sample, in the documented shape (as tests/fake_venues.py)."""
    if name == "fred-dgs10-rows":  # the hand-written fixture (no FRED response was recorded)
        text = (FIXTURES / "samples/fred/fredgraph-DGS10.csv").read_text(encoding="utf-8")
        return [line.split(",") for line in text.splitlines()]
    if name == "binance-funding-info":
        return [{"symbol": "BTCUSDT", "fundingIntervalHours": 4, "adjustedFundingRateCap": "0.025"}]
    if name == "okx-instruments":
        return {
            "code": "0",
            "msg": "",
            "data": [{"instId": "BTC-USDT-SWAP", "ctVal": "0.01", "ctType": "linear"}],
        }
    if name == "bybit-linear-tickers":
        body = sample("samples/bybit-v5/tickers-linear-inverse-tab.json")
        row = sample("samples/bybit-v5/ws-tickers-linear-snapshot.json")["data"]
        body["result"] = {"category": "linear", "list": [row, {**row, "symbol": "1000PEPEUSDT"}]}
        return body
    if name == "binance-ws-combined":
        return {"stream": "!forceOrder@arr", "data": [sample("ws/binance-usdm/ws-force-order-arr.json")]}
    if name == "bybit-ws-two-rows":
        frame = sample("ws/bybit-v5/ws-all-liquidation.json")
        frame["data"].append({**frame["data"][0], "T": frame["data"][0]["T"] + 1, "S": "Buy"})
        return frame
    if name == "okx-ws-net-mode":
        frame = sample("ws/okx-v5/ws-liquidation-orders.json")
        frame["data"][0]["details"].append(
            {**frame["data"][0]["details"][0], "posSide": "net", "side": "sell"}
        )
        return frame
    raise KeyError(name)


def load(ref: str) -> Any:
    kind, _, rest = ref.partition("/")
    return synthetic(rest) if kind == "synthetic" else sample(ref)


# -- invariants of what comes out ---------------------------------------------------------------

POSITIVE = {"price", "qty", "usd", "open", "high", "low", "close", "open_price", "total_market_cap_usd"}
NON_NEGATIVE = {"oi_usd", "oi_coin", "volume", "quote_volume", "quote_volume_24h", "market_cap"}


def records(result: Any) -> Iterator[Any]:
    if isinstance(result, list | tuple):
        for item in result:
            yield from records(item)
    elif is_dataclass(result) and not isinstance(result, type):
        for f in fields(result):
            yield from records(getattr(result, f.name))
    else:
        yield result


def problems(parser: Parser, result: Any) -> list[tuple[str, str | None]]:
    """(problem, None) for everything wrong with a parser's result."""
    out: list[tuple[str, str | None]] = []
    if isinstance(result, dict):
        for key, value in result.items():
            if not isinstance(key, str) or not isinstance(value, float):
                out.append((f"mapping entry {key!r}: {value!r}", None))
            elif not (math.isfinite(value) and value > 0):
                out.append((f"mapping value {key!r}: {value!r}", None))
        return out
    for record in records(result):
        if not isinstance(record, BaseModel):
            out.append((f"not a record: {record!r:.100}", None))
            continue
        try:
            type(record).model_validate(record.model_dump())
        except ValidationError as exc:
            out.append((f"{type(record).__name__} breaks its model: {exc}", None))
        for name, value in record:
            if isinstance(value, float) and not math.isfinite(value):
                out.append((f"{type(record).__name__}.{name} = {value}", None))
            if isinstance(value, float) and name in POSITIVE and not value > 0:
                out.append((f"{type(record).__name__}.{name} = {value} (must be > 0)", None))
            if isinstance(value, float) and name in NON_NEGATIVE and not value >= 0:
                out.append((f"{type(record).__name__}.{name} = {value} (must be ≥ 0)", None))
            if isinstance(value, datetime) and value.utcoffset() is None:
                out.append((f"{type(record).__name__}.{name} is naive", None))
        coin = getattr(record, "coin", None)
        if coin is not None and coin not in REGISTRY:
            out.append((f"{type(record).__name__}.coin {coin!r} is not a registry coin", None))
    return out


def check(parser: Parser, body: Any, options: Any) -> None:
    """The property: an allowed error or a clean result."""
    snapshot = copy.deepcopy(body)
    try:
        result = parser.call(body, options)
    except parser.allowed:
        event("rejected")
        return
    finally:
        # in a list, NaN equals itself (identity), and deepcopy keeps float identity
        assert [body] == [snapshot], "the parser mutated its input"
    found = problems(parser, result)
    for problem, _ in found:
        raise AssertionError(f"{parser.name} returned an absurd value: {problem}")
    event("accepted" if list(records(result)) or (isinstance(result, dict) and result) else "empty")


# -- payload strategies -------------------------------------------------------------------------

SPECIAL: list[Any] = [
    math.nan, math.inf, -math.inf, 0, 0.0, -0.0, -1, -1.5, 1e308, -1e308, 5e-324, 10**20, 10**30,
    2**63, -(2**63), "NaN", "nan", "Infinity", "-Infinity", "inf", "1e400", "-1", "0", "-0", "",
    " ", "abc", "1,000", "0x10", "1e-400", True, False, None, [], {},
]  # fmt: skip


def _keys(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


KNOWN_KEYS = sorted({k for p in PARSERS for ref in p.samples for k in _keys(load(ref))})
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**25), max_value=10**25)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=12)
    | st.sampled_from(SPECIAL)
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.sampled_from(KNOWN_KEYS) | st.text(max_size=8), inner, max_size=5)
    ),
    max_leaves=15,
)


def _slots(doc: Any) -> Iterator[tuple[Any, Any]]:
    """(container, key) for every value inside ``doc``."""
    items = doc.items() if isinstance(doc, dict) else enumerate(doc) if isinstance(doc, list) else []
    for key, value in list(items):
        yield doc, key
        yield from _slots(value)


def _number_like(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _retype(value: Any, number: float) -> Any:
    """``number`` in the type ``value`` had (a numeric string stays a string)."""
    if isinstance(value, str):
        return str(int(number)) if number.is_integer() and abs(number) < 1e300 else repr(number)
    if isinstance(value, int) and number.is_integer() and math.isfinite(number):
        return int(number)
    return number


OPS = ("drop", "rename", "replace", "special", "flip-type", "rescale", "duplicate", "empty")


@st.composite
def mutated(draw: st.DrawFn, ref: str) -> Any:
    doc = copy.deepcopy(load(ref))
    for _ in range(draw(st.integers(1, 3))):
        slots = list(_slots(doc))
        if not slots:
            break
        container, key = draw(st.sampled_from(slots))
        value = container[key]
        op = draw(st.sampled_from(OPS))
        if op == "drop":
            del container[key]
        elif op == "rename" and isinstance(container, dict):
            new = draw(st.sampled_from(KNOWN_KEYS) | st.sampled_from([key.upper(), key.lower(), key + "_"]))
            container[new] = container.pop(key)
        elif op == "replace":
            container[key] = draw(JSON)
        elif op == "special":
            container[key] = draw(st.sampled_from(SPECIAL))
        elif op == "flip-type":
            number = _number_like(value)
            if isinstance(value, str) and number is not None:
                container[key] = number  # a number where the venue sends a string
            elif number is not None:
                container[key] = str(value)  # a string where the venue sends a number
            else:
                container[key] = draw(SCALARS)
        elif op == "rescale":
            number = _number_like(value)
            if number is not None and math.isfinite(number):
                factor = draw(st.sampled_from([1000.0, 0.001, 1e6, -1.0, 1e-9, 1e12]))
                container[key] = _retype(value, number * factor)  # ms <-> s, µs, negative, tiny
        elif op == "duplicate" and isinstance(container, list):
            container.append(copy.deepcopy(value))
        elif op == "empty":
            container[key] = [] if isinstance(value, list) else {} if isinstance(value, dict) else ""
    return doc


def payloads(parser: Parser) -> st.SearchStrategy[Any]:
    return st.one_of(
        *(mutated(ref) for ref in parser.samples),
        *(st.just(load(ref)) for ref in parser.samples),
        JSON,
    )


# -- tests --------------------------------------------------------------------------------------


def test_every_parser_is_fuzzed() -> None:
    """Every ``parse_*`` of the provider modules (and of their ``<provider>_*`` sibling modules,
    e.g. ``binance_spot``) and every stream ``parse_frame`` is in the table."""
    package = Path(importlib.import_module("bot.providers").__file__ or "").parent
    names = {m.__name__.rsplit(".", 1)[-1] for m in PROVIDER_MODULES}
    stems = {p.stem for p in package.glob("*.py")} - {"__init__", "http", "parsing"}
    owner = {s: next((n for n in names if s == n or s.startswith(n + "_")), s) for s in stems}
    found = set()
    modules = [(importlib.import_module(f"bot.providers.{s}"), owner[s]) for s in sorted(stems)]
    modules += [(m, m.__name__.rsplit(".", 1)[-1] + "_ws") for m in STREAM_MODULES]
    for module, prefix in modules:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.startswith("parse_") and fn.__module__ == module.__name__:
                found.add(f"{prefix}.{name}")
    assert found == set(BY_NAME)
    # the provider packages hold no other parser modules
    assert set(owner.values()) == names


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.name)
def test_recorded_samples_parse_to_records(parser: Parser) -> None:
    """The unmutated samples give records: the fuzzer starts from payloads that reach the
    conversion code (registry ids right), not from ones skipped at the first lookup."""
    for ref in parser.samples:
        results = [parser.call(load(ref), options) for options in _option_examples(parser)]
        assert any(list(records(r)) or (isinstance(r, dict) and r) for r in results), ref
        assert all(problems(parser, r) == [] for r in results), ref


def _option_examples(parser: Parser) -> list[Any]:
    examples: dict[str, list[Any]] = {
        "binance.parse_ticker_24h": ["spot", "perp"],
        "binance.parse_klines": [(REGISTRY.get("BTC"), "spot", "1d", None)],
        "binance.parse_premium_index": [None, 4.0],
        "binance.parse_funding_history": [(REGISTRY.get("BTC"), 8.0)],
        "binance.parse_top_trader_ratio": [
            (REGISTRY.get("BTC"), "position"),
            (REGISTRY.get("BTC"), "account"),
        ],
        "bybit.parse_kline": [(REGISTRY.get("PEPE"), "1h", None)],
        "okx.parse_candles": [(REGISTRY.get("BTC"), "1d", False)],
        "yahoo.parse_chart": ["1d", "1h"],
        "instruments.parse_binance_info": ["binance_spot", "binance_perp"],
    }
    return examples.get(parser.name, [REGISTRY.get("BTC")])


@pytest.mark.parametrize("parser", PARSERS, ids=lambda p: p.name)
def test_fuzzed_payloads_give_a_result_or_a_validation_error(parser: Parser) -> None:
    @FUZZ
    @given(body=payloads(parser), options=parser.options)
    def run(body: Any, options: Any) -> None:
        check(parser, body, options)

    run()


# -- the real crashes, one minimal example each -------------------------------------------------


def _binance_ticker(close_time: Any) -> list[dict[str, Any]]:
    row = sample("samples/binance-usdm/ticker-24hr.json")
    return [{**row, "closeTime": close_time}]


@pytest.mark.parametrize("close_time", [10**17, 10**20], ids=["year-3170843", "eoverflow"])
def test_rest_parser_rejects_an_out_of_range_timestamp(close_time: int) -> None:
    # a venue timestamp in ns or garbage: should be a BadPayload (collector records it), not a crash
    with pytest.raises(ProviderError):
        binance.parse_ticker_24h(_binance_ticker(close_time), REGISTRY, "perp")


def test_coingecko_global_rejects_an_out_of_range_updated_at() -> None:
    body = sample("samples/coingecko/global.json")
    body["data"]["updated_at"] = 10**17
    with pytest.raises(ProviderError):
        coingecko.parse_global(body)


def test_stream_frame_with_an_out_of_range_time_keeps_its_good_rows() -> None:
    # one bad row must not cost the frame its good rows, and parse_frame must not raise
    frame = sample("ws/bybit-v5/ws-all-liquidation.json")
    good = frame["data"][0]
    frame["data"] = [{**good, "T": 10**20}, good]
    assert len(bybit_ws.parse_frame(frame, REGISTRY)) == 1


@pytest.mark.parametrize("parser", ["binance_ws.parse_frame", "okx_ws.parse_frame"])
def test_stream_parsers_never_raise_on_an_out_of_range_time(parser: str) -> None:
    if parser.startswith("binance"):
        frame = sample("ws/binance-usdm/ws-force-order-arr.json")
        frame["o"]["T"] = 10**20
    else:
        frame = sample("ws/okx-v5/ws-liquidation-orders.json")
        frame["data"][0]["details"][0]["ts"] = "1" + "0" * 25
    assert BY_NAME[parser].call(frame, None) == []


@pytest.mark.parametrize("close", ["NaN", "Infinity"])
def test_yahoo_nonfinite_close_is_dropped_or_bad_payload(close: str) -> None:
    text = '{"chart": {"result": [{"timestamp": [1740049420], "indicators": {"quote": [{"close": [X]}]}}]}}'
    body = json.loads(text.replace("X", close))  # as httpx's response.json() decodes it
    try:
        points = yahoo.parse_chart(body, "spx", "^GSPC", "1d")
    except ProviderError:
        return
    assert points == []


@pytest.mark.parametrize(
    ("parser", "body"),
    [
        ("okx.parse_contract_values", {"code": "0", "data": [{"instId": "BTC-USDT-SWAP", "ctVal": "NaN"}]}),
        ("okx.parse_contract_values", {"code": "0", "data": [{"instId": "BTC-USDT-SWAP", "ctVal": "inf"}]}),
        ("binance.parse_funding_info", [{"symbol": "BTCUSDT", "fundingIntervalHours": -4}]),
        ("binance.parse_funding_info", [{"symbol": "BTCUSDT", "fundingIntervalHours": 0}]),
    ],
)
def test_mappings_hold_only_finite_positive_numbers(parser: str, body: Any) -> None:
    try:
        result = BY_NAME[parser].call(body, None)
    except ProviderError:
        return
    assert problems(BY_NAME[parser], result) == []
