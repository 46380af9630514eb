"""The words on reply controls (the buttons under /why, /liquidations and /levels) and what a
press that cannot be honoured says. The Discord layer (:mod:`bot.controls`) lays them out."""

from __future__ import annotations

from typing import Literal

Action = Literal["1h", "4h", "24h", "7d", "chart", "why", "liq", "lvl", "del"]

WINDOWS: tuple[Action, ...] = ("1h", "4h", "24h", "7d")

# action -> (label, emoji); a window button is its window alone, the rest say where they lead
LABELS: dict[Action, tuple[str, str | None]] = {
    "1h": ("1h", None),
    "4h": ("4h", None),
    "24h": ("24h", None),
    "7d": ("7d", None),
    "chart": ("Chart", "📈"),
    "why": ("Why", "🔎"),
    "liq": ("Liquidations", "💥"),
    "lvl": ("Levels", "📏"),
    "del": ("Delete", "🗑️"),
}

NOT_YOURS_DELETE = "Only the person who asked can delete this answer."
CANNOT_ANSWER = "Tapewatch cannot answer right now; please try again in a minute."
LEVELS_NEED_A_COIN = "/levels needs a coin: try /levels coin:BTC."
NO_CHART = ("Chart", "No price bars are stored for this yet, so there is no chart to draw.")
