"""The pure per-venue liquidation parsers, against the documented sample frames and variants."""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.coins import CoinRegistry
from bot.settings import BinanceSettings
from bot.streams import binance, bybit, okx
from bot.streams.adapter import StreamConfig
from bot.streams.dedupe import RecentIds
from bot.streams.frames import ms_field, to_float

from .conftest import load_frame

BINANCE_SAMPLE = "binance-usdm/ws-force-order-arr.json"
BYBIT_SAMPLE = "bybit-v5/ws-all-liquidation.json"
OKX_SAMPLE = "okx-v5/ws-liquidation-orders.json"

IOST_CT_VAL = {"IOST-USDT-SWAP": 1000.0}

JUNK: list[Any] = [
    None,
    0,
    "text",
    [],
    {},
    {"result": None, "id": 1},
    {"op": "ping"},
    {"event": "subscribe", "arg": {"channel": "liquidation-orders", "instType": "SWAP"}, "connId": "a"},
    {"success": True, "ret_msg": "pong", "conn_id": "x", "op": "ping"},
]


def binance_frame(**order: Any) -> dict[str, Any]:
    frame: dict[str, Any] = copy.deepcopy(load_frame(BINANCE_SAMPLE))
    frame["o"].update(order)
    return frame


def bybit_frame(**row: Any) -> dict[str, Any]:
    frame: dict[str, Any] = copy.deepcopy(load_frame(BYBIT_SAMPLE))
    frame["data"][0].update(row)
    if "s" in row:
        frame["topic"] = f"allLiquidation.{row['s']}"
    return frame


def okx_frame(inst_id: str = "IOST-USDT-SWAP", **detail: Any) -> dict[str, Any]:
    frame: dict[str, Any] = copy.deepcopy(load_frame(OKX_SAMPLE))
    frame["data"][0]["instId"] = inst_id
    frame["data"][0]["details"][0].update(detail)
    return frame


# -- Binance ---------------------------------------------------------------------------------


def test_binance_sample(registry: CoinRegistry) -> None:
    [event] = binance.parse_frame(load_frame(BINANCE_SAMPLE), registry)
    assert event.venue == "binance"
    assert event.coin == "BTC"
    assert event.side == "long"  # o.S SELL: the liquidation order sold, a long was closed
    assert event.qty == pytest.approx(0.014, rel=1e-12)
    assert event.price == pytest.approx(9910.0, rel=1e-12)
    assert event.usd == pytest.approx(0.014 * 9910, rel=1e-12)
    assert event.usd == pytest.approx(138.74, rel=1e-12)
    assert event.ts == datetime(2019, 9, 9, 7, 34, 20, 893000, tzinfo=UTC)
    assert event.event_id == "BTCUSDT:1568014460893:SELL:0.014:9910"


def test_binance_buy_is_a_short_liquidation(registry: CoinRegistry) -> None:
    [event] = binance.parse_frame(binance_frame(S="BUY"), registry)
    assert event.side == "short"


def test_binance_usd_uses_filled_qty_and_average_price(registry: CoinRegistry) -> None:
    frame = binance_frame(q="1.0", p="9000", z="0.5", ap="9500", X="PARTIALLY_FILLED")
    [event] = binance.parse_frame(frame, registry)
    assert event.qty == 0.5
    assert event.price == 9500.0
    assert event.usd == pytest.approx(4750.0)


def test_binance_1000_multiplier(registry: CoinRegistry) -> None:
    frame = binance_frame(s="1000PEPEUSDT", z="120000", ap="0.0125")
    [event] = binance.parse_frame(frame, registry)
    assert event.coin == "PEPE"
    assert event.qty == pytest.approx(120_000_000.0)  # PEPE, not 1000-PEPE units
    assert event.price == pytest.approx(0.0000125)  # per PEPE
    assert event.usd == pytest.approx(1500.0)
    assert event.usd == pytest.approx(event.qty * event.price)


def test_binance_wrappers_and_lists(registry: CoinRegistry) -> None:
    sample = load_frame(BINANCE_SAMPLE)
    assert len(binance.parse_frame({"stream": "!forceOrder@arr", "data": sample}, registry)) == 1
    assert len(binance.parse_frame([sample, binance_frame(S="BUY")], registry)) == 2


def test_binance_event_id_is_deterministic_and_distinguishes(registry: CoinRegistry) -> None:
    first = binance.parse_frame(load_frame(BINANCE_SAMPLE), registry)[0].event_id
    again = binance.parse_frame(json.loads(json.dumps(load_frame(BINANCE_SAMPLE))), registry)[0].event_id
    assert first == again
    others = {
        binance.parse_frame(binance_frame(**change), registry)[0].event_id
        for change in ({"S": "BUY"}, {"T": 1568014460894}, {"z": "0.015"}, {"ap": "9911"}, {"s": "ETHUSDT"})
    }
    assert first not in others
    assert len(others) == 5


@pytest.mark.parametrize(
    "order",
    [
        {"S": "HOLD"},
        {"z": "abc"},
        {"ap": "0"},
        {"ap": "NaN"},
        {"T": "yesterday"},
        {"s": 5},
        {"z": None},
    ],
)
def test_binance_malformed_orders_are_skipped(
    registry: CoinRegistry, order: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.streams.binance")
    assert binance.parse_frame(binance_frame(**order), registry) == []
    assert "malformed forceOrder" in caplog.text


def test_binance_skips_unfilled_untracked_and_junk(registry: CoinRegistry) -> None:
    assert binance.parse_frame(binance_frame(z="0"), registry) == []
    assert binance.parse_frame(binance_frame(s="DOGEUSDT"), registry) == []
    assert binance.parse_frame({"e": "forceOrder", "o": "nope"}, registry) == []
    assert binance.parse_frame({"e": "forceOrder"}, registry) == []
    for junk in JUNK:
        assert binance.parse_frame(junk, registry) == []


def test_binance_stream_url() -> None:
    assert binance.stream_url(BinanceSettings()) == "wss://fstream.binance.com/market/ws/!forceOrder@arr"
    assert binance.DEFAULT_CONFIG.max_connection_age is not None
    assert binance.DEFAULT_CONFIG.max_connection_age < 24 * 3600
    assert binance.DEFAULT_CONFIG.ping_interval is None


# -- Bybit -----------------------------------------------------------------------------------


def test_bybit_sample(registry: CoinRegistry) -> None:
    [event] = bybit.parse_frame(load_frame(BYBIT_SAMPLE), registry)
    assert event.venue == "bybit"
    assert event.coin == "ROSE"
    assert event.side == "short"  # S "Sell" on Bybit = a short position was liquidated
    assert event.qty == 20000.0
    assert event.price == 0.04499
    assert event.usd == pytest.approx(899.8, rel=1e-12)
    assert event.ts == datetime(2025, 2, 14, 3, 5, 2, 929000, tzinfo=UTC)
    assert event.event_id == "ROSEUSDT:1739502302929:Sell:20000:0.04499"


def test_bybit_buy_is_a_long_liquidation_opposite_to_binance(registry: CoinRegistry) -> None:
    [bybit_buy] = bybit.parse_frame(bybit_frame(S="Buy"), registry)
    [binance_buy] = binance.parse_frame(binance_frame(S="BUY"), registry)
    assert bybit_buy.side == "long"
    assert binance_buy.side == "short"


def test_bybit_multiplier_and_several_rows(registry: CoinRegistry) -> None:
    frame = bybit_frame(s="1000PEPEUSDT", v="2000", p="0.01")
    frame["data"].append({"T": 1739502302930, "s": "1000PEPEUSDT", "S": "Buy", "v": "10", "p": "0.011"})
    first, second = bybit.parse_frame(frame, registry)
    assert (first.coin, first.side, first.qty, first.price) == ("PEPE", "short", 2_000_000.0, 0.00001)
    assert first.usd == pytest.approx(20.0)
    assert (second.side, second.qty) == ("long", 10_000.0)
    assert second.usd == pytest.approx(0.11)
    assert first.event_id != second.event_id


def test_bybit_skips_bad_rows_but_keeps_good_ones(registry: CoinRegistry) -> None:
    frame = bybit_frame()
    frame["data"] += [
        {"T": 1, "s": "ROSEUSDT", "S": "Sideways", "v": "1", "p": "1"},
        {"T": 1739502302931, "s": "ROSEUSDT", "S": "Buy", "v": "-3", "p": "1"},
        {"s": "ROSEUSDT"},
        "row",
        {"T": 1739502302932, "s": "XYZUSDT", "S": "Buy", "v": "1", "p": "1"},
    ]
    assert [e.qty for e in bybit.parse_frame(frame, registry)] == [20000.0]


def test_bybit_junk_and_rejections(registry: CoinRegistry, caplog: pytest.LogCaptureFixture) -> None:
    for junk in JUNK:
        assert bybit.parse_frame(junk, registry) == []
    assert bybit.parse_frame({"topic": "allLiquidation.ROSEUSDT", "data": "x"}, registry) == []
    assert bybit.parse_frame({"topic": "tickers.BTCUSDT", "data": {}}, registry) == []
    with caplog.at_level(logging.WARNING, logger="bot.streams.bybit"):
        rejected = {"success": False, "ret_msg": "Invalid symbol", "op": "subscribe", "conn_id": "c"}
        assert bybit.parse_frame(rejected, registry) == []
    assert "Invalid symbol" in caplog.text


def test_bybit_topics_and_subscribe_chunks(registry: CoinRegistry) -> None:
    topics = bybit.topics(registry)
    assert "allLiquidation.SHIB1000USDT" in topics
    assert "allLiquidation.1000PEPEUSDT" in topics
    assert len(topics) == 6
    many = [f"allLiquidation.C{i}USDT" for i in range(23)]
    messages = [json.loads(m) for m in bybit.subscribe_messages(many)]
    assert [len(m["args"]) for m in messages] == [10, 10, 3]
    assert all(m["op"] == "subscribe" for m in messages)
    assert [a for m in messages for a in m["args"]] == many
    assert bybit.subscribe_messages([]) == []
    assert json.loads(bybit.PING) == {"op": "ping"}


# -- OKX -------------------------------------------------------------------------------------


def test_okx_sample_contract_value_math(registry: CoinRegistry) -> None:
    [event] = okx.parse_frame(load_frame(OKX_SAMPLE), registry, IOST_CT_VAL)
    assert event.venue == "okx"
    assert event.coin == "IOST"
    assert event.side == "short"  # posSide short (hedge mode), side buy
    assert event.qty == pytest.approx(13 * 1000.0)  # 13 contracts x 1000 IOST
    assert event.price == 0.007831
    assert event.usd == pytest.approx(13 * 1000 * 0.007831, rel=1e-12)
    assert event.usd == pytest.approx(101.803, rel=1e-12)
    assert event.ts == datetime(2023, 8, 17, 10, 0, 34, 10000, tzinfo=UTC)
    assert event.event_id == "IOST-USDT-SWAP:1692266434010:buy:short:13:0.007831"


@pytest.mark.parametrize(
    ("side", "pos_side", "liquidated"),
    [
        ("sell", "long", "long"),
        ("buy", "short", "short"),
        ("sell", "net", "long"),
        ("buy", "net", "short"),
        ("sell", "", "long"),
    ],
)
def test_okx_sides(registry: CoinRegistry, side: str, pos_side: str, liquidated: str) -> None:
    [event] = okx.parse_frame(okx_frame(side=side, posSide=pos_side), registry, IOST_CT_VAL)
    assert event.side == liquidated


def test_okx_fractional_contract_value(registry: CoinRegistry) -> None:
    frame = okx_frame("BTC-USDT-SWAP", sz="250", bkPx="60000", side="sell", posSide="long")
    [event] = okx.parse_frame(frame, registry, {"BTC-USDT-SWAP": 0.01})
    assert event.qty == pytest.approx(2.5)
    assert event.usd == pytest.approx(150_000.0)


def test_okx_several_rows_and_details(registry: CoinRegistry) -> None:
    frame = okx_frame()
    frame["data"][0]["details"].append(
        {"bkLoss": "0", "bkPx": "0.0078", "ccy": "", "posSide": "net", "side": "sell", "sz": "2",
         "ts": "1692266434011"}
    )  # fmt: skip
    frame["data"].append(
        {"instId": "ETH-USDT-SWAP", "instType": "SWAP", "details": [
            {"bkPx": "3000", "posSide": "long", "side": "sell", "sz": "5", "ts": "1692266434012"}]}
    )  # fmt: skip
    events = okx.parse_frame(frame, registry, {**IOST_CT_VAL, "ETH-USDT-SWAP": 0.1})
    assert [(e.coin, e.side, e.qty) for e in events] == [
        ("IOST", "short", 13000.0),
        ("IOST", "long", 2000.0),
        ("ETH", "long", pytest.approx(0.5)),
    ]
    assert len({e.event_id for e in events}) == 3


def test_okx_unknown_instrument_or_missing_ct_val_skips(
    registry: CoinRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.streams.okx")
    assert okx.parse_frame(okx_frame("FOO-USDT-SWAP"), registry, {"FOO-USDT-SWAP": 1.0}) == []
    assert "untracked instrument FOO-USDT-SWAP" in caplog.text
    assert okx.parse_frame(okx_frame("ROSE-USDT-SWAP"), registry, IOST_CT_VAL) == []
    assert "no contract value for ROSE-USDT-SWAP" in caplog.text


@pytest.mark.parametrize(
    "detail",
    [{"side": "hold", "posSide": "net"}, {"sz": "x"}, {"bkPx": "0"}, {"ts": ""}, {"sz": "-1"}],
)
def test_okx_malformed_details_are_skipped(registry: CoinRegistry, detail: dict[str, Any]) -> None:
    assert okx.parse_frame(okx_frame(**detail), registry, IOST_CT_VAL) == []


def test_okx_junk_and_events(registry: CoinRegistry, caplog: pytest.LogCaptureFixture) -> None:
    for junk in JUNK:
        assert okx.parse_frame(junk, registry, IOST_CT_VAL) == []
    bad = [
        {"arg": {"channel": "liquidation-orders"}, "data": "x"},
        {"arg": {"channel": "liquidation-orders"}, "data": ["x", {"instId": 3}]},
        {"arg": {"channel": "liquidation-orders"}, "data": [{"instId": "IOST-USDT-SWAP", "details": 1}]},
        {"arg": {"channel": "tickers"}, "data": []},
    ]
    for frame in bad:
        assert okx.parse_frame(frame, registry, IOST_CT_VAL) == []
    with caplog.at_level(logging.WARNING, logger="bot.streams.okx"):
        error = {"event": "error", "code": "60012", "msg": "Invalid request", "connId": "a"}
        assert okx.parse_frame(error, registry, IOST_CT_VAL) == []
    assert "60012" in caplog.text


def test_okx_subscribe_and_ping() -> None:
    adapter = okx.OkxLiquidations("wss://example.invalid/ws/v5/public", CoinRegistry([]), {})
    assert [json.loads(m) for m in adapter.subscribe_messages()] == [
        {"op": "subscribe", "args": [{"channel": "liquidation-orders", "instType": "SWAP"}]}
    ]
    assert adapter.ping_payload == "ping"
    assert adapter.ping_when_idle
    assert adapter.is_pong("pong")
    assert not adapter.is_pong('{"event":"pong"}')


# -- shared helpers --------------------------------------------------------------------------


def test_number_helpers() -> None:
    assert to_float("1.5") == 1.5
    assert to_float(2) == 2.0
    assert ms_field("1692266434010") == 1692266434010
    assert ms_field(1568014460893) == 1568014460893
    bad: Any
    for bad in (True, None, "inf", "nan", [], "x"):
        with pytest.raises(ValueError, match=r"not a number|not finite|could not convert"):
            to_float(bad)
    for bad in ("", "1.5", 0, -5, 1.5):
        with pytest.raises(ValueError, match=r"not a ms timestamp|could not convert"):
            ms_field(bad)


def test_recent_ids_forgets_oldest() -> None:
    ids = RecentIds(2)
    assert ids.add("a")
    assert ids.add("b")
    assert not ids.add("a")  # refreshes "a"
    assert ids.add("c")  # evicts "b", the least recently seen
    assert "a" in ids
    assert "b" not in ids
    assert len(ids) == 2


def test_stream_config_validation() -> None:
    with pytest.raises(ValueError, match="ping_interval"):
        StreamConfig(ping_interval=0)
    with pytest.raises(ValueError, match="backoff_jitter"):
        StreamConfig(backoff_jitter=2)
    with pytest.raises(ValueError, match="flush_max_events"):
        StreamConfig(flush_max_events=0)
