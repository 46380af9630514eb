"""Zones and their labels: each zone shaded by its strength and drawn apart from its neighbours
(:meth:`ChartSpec.drawn_bands`), the one being tested outlined and hatched, a legend for
strength, and the labels in the right margin beside the price axis."""

from __future__ import annotations

from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.transforms import Transform, blended_transform_factory, offset_copy

from bot.fmt import price
from bot.render.charts.palette import BAND_COLOURS, DPI, MUTED, NOW, PANEL, SPINE, TEXT
from bot.render.charts.spec import STRENGTH_TIERS, ChartSpec
from bot.render.charts.ticks import spread_labels


def label_transform(ax: Axes, fig: Figure, dx_px: float) -> Transform:
    """x: ``dx_px`` pixels right of the axes' right edge (whatever the margins become); y: axes
    fraction."""
    return blended_transform_factory(
        offset_copy(ax.transAxes, fig=fig, x=dx_px, y=0, units="dots"), ax.transAxes
    )


def right_labels(ax: Axes, spec: ChartSpec, fig: Figure, dx_px: float) -> list[Text]:
    """Band and current-price labels in the right margin, nudged apart so none overlap; a thin
    leader line ties a moved label back to its level."""
    lo, hi = ax.get_ylim()
    ax_h = ax.get_position().height * fig.get_figheight() * DPI
    fontsize = 9.5
    gap = (fontsize * 1.9 * DPI / 72) / ax_h  # a boxed line of text, in axes fraction
    items: list[tuple[float, str, str, bool]] = []  # (price, text, colour, is_current)
    for drawn in spec.drawn_bands():
        items.append((drawn.middle, drawn.band.label, BAND_COLOURS[drawn.band.kind], False))
    if spec.current_price is not None:
        label = spec.current_label or f"now {price(spec.current_price)}"
        items.append((spec.current_price, label, NOW, True))
    targets = [(y - lo) / (hi - lo) for y, *_ in items]
    placed = spread_labels(targets, gap, lo=gap / 2, hi=1 - gap / 2)
    where = label_transform(ax, fig, dx_px)
    texts: list[Text] = []
    for (y, label, colour, current), at in zip(items, placed, strict=True):
        box = {
            "boxstyle": "round,pad=0.3,rounding_size=0.2",
            "facecolor": colour if current else PANEL,
            "edgecolor": colour,
            "linewidth": 1.0,
        }
        texts.append(
            ax.annotate(
                label,
                xy=(1.0, y),
                xycoords=ax.get_yaxis_transform(),
                xytext=(1.0, at),
                textcoords=where,
                ha="left",
                va="center",
                fontsize=fontsize,
                color="#ffffff" if current else colour,
                fontweight="bold" if current else "normal",
                bbox=box,
                annotation_clip=False,
                parse_math=False,
                arrowprops={"arrowstyle": "-", "color": colour, "linewidth": 0.9, "shrinkA": 0, "shrinkB": 0},
            )
        )
    return texts


def draw_bands(ax: Axes, spec: ChartSpec) -> None:
    """Each zone in its own opacity (its strength), its edges drawn where it is drawn (apart from
    its neighbours); the zone the price is testing outlined and hatched."""
    for drawn in spec.drawn_bands():
        band = drawn.band
        colour = BAND_COLOURS[band.kind]
        ax.axhspan(drawn.low, drawn.high, color=colour, alpha=band.alpha, linewidth=0, zorder=0.5)
        if band.tested:
            ax.axhspan(
                drawn.low,
                drawn.high,
                facecolor="none",
                edgecolor=colour,
                hatch="///",
                linewidth=1.6,
                alpha=0.8,
                zorder=0.7,
            )
            continue
        for edge in (drawn.low, drawn.high):
            ax.axhline(edge, color=colour, alpha=0.6, linewidth=0.9, zorder=0.6)


def strength_legend(fig: Figure, spec: ChartSpec) -> None:
    """What the zones' opacity means, at the top right of the card."""
    # drawn on the card's background as the zones are, each with a faint outline so "weak" shows
    handles: list[Patch] = [
        Patch(facecolor=(1.0, 1.0, 1.0, min(1.0, alpha * 1.6)), edgecolor=SPINE, linewidth=0.8)
        for _, _, alpha in STRENGTH_TIERS
    ]
    labels = [f"{word} ≥ {bound:.1f}" if bound else word for bound, word, _ in STRENGTH_TIERS]
    if any(b.tested for b in spec.bands):
        handles.append(Patch(facecolor="none", edgecolor=BAND_COLOURS["at_price"], hatch="///"))
        labels.append("being tested")
    legend = fig.legend(
        handles,
        labels,
        loc="upper right",
        bbox_to_anchor=(1 - 12 / spec.width_px, 1 - 8 / spec.height_px),
        ncol=len(handles),
        fontsize=9,
        frameon=False,
        labelcolor=TEXT,
        handlelength=1.4,
        handletextpad=0.4,
        columnspacing=1.0,
        title="zone strength",
        title_fontsize=9,
    )
    legend.get_title().set_color(MUTED)
