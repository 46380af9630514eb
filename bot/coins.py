"""The coin registry: one coin, its identifier on every venue, and forgiving user input.

Users type ``btc``, ``$BTC``, ``Bitcoin``, ``BTCUSDT`` or ``xbt``; venues say ``BTCUSDT``,
``BTC-USDT-SWAP`` or ``bitcoin``. Everything maps to one :class:`Coin` here, so no other module
knows a venue's naming scheme.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.settings import DEFAULT_CONFIG

# The registry sits beside the settings file (config/coins.toml).
DEFAULT_REGISTRY = DEFAULT_CONFIG.parent / "coins.toml"

_QUOTE_SUFFIX = re.compile(r"(?:[-/_ ]?(?:USDT|USDC|USD|PERP|SWAP))+$")


class UnknownCoin(ValueError):
    def __init__(self, text: str, suggestions: list[str]) -> None:
        self.text = text
        self.suggestions = suggestions
        hint = f" — did you mean {', '.join(suggestions)}?" if suggestions else ""
        super().__init__(f"unknown coin '{text}'{hint}")


@dataclass(frozen=True)
class Coin:
    symbol: str
    name: str
    coingecko: str
    binance_spot: str = ""
    binance_perp: str = ""
    bybit: str = ""
    okx: str = ""
    perp_multiplier: float = 1.0
    aliases: tuple[str, ...] = field(default=())

    def __str__(self) -> str:
        return self.symbol


def _normalise(text: str) -> str:
    cleaned = text.strip().lstrip("$#").strip().upper()
    cleaned = re.sub(r"\s+", " ", cleaned)
    return cleaned


class CoinRegistry:
    def __init__(self, coins: Iterable[Coin]) -> None:
        self.coins: dict[str, Coin] = {c.symbol: c for c in coins}
        self._index()

    def update(self, coins: Iterable[Coin]) -> None:
        """Add coins, or replace those of the same symbol (the tracked set found them on the
        venues); in place, so every holder of this registry sees them."""
        self.coins = {**self.coins, **{c.symbol: c for c in coins}}
        self._index()

    def set_coins(self, coins: Iterable[Coin]) -> None:
        """Exactly these coins from now on, in place."""
        self.coins = {c.symbol: c for c in coins}
        self._index()

    def _index(self) -> None:
        """Build the lookups aside, then swap them in: a reader never sees half an index."""
        lookup: dict[str, Coin] = {}
        # Fuzzy suggestions only over what people type (symbol, name, aliases), not venue ids.
        fuzzy: dict[str, Coin] = {}
        by_venue: dict[str, dict[str, Coin]] = {
            "binance_spot": {},
            "binance_perp": {},
            "bybit": {},
            "okx": {},
            "coingecko": {},
        }
        for coin in self.coins.values():
            keys = {
                coin.symbol,
                coin.name.upper(),
                coin.coingecko.upper(),
                *(a.upper() for a in coin.aliases),
            }
            for key in keys:
                lookup.setdefault(key, coin)
            for key in (coin.symbol, coin.name.upper(), *(a.upper() for a in coin.aliases)):
                fuzzy.setdefault(key, coin)
            for venue, index in by_venue.items():
                ident = getattr(coin, venue)
                if ident:
                    index[ident] = coin
                    lookup.setdefault(ident.upper(), coin)
        self._lookup, self._fuzzy, self._by_venue = lookup, fuzzy, by_venue

    @classmethod
    def load(cls, path: Path = DEFAULT_REGISTRY) -> CoinRegistry:
        with path.open("rb") as fh:
            rows = tomllib.load(fh)["coin"]
        coins = []
        for row in rows:
            sym = row["symbol"]
            coins.append(
                Coin(
                    symbol=sym,
                    name=row["name"],
                    coingecko=row["coingecko"],
                    binance_spot=row.get("binance_spot", f"{sym}USDT"),
                    binance_perp=row.get("binance_perp", f"{sym}USDT"),
                    bybit=row.get("bybit", f"{sym}USDT"),
                    okx=row.get("okx", f"{sym}-USDT-SWAP"),
                    perp_multiplier=float(row.get("perp_multiplier", 1)),
                    aliases=tuple(row.get("aliases", ())),
                )
            )
        return cls(coins)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self.coins

    def __len__(self) -> int:
        return len(self.coins)

    def get(self, symbol: str) -> Coin:
        return self.coins[symbol]

    def find(self, text: str) -> Coin | None:
        key = _normalise(text)
        if not key:
            return None
        if key in self._lookup:
            return self._lookup[key]
        stripped = _QUOTE_SUFFIX.sub("", key)
        if stripped and stripped in self._lookup:
            return self._lookup[stripped]
        return None

    def resolve(self, text: str, among: Collection[str] | None = None) -> Coin:
        """The coin ``text`` names; when none does, the error suggests the closest coins
        (only those in ``among``, e.g. the tracked ones, when given)."""
        coin = self.find(text)
        if coin is None:
            raise UnknownCoin(text.strip()[:40], [c.symbol for c in self.suggest(text, among=among)])
        return coin

    def suggest(self, text: str, limit: int = 3, among: Collection[str] | None = None) -> list[Coin]:
        key = _normalise(text)
        if not key:
            return []
        found: list[Coin] = []
        keys = [k for k, c in self._fuzzy.items() if among is None or c.symbol in among]
        matches = process.extract(key, keys, scorer=fuzz.WRatio, limit=limit * 4, score_cutoff=60)
        best = matches[0][1] if matches else 0.0
        for match, score, _index in matches:
            if score < best - 10:  # only the close contenders, not everything above the floor
                break
            coin = self._fuzzy[match]
            if coin not in found:
                found.append(coin)
        return found[:limit]

    def autocomplete(self, current: str, tracked: Iterable[str], limit: int = 25) -> list[Coin]:
        """Tracked coins first, then matches by prefix, then fuzzy matches."""
        tracked_coins = [self.coins[s] for s in tracked if s in self.coins]
        key = _normalise(current)
        if not key:
            return tracked_coins[:limit]
        ordered: list[Coin] = []
        for pool in (tracked_coins, list(self.coins.values())):
            for coin in pool:
                prefix = coin.symbol.startswith(key) or coin.name.upper().startswith(key)
                if prefix and coin not in ordered:
                    ordered.append(coin)
        for coin in self.suggest(current, limit=limit) if len(key) >= 3 else []:
            if coin not in ordered:
                ordered.append(coin)
        return ordered[:limit]

    def by_venue(self, venue: str, ident: str) -> Coin | None:
        """Map a venue's identifier (``binance_spot``, ``binance_perp``, ``bybit``, ``okx``,
        ``coingecko``) back to a coin."""
        return self._by_venue[venue].get(ident)
