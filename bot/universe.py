"""The tracked set that follows the market: the top N coins by market cap that trade on the
venues, chosen from CoinGecko's ranking and the venues' instrument lists, plus the coins the
config always tracks and any a caller adds (a server's shortlist).

Pure choice here (no I/O): :func:`select_top` takes what :mod:`bot.providers.instruments`
fetched and the registry file's overrides and returns :class:`bot.coins.Coin` rows with each
venue's id and the perp multiplier. :class:`TrackedCoins` is the set in memory that the
collectors and the commands read, with each new coin's history backfill progress.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Protocol

from bot.coins import DEFAULT_REGISTRY, Coin

# Venue bases that quote a multiple of the coin: (prefix, suffix, multiplier), tried in order
# after the plain symbol (1000PEPE on Binance/Bybit, SHIB1000 on Bybit, 1MBABYDOGE on Binance,
# kPEPE-style on others).
MULTIPLIED: tuple[tuple[str, str, float], ...] = (
    ("1000", "", 1_000.0),
    ("", "1000", 1_000.0),
    ("10000", "", 10_000.0),
    ("1000000", "", 1_000_000.0),
    ("1M", "", 1_000_000.0),
    ("k", "", 1_000.0),
)
_NOT_A_COIN = re.compile(r"\b(wrapped|staked|restaked|bridged|liquid staking|tokenized)\b", re.IGNORECASE)
_STABLE = re.compile(r"USD")  # USDT, USDC, USDE, FDUSD, PYUSD, USD1 …


class _Listing(Protocol):
    @property
    def venue(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def base(self) -> str: ...


class _Ranked(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def symbol(self) -> str: ...
    @property
    def name(self) -> str: ...


@dataclass(frozen=True)
class Overrides:
    """The registry file's corrections: rows by CoinGecko id (only the keys written count) and
    exclusions (CoinGecko ids or symbols)."""

    rows: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    exclude: frozenset[str] = frozenset()

    @classmethod
    def load(cls, path: Path = DEFAULT_REGISTRY) -> Overrides:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
        rows = {row["coingecko"]: row for row in data.get("coin", [])}
        excluded = data.get("exclude", {})
        names = [*excluded.get("coingecko", []), *(s.upper() for s in excluded.get("symbols", []))]
        return cls(rows, frozenset(names))


@dataclass(frozen=True)
class Selection:
    coins: list[Coin]  # the top N in market-cap order, then the coins always tracked
    skipped: dict[str, str]  # symbol → why a higher-ranked coin is not in (stablecoin, not listed…)


def index_listings(listings: Iterable[_Listing]) -> dict[str, dict[str, str]]:
    """venue → base as the venue writes it → the venue's symbol."""
    out: dict[str, dict[str, str]] = {}
    for item in listings:
        out.setdefault(item.venue, {}).setdefault(item.base, item.symbol)
    return out


def find_listing(symbol: str, bases: Mapping[str, str], *, multiplied: bool) -> tuple[str, float] | None:
    """The venue symbol for ``symbol`` and how many coins one unit of its price is: the plain
    base first, then the multiplied forms (``1000PEPE`` → 1000)."""
    if symbol in bases:
        return bases[symbol], 1.0
    if multiplied:
        for prefix, suffix, times in MULTIPLIED:
            if f"{prefix}{symbol}{suffix}" in bases:
                return bases[f"{prefix}{symbol}{suffix}"], times
    return None


def excluded_reason(coin: _Ranked, overrides: Overrides) -> str | None:
    if coin.id in overrides.exclude or coin.symbol in overrides.exclude:
        return "excluded in the registry"
    if _STABLE.search(coin.symbol):
        return "stablecoin"
    if _NOT_A_COIN.search(coin.name):
        return "wrapped, staked or bridged token"
    return None


def build_coin(
    ranked: _Ranked, venues: Mapping[str, Mapping[str, str]], override: Mapping[str, Any]
) -> Coin | None:
    """The coin with each venue's id, or None when no venue lists it. A perp quoted per 1,000
    coins on one venue and per coin on another cannot share the one multiplier a coin has:
    the Binance contract is kept, the Bybit one dropped."""
    symbol = str(override.get("symbol", ranked.symbol))
    spot = find_listing(symbol, venues.get("binance_spot", {}), multiplied=False)
    perp = find_listing(symbol, venues.get("binance_perp", {}), multiplied=True)
    bybit = find_listing(symbol, venues.get("bybit", {}), multiplied=True)
    okx = find_listing(symbol, venues.get("okx", {}), multiplied=False)
    multiplier = perp[1] if perp else bybit[1] if bybit else 1.0
    if bybit and bybit[1] != multiplier:
        bybit = None
    coin = Coin(
        symbol=symbol,
        name=str(override.get("name", ranked.name)),
        coingecko=ranked.id,
        binance_spot=spot[0] if spot else "",
        binance_perp=perp[0] if perp else "",
        bybit=bybit[0] if bybit else "",
        okx=okx[0] if okx else "",
        perp_multiplier=multiplier,
        aliases=tuple(override.get("aliases", ())),
    )
    explicit = {k: override[k] for k in ("binance_spot", "binance_perp", "bybit", "okx") if k in override}
    if "perp_multiplier" in override:
        explicit["perp_multiplier"] = float(override["perp_multiplier"])
    coin = replace(coin, **explicit)
    return coin if listed(coin) else None


def listed(coin: Coin) -> bool:
    return bool(coin.binance_spot or coin.binance_perp or coin.bybit or coin.okx)


def select_top(
    ranking: Sequence[_Ranked],
    listings: Iterable[_Listing],
    overrides: Overrides,
    size: int,
    always: Sequence[Coin] = (),
) -> Selection:
    """The ``size`` highest-ranked coins that trade on a venue and are not stablecoins, wrapped
    tokens or excluded, then the ``always`` coins not among them. A symbol CoinGecko ranks twice
    goes to the higher-ranked coin."""
    venues = index_listings(listings)
    chosen: list[Coin] = []
    skipped: dict[str, str] = {}
    seen: set[str] = set()
    for ranked in ranking:
        if len(chosen) >= size:
            break
        override = overrides.rows.get(ranked.id, {})
        symbol = str(override.get("symbol", ranked.symbol))
        if symbol in seen:
            continue
        seen.add(symbol)
        why = excluded_reason(ranked, overrides)
        coin = None if why else build_coin(ranked, venues, override)
        if coin is None:
            skipped[symbol] = why or "not listed on Binance, Bybit or OKX"
            continue
        chosen.append(coin)
    have = {c.symbol for c in chosen}
    return Selection([*chosen, *(c for c in always if c.symbol not in have)], skipped)


@dataclass(frozen=True)
class HistoryLoading:
    """A newly tracked coin whose history is still being fetched: the venues it comes from
    and those done."""

    symbol: str
    venues: tuple[str, ...]
    done: tuple[str, ...] = ()

    @property
    def complete(self) -> bool:
        return set(self.venues) <= set(self.done)


class TrackedCoins:
    """The tracked set in memory: every coin the collectors fetch (:attr:`symbols`), those the
    commands answer for (:attr:`ready`: not still loading history), and extra coins asked for
    by others (a server's shortlist) through :meth:`set_extra`.

    Replaced whole on each change, so a reader in another thread sees one set or the other."""

    def __init__(self, symbols: Sequence[str], *, follows_market: bool = False) -> None:
        self.follows_market = follows_market
        self._symbols: tuple[str, ...] = tuple(dict.fromkeys(symbols))
        self._loading: dict[str, HistoryLoading] = {}
        self._extra: dict[str, tuple[str, ...]] = {}
        self._listeners: list[Callable[[], object]] = []

    @property
    def symbols(self) -> list[str]:
        return list(self._symbols)

    @property
    def ready(self) -> list[str]:
        loading = self._loading
        return [s for s in self._symbols if s not in loading]

    def loading(self, symbol: str) -> HistoryLoading | None:
        return self._loading.get(symbol)

    @property
    def all_loading(self) -> list[HistoryLoading]:
        return list(self._loading.values())

    def replace(self, symbols: Sequence[str], loading: Iterable[HistoryLoading] = ()) -> None:
        self._symbols = tuple(dict.fromkeys(symbols))
        self._loading = {p.symbol: p for p in loading if not p.complete and p.symbol in self._symbols}
        for listener in self._listeners:
            listener()

    def progress(self, update: HistoryLoading) -> None:
        """A venue's backfill finished (or all of them: the coin is answered from now on)."""
        loading = dict(self._loading)
        if update.complete:
            loading.pop(update.symbol, None)
        elif update.symbol in self._symbols:
            loading[update.symbol] = update
        self._loading = loading

    def on_change(self, listener: Callable[[], object]) -> None:
        """Called after every :meth:`replace` (the liquidation streams follow the set)."""
        self._listeners.append(listener)

    # -- the hook for coins others want tracked ------------------------------------------

    def set_extra(self, owner: str, symbols: Iterable[str]) -> None:
        """The coins ``owner`` (e.g. ``"guild:123"``) wants tracked, replacing what it asked
        before; they are added (with their history backfilled) on the next tracking run. Not
        persisted here: the owner supplies them again at start."""
        self._extra = {**self._extra, owner: tuple(s.upper() for s in symbols)}

    def extra(self) -> list[str]:
        return list(dict.fromkeys(s for group in self._extra.values() for s in group))
