"""Drawing a chart: a spec in, PNG bytes out.

Everything shown comes from the spec (labels are formatted by the caller or by ``fmt``), so
the chart can never disagree with the text answer beside it. Rendering uses a private
``Figure`` + Agg canvas per call instead of pyplot, because pyplot's global figure registry is
not thread-safe and ``ChartRenderer`` draws in worker threads to keep the event loop free.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from typing import Any

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import MaxNLocator

from bot.fmt import money
from bot.models import Candle, Interval
from bot.render.charts.palette import (
    BG,
    DOWN,
    DPI,
    GRID,
    LONG_LIQ,
    MUTED,
    NOW,
    PANEL,
    SHORT_LIQ,
    SPINE,
    TEXT,
    UP,
)
from bot.render.charts.spec import ChartSpec, _require_aware
from bot.render.charts.ticks import PriceTicks, UsdFormatter, price_unit, spread_labels
from bot.render.charts.zones import draw_bands, label_transform, right_labels, strength_legend

__all__ = ["build_figure", "render_chart", "spread_labels"]

_INTERVALS: dict[Interval, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
}


# ---------------------------------------------------------------------------------------------
# helpers


def _interval(candles: Sequence[Candle]) -> timedelta:
    step = _INTERVALS.get(candles[0].interval)
    if step is not None:
        return step
    gaps = sorted(b.open_time - a.open_time for a, b in pairwise(candles))
    return gaps[len(gaps) // 2] if gaps else timedelta(hours=1)


def _num(when: datetime) -> float:
    """Matplotlib's date number (days since its default 1970 epoch), without its untyped helper."""
    return when.timestamp() / 86400.0


def _days(delta: timedelta) -> float:
    """Matplotlib date units are days."""
    return delta.total_seconds() / 86400.0


def _style_axes(ax: Axes) -> None:
    ax.set_facecolor(PANEL)
    for spine in ax.spines.values():
        spine.set_color(SPINE)
    ax.tick_params(colors=MUTED, labelcolor=TEXT, labelsize=9.5)
    ax.grid(True, color=GRID, linewidth=0.7, alpha=0.9)
    ax.set_axisbelow(True)


# ---------------------------------------------------------------------------------------------
# drawing


def _draw_candles(ax: Axes, candles: Sequence[Candle], step: timedelta) -> None:
    """Bodies as one PolyCollection and wicks as vlines: fast even for 1,440 one-minute bars."""
    half = _days(step) * 0.36
    xs = [_num(c.open_time) + _days(step) / 2 for c in candles]
    colours = [UP if c.close >= c.open else DOWN for c in candles]
    ax.vlines(xs, [c.low for c in candles], [c.high for c in candles], colors=colours, linewidth=1.0)
    bodies = [
        [(x - half, c.open), (x + half, c.open), (x + half, c.close), (x - half, c.close)]
        for x, c in zip(xs, candles, strict=True)
    ]
    # the edge keeps doji (open == close) bodies visible as a line
    ax.add_collection(PolyCollection(bodies, facecolors=colours, edgecolors=colours, linewidths=0.6))


def _draw_liquidations(ax: Axes, spec: ChartSpec, step: timedelta, x0: float, x1: float) -> None:
    bars = sorted(spec.liq_bars, key=lambda b: b.start)
    in_range = [b for b in bars if x0 <= _num(b.start) < x1]
    if not in_range or all(b.long_usd == 0 and b.short_usd == 0 for b in in_range):
        message = "no liquidation data in this range" if not in_range else "no liquidations in this range"
        ax.text(0.5, 0.5, message, transform=ax.transAxes, ha="center", va="center", color=MUTED, fontsize=11)
        ax.set_yticks([])
        ax.grid(False)
        return
    bucket = spec.liq_bucket
    if bucket is None:
        gaps = [b.start - a.start for a, b in pairwise(bars) if b.start > a.start]
        bucket = min(gaps) if gaps else step
    width = _days(bucket) * 0.85
    xs = [_num(b.start) + _days(bucket) * 0.075 for b in in_range]
    shorts = [b.short_usd for b in in_range]
    longs = [-b.long_usd for b in in_range]
    # one PolyCollection per side instead of ax.bar, whose per-bar patches cost ~0.2 s per chart
    for values, colour in ((shorts, SHORT_LIQ), (longs, LONG_LIQ)):
        rects = [
            [(x, 0.0), (x + width, 0.0), (x + width, v), (x, v)] for x, v in zip(xs, values, strict=True) if v
        ]
        ax.add_collection(PolyCollection(rects, facecolors=colour, linewidths=0))
    ax.axhline(0, color=SPINE, linewidth=0.9)
    top, bottom = max(shorts), -min(longs)
    span = max(top, bottom)
    # a side with nothing still gets a sliver so the zero line never sits on the frame
    ax.set_ylim(-max(bottom * 1.1, span * 0.08), max(top * 1.1, span * 0.08))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(UsdFormatter(lambda v: money(abs(v))))
    # the legend sits in the right margin beside the panel, so it never covers a bar
    handles = [Patch(color=SHORT_LIQ), Patch(color=LONG_LIQ)]
    ax.legend(
        handles,
        ["short liquidations", "long liquidations"],  # top to bottom, as drawn about zero
        loc="upper left",
        bbox_to_anchor=(1.0, 1.0),
        fontsize=9,
        frameon=False,
        labelcolor=TEXT,
        handlelength=1.0,
        handletextpad=0.5,
        borderaxespad=0.6,
    )


def _tick_width(fig: Figure, ax: Axes) -> float:
    """How far the tick labels on the right of ``ax`` reach past its edge, in pixels."""
    renderer = fig.canvas.get_renderer()  # type: ignore[attr-defined]
    edge = ax.get_window_extent(renderer).x1
    reach = [
        t.get_window_extent(renderer).x1 for t in ax.get_yticklabels() if t.get_visible() and t.get_text()
    ]
    return float(max(reach, default=edge) - edge)


def _fit_margins(
    fig: Figure, axes: Sequence[Axes], labels: Sequence[Text], width_px: int, *, right_axis: bool
) -> None:
    """Size the side margins to what is actually there (long tick labels, long band labels), so
    nothing is clipped and no width is wasted."""
    pad = 10.0
    fig.draw_without_rendering()
    box = axes[0].get_position()
    left_px = box.x0 * width_px
    boxes = [a.yaxis.get_tightbbox() for a in axes]  # tick labels and axis label
    outermost = min((b.x0 for b in boxes if b is not None), default=pad)
    left_px += pad - outermost
    extents = [t.get_window_extent().x1 for t in labels]
    legends = [a.get_legend() for a in axes]
    extents += [legend.get_window_extent().x1 for legend in legends if legend is not None]
    if right_axis:
        extents += [b.x1 for b in boxes if b is not None]
    widest = max(extents, default=box.x1 * width_px)
    right_px = max(widest - box.x1 * width_px + pad + 4, 24.0)
    cap = width_px * 0.4
    fig.subplots_adjust(left=min(left_px, cap) / width_px, right=1 - min(right_px, cap) / width_px)


def render_chart(spec: ChartSpec) -> bytes:
    """Draw ``spec`` as a PNG of exactly ``width_px`` × ``height_px``.

    Raises ValueError with no candles: an empty chart would look like a broken bot, so the
    caller answers in text instead.
    """
    fig = build_figure(spec)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, facecolor=BG, metadata={"Software": None})
    return buf.getvalue()


def _titles(fig: Figure, spec: ChartSpec) -> None:
    common: dict[str, Any] = {"ha": "left", "va": "top", "parse_math": False}
    fig.text(
        16 / spec.width_px,
        1 - 16 / spec.height_px,
        spec.title,
        color=TEXT,
        fontsize=15,
        fontweight="bold",
        **common,
    )
    if spec.subtitle:
        fig.text(
            16 / spec.width_px, 1 - 44 / spec.height_px, spec.subtitle, color=MUTED, fontsize=10.5, **common
        )
    if spec.footer:
        fig.text(
            16 / spec.width_px,
            10 / spec.height_px,
            spec.footer,
            color=MUTED,
            fontsize=9,
            ha="left",
            va="bottom",
            parse_math=False,
        )


def _draw_window(ax: Axes, spec: ChartSpec, x1: float, label: bool) -> None:
    """The asked window, shaded to the end of the chart, with its name at the top."""
    if spec.window_start is None:
        return
    start = _num(spec.window_start)
    ax.axvspan(start, x1, color=TEXT, alpha=0.06, linewidth=0, zorder=0.3)
    ax.axvline(start, color=MUTED, linewidth=0.9, linestyle=(0, (3, 3)), zorder=0.35)
    if label and spec.window_label:
        ax.text(
            start,
            0.985,
            f" {spec.window_label} →",
            transform=ax.get_xaxis_transform(),
            ha="left",
            va="top",
            color=TEXT,
            fontsize=9,
            parse_math=False,
        )


def _price_axis(ax: Axes, spec: ChartSpec, lo: float, hi: float) -> None:
    scale, unit = price_unit(max(abs(lo), abs(hi)))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(PriceTicks(scale))
    name = spec.price_label if not unit else spec.price_label.replace("(USD)", f"(USD {unit})")
    ax.set_ylabel(name, color=MUTED, fontsize=10)


def build_figure(spec: ChartSpec) -> Figure:
    """The laid-out figure behind ``render_chart``; separate so tests can inspect its artists."""
    if not spec.candles:
        raise ValueError("cannot chart without candles")
    for candle in spec.candles:
        _require_aware(candle.open_time, "Candle.open_time")
    candles = sorted(spec.candles, key=lambda c: c.open_time)
    step = _interval(candles)
    right_axis = spec.axis_side == "right"

    width_in, height_in = spec.width_px / DPI, spec.height_px / DPI
    fig = Figure(figsize=(width_in, height_in), dpi=DPI, facecolor=BG)
    FigureCanvasAgg(fig)  # attaches itself: Agg drawing with no pyplot state

    # fixed margins in pixels so text keeps its size whatever the chart size
    top_px = 64 + (22 if spec.subtitle else 0)
    bottom_px = 58 + (24 if spec.footer else 0)
    left_px, right_px = 78, 150
    fig.subplots_adjust(
        left=left_px / spec.width_px,
        right=1 - right_px / spec.width_px,
        top=1 - top_px / spec.height_px,
        bottom=bottom_px / spec.height_px,
        hspace=0.06,
    )
    if spec.show_liquidations:
        grid = fig.add_gridspec(2, 1, height_ratios=[3.2, 1])
        ax = fig.add_subplot(grid[0])
        ax_liq: Axes | None = fig.add_subplot(grid[1], sharex=ax)
    else:
        ax, ax_liq = fig.add_subplot(1, 1, 1), None
    fig.subplots_adjust(hspace=0.06)
    _titles(fig, spec)
    if spec.strength_legend:
        strength_legend(fig, spec)

    # price panel
    _style_axes(ax)
    x0 = _num(candles[0].open_time)
    x1 = _num(candles[-1].open_time + step)
    pad_x = (x1 - x0) * 0.01
    ax.set_xlim(x0 - pad_x, x1 + pad_x)
    lo, hi = spec.price_limits()
    ax.set_ylim(lo, hi)
    draw_bands(ax, spec)
    _draw_window(ax, spec, x1, label=True)
    _draw_candles(ax, candles, step)
    if spec.live_from is not None and candles[-1].open_time == spec.live_from:
        # the hour in progress: shaded and labelled, so it does not read as a closed bar
        ax.axvspan(_num(spec.live_from), x1, color=NOW, alpha=0.12, linewidth=0, zorder=0.4)
        ax.text(
            (_num(spec.live_from) + x1) / 2,
            0.985 if spec.window_start is None else 0.93,
            "live",
            transform=ax.get_xaxis_transform(),
            ha="center",
            va="top",
            color=NOW,
            fontsize=8.5,
            parse_math=False,
        )
    if spec.current_price is not None:
        ax.axhline(spec.current_price, color=NOW, linewidth=1.1, linestyle=(0, (4, 3)), zorder=3)
    _price_axis(ax, spec, lo, hi)

    locator = mdates.AutoDateLocator(tz=UTC, minticks=4, maxticks=9)  # type: ignore[no-untyped-call]
    formatter = mdates.ConciseDateFormatter(  # type: ignore[no-untyped-call]
        locator,
        tz=UTC,
        formats=["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%S.%f"],
        zero_formats=["", "%Y", "%b %d", "%b %d", "%H:%M", "%H:%M"],
        show_offset=False,
    )
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(formatter)
    bottom_ax = ax
    if ax_liq is not None:
        _style_axes(ax_liq)
        ax.tick_params(labelbottom=False)
        _draw_window(ax_liq, spec, x1, label=False)
        _draw_liquidations(ax_liq, spec, step, x0, x1)
        ax_liq.set_ylabel("liquidations", color=MUTED, fontsize=10)
        bottom_ax = ax_liq
    bottom_ax.set_xlabel("time (UTC)", color=MUTED, fontsize=10)
    panels = [a for a in (ax, ax_liq) if a is not None]
    fig.align_ylabels(panels)

    dx = 14.0
    if right_axis:  # ticks on the right (the axis name stays on the left); labels beyond them
        for a in panels:
            a.yaxis.tick_right()
            a.yaxis.set_label_position("left")
            a.tick_params(axis="y", colors=MUTED, labelcolor=TEXT, labelsize=9.5)
        fig.draw_without_rendering()
        dx += max(_tick_width(fig, a) for a in panels)
        legend = ax_liq.get_legend() if ax_liq is not None else None
        if ax_liq is not None and legend is not None:
            legend.set_bbox_to_anchor((1.0, 1.0), transform=label_transform(ax_liq, fig, dx - 10))
    labels = right_labels(ax, spec, fig, dx)
    _fit_margins(fig, panels, labels, spec.width_px, right_axis=right_axis)
    return fig
