"""Drawing a chart: a spec in, PNG bytes out.

Everything shown comes from the spec (labels are formatted by the caller or by ``fmt``), so
the chart can never disagree with the text answer beside it. Rendering uses a private
``Figure`` + Agg canvas per call instead of pyplot, because pyplot's global figure registry is
not thread-safe and ``ChartRenderer`` draws in worker threads to keep the event loop free.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import matplotlib.dates as mdates
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.collections import PolyCollection
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.text import Text
from matplotlib.ticker import Formatter, MaxNLocator

from bot.fmt import money, price, price_short
from bot.models import Candle, Interval
from bot.render import style
from bot.render.charts.spec import BandKind, ChartSpec, _require_aware

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

_INTERVALS: dict[Interval, timedelta] = {
    "1m": timedelta(minutes=1),
    "5m": timedelta(minutes=5),
    "15m": timedelta(minutes=15),
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "1d": timedelta(days=1),
}
_DPI = 100


# ---------------------------------------------------------------------------------------------
# helpers


def _escape(text: str) -> str:
    """Keep "$84K–$85K" literal: two dollar signs would otherwise switch matplotlib to mathtext."""
    return text.replace("$", r"\$")


class _UsdFormatter(Formatter):
    """Compact tick labels via ``fmt``; falls back to ``fallback`` when compaction would give
    two ticks the same text (e.g. $86.25K and $86.2K both as "$86.2K")."""

    def __init__(
        self, primary: Callable[[float], str], fallback: Callable[[float], str] | None = None
    ) -> None:
        super().__init__()
        self._primary = primary
        self._fallback = fallback

    def __call__(self, x: float, pos: int | None = None) -> str:
        return _escape(self._primary(x))

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        labels = [self._primary(v) for v in values]
        if self._fallback is not None and len(set(labels)) < len(labels):
            labels = [self._fallback(v) for v in values]
        return [_escape(label) for label in labels]


def spread_labels(ys: Sequence[float], gap: float, lo: float = 0.0, hi: float = 1.0) -> list[float]:
    """Move label centres apart by at least ``gap`` within [lo, hi], each as close to its target
    as possible: overlapping labels are merged into clusters centred on their targets' mean."""
    if not ys:
        return []
    order = sorted(range(len(ys)), key=lambda i: ys[i])
    if gap * (len(ys) - 1) > hi - lo:  # cannot fit: spread evenly, keeping order
        gap = (hi - lo) / max(1, len(ys) - 1)
    clusters: list[list[float]] = []  # each: desired positions, sorted

    def start(cluster: list[float]) -> float:
        centre = sum(cluster) / len(cluster)
        first = centre - gap * (len(cluster) - 1) / 2
        return min(max(first, lo), hi - gap * (len(cluster) - 1))

    for i in order:
        clusters.append([ys[i]])
        while len(clusters) > 1:
            prev, cur = clusters[-2], clusters[-1]
            if start(prev) + gap * len(prev) <= start(cur) + 1e-12:
                break
            clusters[-2:] = [prev + cur]
    placed = [start(c) + gap * k for c in clusters for k in range(len(c))]
    out = [0.0] * len(ys)
    for rank, i in enumerate(order):
        out[i] = placed[rank]
    return out


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
    ax.yaxis.set_major_formatter(_UsdFormatter(lambda v: money(abs(v))))
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


def _price_limits(spec: ChartSpec, candles: Sequence[Candle]) -> tuple[float, float]:
    lows = [c.low for c in candles] + [b.low for b in spec.bands]
    highs = [c.high for c in candles] + [b.high for b in spec.bands]
    if spec.current_price is not None:
        lows.append(spec.current_price)
        highs.append(spec.current_price)
    lo, hi = min(lows), max(highs)
    pad = (hi - lo) * 0.05 or abs(hi) * 0.005 or 1.0
    return lo - pad, hi + pad


def _right_labels(ax: Axes, spec: ChartSpec, fig: Figure) -> list[Text]:
    """Band and current-price labels in the right margin, nudged apart so none overlap; a thin
    leader line ties a moved label back to its level."""
    lo, hi = ax.get_ylim()
    ax_h = ax.get_position().height * fig.get_figheight() * _DPI
    fontsize = 9.5
    gap = (fontsize * 1.9 * _DPI / 72) / ax_h  # a boxed line of text, in axes fraction
    items: list[tuple[float, str, str, bool]] = []  # (price, text, colour, is_current)
    for band in spec.bands:
        items.append(((band.low + band.high) / 2, band.label, BAND_COLOURS[band.kind], False))
    if spec.current_price is not None:
        label = spec.current_label or f"now {price(spec.current_price)}"
        items.append((spec.current_price, label, NOW, True))
    targets = [(y - lo) / (hi - lo) for y, *_ in items]
    placed = spread_labels(targets, gap, lo=gap / 2, hi=1 - gap / 2)
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
                xytext=(1.018, at),
                textcoords="axes fraction",
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


def _fit_margins(fig: Figure, axes: Sequence[Axes], labels: Sequence[Text], width_px: int) -> None:
    """Size the side margins to what is actually there (long tick labels on a $0.00001234 coin,
    long band labels), so nothing is clipped and no width is wasted."""
    pad = 10.0
    box = axes[0].get_position()
    left_px, right_px = box.x0 * width_px, (1 - box.x1) * width_px
    boxes = [a.yaxis.get_tightbbox() for a in axes]  # tick labels and axis label
    outermost = min((b.x0 for b in boxes if b is not None), default=pad)
    left_px += pad - outermost
    extents = [t.get_window_extent().x1 for t in labels]
    legends = [a.get_legend() for a in axes]
    extents += [legend.get_window_extent().x1 for legend in legends if legend is not None]
    widest = max(extents, default=box.x1 * width_px)
    right_px = max(widest - box.x1 * width_px + pad + 4, 24.0)
    cap = width_px * 0.35
    fig.subplots_adjust(left=min(left_px, cap) / width_px, right=1 - min(right_px, cap) / width_px)


def render_chart(spec: ChartSpec) -> bytes:
    """Draw ``spec`` as a PNG of exactly ``width_px`` × ``height_px``.

    Raises ValueError with no candles: an empty chart would look like a broken bot, so the
    caller answers in text instead.
    """
    fig = build_figure(spec)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, facecolor=BG, metadata={"Software": None})
    return buf.getvalue()


def build_figure(spec: ChartSpec) -> Figure:
    """The laid-out figure behind ``render_chart``; separate so tests can inspect its artists."""
    if not spec.candles:
        raise ValueError("cannot chart without candles")
    for candle in spec.candles:
        _require_aware(candle.open_time, "Candle.open_time")
    candles = sorted(spec.candles, key=lambda c: c.open_time)
    step = _interval(candles)

    width_in, height_in = spec.width_px / _DPI, spec.height_px / _DPI
    fig = Figure(figsize=(width_in, height_in), dpi=_DPI, facecolor=BG)
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

    fig.text(
        16 / spec.width_px,
        1 - 16 / spec.height_px,
        spec.title,
        ha="left",
        va="top",
        color=TEXT,
        fontsize=15,
        fontweight="bold",
        parse_math=False,
    )
    if spec.subtitle:
        fig.text(
            16 / spec.width_px,
            1 - 44 / spec.height_px,
            spec.subtitle,
            ha="left",
            va="top",
            color=MUTED,
            fontsize=10.5,
            parse_math=False,
        )
    if spec.footer:
        fig.text(
            16 / spec.width_px,
            10 / spec.height_px,
            spec.footer,
            ha="left",
            va="bottom",
            color=MUTED,
            fontsize=9,
            parse_math=False,
        )

    # price panel
    _style_axes(ax)
    x0 = _num(candles[0].open_time)
    x1 = _num(candles[-1].open_time + step)
    pad_x = (x1 - x0) * 0.01
    ax.set_xlim(x0 - pad_x, x1 + pad_x)
    lo, hi = _price_limits(spec, candles)
    ax.set_ylim(lo, hi)
    for band in spec.bands:
        colour = BAND_COLOURS[band.kind]
        ax.axhspan(band.low, band.high, color=colour, alpha=0.13, linewidth=0, zorder=0.5)
        for edge in (band.low, band.high):
            ax.axhline(edge, color=colour, alpha=0.45, linewidth=0.8, zorder=0.6)
    _draw_candles(ax, candles, step)
    if spec.live_from is not None and candles[-1].open_time == spec.live_from:
        # the hour in progress: shaded and labelled, so it does not read as a closed bar
        ax.axvspan(_num(spec.live_from), x1, color=NOW, alpha=0.12, linewidth=0, zorder=0.4)
        ax.text(
            (_num(spec.live_from) + x1) / 2,
            0.985,
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
    ax.yaxis.set_major_locator(MaxNLocator(nbins=8, steps=[1, 2, 2.5, 5, 10]))
    ax.yaxis.set_major_formatter(_UsdFormatter(price_short, price))
    ax.set_ylabel("price (USD)", color=MUTED, fontsize=10)

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
        _draw_liquidations(ax_liq, spec, step, x0, x1)
        ax_liq.set_ylabel("liquidations", color=MUTED, fontsize=10)
        bottom_ax = ax_liq
    bottom_ax.set_xlabel("time (UTC)", color=MUTED, fontsize=10)
    fig.align_ylabels([a for a in (ax, ax_liq) if a is not None])

    labels = _right_labels(ax, spec, fig)
    _fit_margins(fig, [a for a in (ax, ax_liq) if a is not None], labels, spec.width_px)
    return fig
