"""The bot's presence line: "BTC $67.7K −1.9%" (Discord shows at most 128 characters)."""

from __future__ import annotations

from bot.fmt import pct, price_short
from bot.views.presence import PresenceQuote

MAX_CHARS = 128


def presence_text(q: PresenceQuote) -> str:
    """Price and 24h change; "(stale)" when the price is older than the stale limit, and no
    change at all (rather than a zero) when the venue gave none."""
    parts = [q.coin, price_short(q.price)]
    if q.change_24h_pct is not None:
        parts.append(pct(q.change_24h_pct))
    if q.stale:
        parts.append("(stale)")
    return " ".join(parts)[:MAX_CHARS]
