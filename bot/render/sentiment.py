"""The Fear & Greed index in words, with its source and age: one line for /why's context and
/status."""

from __future__ import annotations

from bot.analysis.sentiment import SentimentFinding
from bot.fmt import age


def sentiment_text(s: SentimentFinding) -> str:
    """``Fear & Greed 23/100, Extreme Fear (alternative.me, daily; 9h old)``."""
    old = f"{age(s.age)} old" + (", stale" if s.stale else "")
    return f"Fear & Greed {s.value}/100, {s.label} ({s.source}, daily; {old})"


def sentiment_status(s: SentimentFinding | None) -> str:
    if s is None:
        return "Fear & Greed: no reading collected yet (alternative.me, daily)."
    return sentiment_text(s) + "."
