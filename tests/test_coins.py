from __future__ import annotations

import pytest

from bot.coins import CoinRegistry, UnknownCoin


@pytest.fixture(scope="module")
def registry() -> CoinRegistry:
    return CoinRegistry.load()


def test_registry_has_top_coins_with_every_venue(registry: CoinRegistry) -> None:
    assert len(registry) >= 50
    btc = registry.get("BTC")
    assert (btc.binance_spot, btc.binance_perp, btc.bybit, btc.okx, btc.coingecko) == (
        "BTCUSDT",
        "BTCUSDT",
        "BTCUSDT",
        "BTC-USDT-SWAP",
        "bitcoin",
    )


@pytest.mark.parametrize(
    "text", ["btc", "$BTC", "Bitcoin", "BTCUSDT", "xbt", " btc ", "BTC-USDT-SWAP", "btc/usdt", "#btc"]
)
def test_user_input_normalises_to_btc(registry: CoinRegistry, text: str) -> None:
    assert registry.resolve(text).symbol == "BTC"


def test_venue_ids_map_back(registry: CoinRegistry) -> None:
    assert registry.by_venue("binance_perp", "1000PEPEUSDT").symbol == "PEPE"  # type: ignore[union-attr]
    assert registry.by_venue("bybit", "SHIB1000USDT").symbol == "SHIB"  # type: ignore[union-attr]
    assert registry.by_venue("okx", "SOL-USDT-SWAP").symbol == "SOL"  # type: ignore[union-attr]
    assert registry.by_venue("coingecko", "ripple").symbol == "XRP"  # type: ignore[union-attr]
    assert registry.by_venue("binance_spot", "NOPEUSDT") is None


@pytest.mark.parametrize(
    ("typo", "first"), [("btcc", "BTC"), ("etherium", "ETH"), ("solanna", "SOL"), ("dogge", "DOGE")]
)
def test_unknown_input_gets_closest_matches(registry: CoinRegistry, typo: str, first: str) -> None:
    with pytest.raises(UnknownCoin) as err:
        registry.resolve(typo)
    assert err.value.suggestions[0] == first
    assert f"did you mean {first}" in str(err.value)


def test_garbage_gets_no_crash(registry: CoinRegistry) -> None:
    for text in ["", "   ", "$", "🚀🚀", "a" * 500, "\x00"]:
        with pytest.raises(UnknownCoin):
            registry.resolve(text)


def test_autocomplete_puts_tracked_first(registry: CoinRegistry) -> None:
    got = [c.symbol for c in registry.autocomplete("s", ["BTC", "SUI", "SOL"])]
    assert got[:2] == ["SUI", "SOL"]
    assert [c.symbol for c in registry.autocomplete("", ["BTC", "SOL"])] == ["BTC", "SOL"]
