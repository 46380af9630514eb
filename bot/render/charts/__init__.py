"""Price charts for /levels and /liquidations: a spec in (:mod:`.spec`), PNG bytes out
(:mod:`.draw`), rendered off the event loop with a cache (:mod:`.renderer`)."""

from bot.render.charts.draw import build_figure, render_chart, spread_labels
from bot.render.charts.renderer import ChartRenderer
from bot.render.charts.spec import Band, BandKind, ChartSpec, LiqBar

__all__ = [
    "Band",
    "BandKind",
    "ChartRenderer",
    "ChartSpec",
    "LiqBar",
    "build_figure",
    "render_chart",
    "spread_labels",
]
