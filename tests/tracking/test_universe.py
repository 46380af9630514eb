"""Choosing the top N that trade on the venues: stablecoins, wrapped and staked tokens, excluded
coins and coins on no venue are left out; multiplied contracts map to the coin with their
multiplier; the registry file corrects, it does not list."""

from __future__ import annotations

from typing import Any

import pytest

from bot.coins import CoinRegistry
from bot.providers.instruments import (
    Listing,
    RankedCoin,
    parse_binance_info,
    parse_bybit_instruments,
    parse_okx_instruments,
    parse_ranking,
)
from bot.universe import HistoryLoading, Overrides, TrackedCoins, select_top
from tests.helpers import documented_shape


def ranked_coin(cg_id: str, symbol: str, rank: int) -> RankedCoin:
    return RankedCoin(
        id=cg_id, symbol=symbol, name=symbol.title(), rank=rank, market_cap=1e9 / rank, price=1.0
    )


def listing(venue: Any, symbol: str, base: str) -> Listing:
    return Listing(venue=venue, symbol=symbol, base=base)


@pytest.fixture(scope="module")
def ranking() -> list[RankedCoin]:
    return parse_ranking(documented_shape("coingecko/coins-markets-ranking.json"))


@pytest.fixture(scope="module")
def listings() -> list[Listing]:
    return [
        *parse_binance_info(documented_shape("binance-spot/exchange-info.json"), "binance_spot", "s"),
        *parse_binance_info(documented_shape("binance-usdm/exchange-info.json"), "binance_perp", "f"),
        *parse_bybit_instruments(documented_shape("bybit-v5/instruments-info-linear.json"))[0],
        *parse_okx_instruments(documented_shape("okx-v5/public-instruments-swap.json")),
    ]


def test_top_n_skips_stablecoins_wrapped_excluded_and_unlisted(
    ranking: list[RankedCoin], listings: list[Listing]
) -> None:
    chosen = select_top(ranking, listings, Overrides.load(), size=13)
    assert [c.symbol for c in chosen.coins] == [
        "BTC", "ETH", "XRP", "BNB", "SOL", "TRX", "DOGE", "HYPE", "SHIB", "PEPE", "BONK", "1INCH", "BABYDOGE",
    ]  # fmt: skip
    assert chosen.skipped == {
        "USDT": "stablecoin",
        "USDC": "stablecoin",
        "STETH": "wrapped, staked or bridged token",
        "WBTC": "wrapped, staked or bridged token",  # on Binance spot, still not a coin of its own
        "LEO": "not listed on Binance, Bybit or OKX",
        "USDE": "stablecoin",
        "DAI": "excluded in the registry",
        "PAXG": "excluded in the registry",  # trades on Binance spot
    }


def test_size_cuts_after_the_coins_that_qualify(ranking: list[RankedCoin], listings: list[Listing]) -> None:
    chosen = select_top(ranking, listings, Overrides.load(), size=3)
    assert [c.symbol for c in chosen.coins] == ["BTC", "ETH", "XRP"]
    assert "LUNA" not in {c.symbol for c in select_top(ranking, listings, Overrides.load(), size=100).coins}


def test_multiplied_contracts_map_to_the_coin(ranking: list[RankedCoin], listings: list[Listing]) -> None:
    coins = {c.symbol: c for c in select_top(ranking, listings, Overrides(), size=50).coins}
    pepe = coins["PEPE"]
    assert (pepe.binance_spot, pepe.binance_perp, pepe.bybit, pepe.okx) == (
        "PEPEUSDT",
        "1000PEPEUSDT",
        "1000PEPEUSDT",
        "PEPE-USDT-SWAP",  # OKX prices per PEPE; its contract size is ctVal
    )
    assert pepe.perp_multiplier == 1000
    shib = coins["SHIB"]
    assert (shib.binance_perp, shib.bybit, shib.perp_multiplier) == ("1000SHIBUSDT", "SHIB1000USDT", 1000)
    baby = coins["BABYDOGE"]
    assert (baby.binance_spot, baby.binance_perp, baby.bybit, baby.perp_multiplier) == (
        "",
        "1MBABYDOGEUSDT",
        "",
        1_000_000,
    )
    inch = coins["1INCH"]  # a name starting with a digit is not a multiplier
    assert (inch.binance_perp, inch.perp_multiplier) == ("1INCHUSDT", 1)
    btc = coins["BTC"]
    assert (btc.binance_spot, btc.binance_perp, btc.bybit, btc.okx, btc.perp_multiplier) == (
        "BTCUSDT",
        "BTCUSDT",
        "BTCUSDT",
        "BTC-USDT-SWAP",
        1,
    )


def test_a_bybit_contract_on_another_multiplier_is_dropped() -> None:
    ranked = [ranked_coin("floki", "FLOKI", 1)]
    listings = [listing("binance_perp", "1000FLOKIUSDT", "1000FLOKI"), listing("bybit", "FLOKIUSDT", "FLOKI")]
    [floki] = select_top(ranked, listings, Overrides(), size=1).coins
    assert (floki.binance_perp, floki.bybit, floki.perp_multiplier) == ("1000FLOKIUSDT", "", 1000)


def test_registry_rows_correct_only_what_they_write(
    ranking: list[RankedCoin], listings: list[Listing]
) -> None:
    overrides = Overrides(
        rows={
            "hyperliquid": {"coingecko": "hyperliquid", "symbol": "HYPE", "name": "Hyperliquid", "okx": ""}
        },
    )
    coins = {c.symbol: c for c in select_top(ranking, listings, overrides, size=50).coins}
    assert coins["HYPE"].okx == ""
    assert coins["HYPE"].binance_perp == "HYPEUSDT"  # not written: discovered


def test_coins_always_tracked_follow_the_top_n(ranking: list[RankedCoin], listings: list[Listing]) -> None:
    registry = CoinRegistry.load()
    chosen = select_top(
        ranking, listings, Overrides.load(), size=2, always=[registry.get("ETH"), registry.get("INJ")]
    )
    assert [c.symbol for c in chosen.coins] == ["BTC", "ETH", "INJ"]


def test_a_symbol_ranked_twice_goes_to_the_higher_cap() -> None:
    ranked = [ranked_coin("a", "ABC", 1), ranked_coin("b", "ABC", 2)]
    [coin] = select_top(ranked, [listing("binance_spot", "ABCUSDT", "ABC")], Overrides(), size=5).coins
    assert coin.coingecko == "a"


def test_tracked_coins_answer_only_what_has_its_history() -> None:
    tracked = TrackedCoins(["BTC"], follows_market=True)
    tracked.replace(["BTC", "SOL"], [HistoryLoading("SOL", ("binance", "bybit", "okx"), ("binance",))])
    assert tracked.symbols == ["BTC", "SOL"]
    assert tracked.ready == ["BTC"]
    tracked.progress(HistoryLoading("SOL", ("binance", "bybit", "okx"), ("binance", "bybit", "okx")))
    assert tracked.ready == ["BTC", "SOL"]
    assert tracked.loading("SOL") is None


def test_extra_coins_per_owner() -> None:
    tracked = TrackedCoins(["BTC"])
    tracked.set_extra("guild:1", ["inj", "sol"])
    tracked.set_extra("guild:2", ["SOL"])
    tracked.set_extra("guild:1", ["INJ"])
    assert tracked.extra() == ["INJ", "SOL"]
