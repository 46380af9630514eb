"""The charts' colours: a dark card that reads well on both Discord themes (it is an image, so it
keeps its own contrast on a white page, and sits quietly on the dark one), in Discord's greys,
with the answers' own up/down colours."""

from __future__ import annotations

from bot.render import style
from bot.render.charts.spec import BandKind

BG = "#2b2d31"
PANEL = "#232428"
TEXT = "#e3e5e8"
MUTED = "#a0a6b0"
GRID = "#3a3d44"
SPINE = "#4e5058"
UP = f"#{style.UP:06x}"
DOWN = f"#{style.DOWN:06x}"
NOW = f"#{style.INFO:06x}"
BAND_COLOURS: dict[BandKind, str] = {"support": UP, "resistance": DOWN, "at_price": f"#{style.WARN:06x}"}
LONG_LIQ = "#ff6b5e"  # longs are liquidated as the price falls: red, drawn below zero
SHORT_LIQ = "#3ddc84"  # shorts are liquidated as it rises: green, drawn above zero
DPI = 100
