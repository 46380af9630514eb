"""Words several answers share: venue names, the leverage regimes' phrases, price zones at one
precision, funding per 8h."""

from __future__ import annotations

from collections.abc import Sequence

from bot.analysis.findings import (
    LevelsResult,
    LevelZone,
    RegimeFinding,
)
from bot.fmt import pct, price_range, range_decimals

VENUES = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX", "coingecko": "CoinGecko", "yahoo": "Yahoo"}

REGIME_PHRASE = {
    "long liquidation cascade": "a long liquidation cascade",
    "deleveraging": "leverage unwinding",
    "short squeeze": "a short squeeze",
    "short covering": "short covering",
    "new shorts": "new shorts piling in",
    "new longs": "new longs piling in",
    "spot-led selling": "spot-led selling",
    "spot-led buying": "spot-led buying",
}
# open interest alongside forced exits: the second clause of a cascade or squeeze
OI_CLAUSE = {"new longs": "with new longs piling in", "new shorts": "with new shorts piling in"}


def regime_phrase(r: RegimeFinding, *, article: bool = True) -> str:
    """``a short squeeze, with new longs piling in``: the forced exits first, then the OI."""
    text = REGIME_PHRASE.get(r.label, r.label) if article else r.label
    if r.oi_clause is not None:
        text += ", " + OI_CLAUSE[r.oi_clause]
    return text


def venues(names: Sequence[str]) -> str:
    return "+".join(VENUES.get(n, n) for n in names) or "no venue"


def zone_range(z: LevelZone, decimals: int | None = None) -> str:
    """A zone's edges; pass the ``decimals`` of every level printed beside it
    (:func:`level_decimals`) so neighbouring zones never read the same."""
    return price_range(z.low, z.high, decimals=decimals)


def level_decimals(lv: LevelsResult) -> int:
    """One precision for every price an answer about these levels prints."""
    zones = [*lv.supports, *lv.resistances, *(b.zone for b in lv.broken)]
    zones += [z for z in (lv.next_below, lv.next_above, lv.nearest_support, lv.nearest_resistance) if z]
    if lv.at_price is not None:
        zones.append(lv.at_price)
    extra = [v for v in (lv.ma50, lv.ma200) if v]
    return range_decimals([(z.low, z.high) for z in zones], *extra)


def rate_8h_text(rate: float) -> str:
    """A funding rate given as a fraction per 8h (0.0001) → "+0.010%/8h"."""
    return f"{pct(rate * 100, digits=3)}/8h"
