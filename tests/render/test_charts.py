"""Chart rendering: real PNGs of the requested size, the empty cases, labels that never overlap,
and a renderer that turns a burst of identical requests into one render."""

from __future__ import annotations

import asyncio
import math
import struct
import threading
import time
from datetime import UTC, datetime, timedelta
from itertools import combinations

import pytest

from bot.models import Candle
from bot.render.charts import (
    Band,
    ChartRenderer,
    ChartSpec,
    LiqBar,
    build_figure,
    render_chart,
    spread_labels,
)

START = datetime(2026, 11, 24, tzinfo=UTC)
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from the IHDR chunk, which the PNG format puts first."""
    assert data[:8] == PNG_MAGIC
    assert data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def candles(n: int = 48, base: float = 87_000.0) -> list[Candle]:
    out = []
    for i in range(n):
        o = base + 600 * math.sin(i / 5)
        c = base + 600 * math.sin((i + 1) / 5)
        out.append(
            Candle(
                coin="BTC",
                venue="binance",
                market="perp",
                interval="1h",
                open_time=START + timedelta(hours=i),
                open=o,
                high=max(o, c) + 80,
                low=min(o, c) - 80,
                close=c,
                volume=10,
            )
        )
    return out


def liq_bars(n: int = 48) -> list[LiqBar]:
    return [
        LiqBar(start=START + timedelta(hours=i), long_usd=1e5 * (i % 5), short_usd=2e5 * (i % 3))
        for i in range(n)
    ]


BANDS = (
    Band(low=85_900, high=86_100, kind="support", label="S1 $86.0K (0.82)"),
    Band(low=86_150, high=86_300, kind="support", label="S2 $86.2K (0.41)"),
    Band(low=87_550, high=87_700, kind="resistance", label="R1 $87.6K (0.70)"),
    Band(low=87_600, high=87_750, kind="resistance", label="R2 $87.7K–$87.8K (0.33)"),  # two "$": no mathtext
)


def spec(**overrides: object) -> ChartSpec:
    fields: dict[str, object] = {
        "title": "BTC · 1h · 2026-11-24 → 2026-11-26 UTC",
        "candles": candles(),
        "bands": BANDS,
        "current_price": 87_610.0,
        "liq_bars": liq_bars(),
        "footer": "≥ $5K from Binance+Bybit, covered since 2026-11-24 00:00 UTC",
        "width_px": 600,
        "height_px": 400,
    }
    fields.update(overrides)
    return ChartSpec(**fields)  # type: ignore[arg-type]


def test_default_size_png() -> None:
    data = render_chart(spec(width_px=1200, height_px=800))
    assert png_size(data) == (1200, 800)


def test_custom_size_png() -> None:
    assert png_size(render_chart(spec(width_px=640, height_px=360))) == (640, 360)


def test_empty_liquidations_say_so_instead_of_drawing_zeros() -> None:
    fig = build_figure(spec(liq_bars=[]))
    texts = [t.get_text() for ax in fig.axes for t in ax.texts]
    assert "no liquidation data in this range" in texts
    assert not fig.axes[1].collections  # no bars
    assert png_size(render_chart(spec(liq_bars=[]))) == (600, 400)


def test_liquidation_panel_has_bars_and_legend() -> None:
    fig = build_figure(spec())
    liq_ax = fig.axes[1]
    assert liq_ax.collections  # the bars
    legend = liq_ax.get_legend()
    assert legend is not None
    assert {t.get_text() for t in legend.get_texts()} == {"long liquidations", "short liquidations"}


def test_empty_candles_raise() -> None:
    with pytest.raises(ValueError, match="candles"):
        render_chart(spec(candles=[]))


def test_invalid_inputs_rejected() -> None:
    with pytest.raises(ValueError, match="above high"):
        Band(low=2, high=1, kind="support", label="x")
    with pytest.raises(ValueError, match="timezone-aware"):
        LiqBar(start=datetime(2026, 11, 24), long_usd=1, short_usd=1)
    with pytest.raises(ValueError, match="negative"):
        LiqBar(start=START, long_usd=-1, short_usd=1)
    with pytest.raises(ValueError, match="at least"):
        spec(width_px=100)


def test_right_edge_labels_do_not_overlap_and_fit() -> None:
    """Four bands and the price within $2K of each other: the labels still separate, in order."""
    fig = build_figure(spec(width_px=1200, height_px=800))
    price_ax = fig.axes[0]
    labels = [t for t in price_ax.texts if t.get_text().startswith(("S", "R", "now"))]
    assert len(labels) == 5
    fig.draw_without_rendering()
    patches = [t.get_bbox_patch() for t in labels]  # the box, not its leader line
    boxes = [p.get_window_extent() for p in patches if p is not None]
    assert len(boxes) == 5
    for a, b in combinations(boxes, 2):
        assert not a.overlaps(b)
    for box in boxes:
        assert box.x0 >= price_ax.get_window_extent().x1  # in the margin, right of the plot
        assert box.x1 <= 1200
        assert 0 <= box.y0 < box.y1 <= 800
    assert any(t.get_text() == "now $87,610" for t in labels)


def test_spread_labels() -> None:
    assert spread_labels([0.2, 0.8], gap=0.1) == [0.2, 0.8]  # nothing to do
    placed = spread_labels([0.5, 0.52, 0.51], gap=0.1)
    assert sorted(placed) == pytest.approx([0.41, 0.51, 0.61])  # centred on the targets' mean
    assert placed[0] < placed[2] < placed[1]  # order kept
    edge = spread_labels([0.99, 0.98], gap=0.1, lo=0.0, hi=1.0)
    assert max(edge) <= 1.0
    assert abs(edge[0] - edge[1]) == pytest.approx(0.1)
    crowded = spread_labels([0.5] * 5, gap=0.5)
    assert sorted(crowded) == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])
    assert spread_labels([], gap=0.1) == []


class SlowFake:
    """Stands in for render_chart: counts calls, takes a little time so requests overlap."""

    def __init__(self) -> None:
        self.calls = 0
        self.lock = threading.Lock()

    def __call__(self, spec: ChartSpec) -> bytes:
        with self.lock:
            self.calls += 1
        time.sleep(0.05)
        return PNG_MAGIC + spec.title.encode()


async def test_burst_of_identical_requests_renders_once() -> None:
    fake = SlowFake()
    renderer = ChartRenderer(render_fn=fake)
    try:
        chart = spec()
        results = await asyncio.gather(*(renderer.render(chart, "BTC:levels:0") for _ in range(50)))
        assert fake.calls == 1
        assert renderer.renders == 1
        assert renderer.hits == 49  # every request not rendered counts as a hit
        assert renderer.coalesced == 49
        assert len(set(results)) == 1

        await renderer.render(chart, "BTC:levels:0")  # now from the cache
        assert (renderer.renders, renderer.hits, renderer.coalesced) == (1, 50, 49)

        await renderer.render(spec(title="ETH"), "ETH:levels:0")  # another key renders again
        assert renderer.renders == 2
        assert fake.calls == 2
    finally:
        renderer.close()


async def test_lru_evicts_oldest() -> None:
    fake = SlowFake()
    renderer = ChartRenderer(render_fn=fake, cache_size=2)
    try:
        for key in ("a", "b", "a", "c", "a", "b"):  # "b" was evicted by "c"
            await renderer.render(spec(title=key), key)
        assert renderer.renders == 4  # a, b, c, b again
        assert renderer.hits == 2
    finally:
        renderer.close()


async def test_failed_render_reaches_every_waiter_and_is_not_cached() -> None:
    calls = 0

    def broken(_: ChartSpec) -> bytes:
        nonlocal calls
        calls += 1
        time.sleep(0.02)
        raise RuntimeError("boom")

    renderer = ChartRenderer(render_fn=broken)
    try:
        results = await asyncio.gather(
            *(renderer.render(spec(), "k") for _ in range(5)), return_exceptions=True
        )
        assert calls == 1
        assert all(isinstance(r, RuntimeError) for r in results)
        with pytest.raises(RuntimeError):
            await renderer.render(spec(), "k")  # tried again, not served from cache
        assert calls == 2
    finally:
        renderer.close()


async def test_cancelled_waiter_does_not_cancel_shared_render() -> None:
    fake = SlowFake()
    renderer = ChartRenderer(render_fn=fake)
    try:
        first = asyncio.create_task(renderer.render(spec(), "k"))
        second = asyncio.create_task(renderer.render(spec(), "k"))
        await asyncio.sleep(0)
        first.cancel()
        assert (await second).startswith(PNG_MAGIC)
        assert fake.calls == 1
    finally:
        renderer.close()


async def test_renderer_real_png_and_empty_candles() -> None:
    renderer = ChartRenderer()
    try:
        data = await renderer.render(spec(width_px=400, height_px=300), "BTC:levels:1")
        assert png_size(data) == (400, 300)
        with pytest.raises(ValueError, match="without candles"):
            await renderer.render(spec(candles=[]), "BTC:levels:2")
        assert renderer.renders == 1
    finally:
        renderer.close()
