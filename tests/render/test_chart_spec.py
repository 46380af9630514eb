"""What the charts are told to draw, from the bundled sell-off: zones apart from their
neighbours and shaded by strength, labels that carry each zone's range as the text prints it,
micro-cap prices in a unit of their own, the window asked for, and the market chart named for
every tracked coin. Data the drawing consumes, not pixels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from itertools import pairwise

import pytest

from bot.app import App
from bot.render.charts import Band, ChartSpec, build_figure
from bot.render.charts.spec import BAND_GAP, STRENGTH_TIERS, strength_tier
from bot.render.charts.ticks import PriceTicks, price_unit, tick_decimals
from bot.render.levels import levels_chart, levels_embed
from bot.render.liquidations import liquidations_chart
from bot.services.liquidations import LIQ_WINDOWS
from tests.helpers import open_scenario
from tests.render.test_charts import candles


@pytest.fixture(scope="module")
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


async def levels_spec(app: App, coin: str) -> tuple[ChartSpec, str]:
    view = await app.services.levels.levels(app.registry.get(coin))
    embed = levels_embed(view).to_dict()
    text = "\n".join(f["value"] for f in embed.get("fields", []))
    return levels_chart(view), text


def check_apart(spec: ChartSpec) -> None:
    lo, hi = spec.price_limits()
    drawn = sorted(spec.drawn_bands(), key=lambda d: d.low)
    for a, b in pairwise(drawn):
        assert b.low - a.high >= BAND_GAP * (hi - lo) * 0.999, (a.band.label, b.band.label)
    for d in drawn:
        assert d.high > d.low  # every zone stays visible
        assert d.band.low - 1e-12 <= d.middle <= d.band.high + 1e-12  # and where it is


@pytest.mark.parametrize("coin", ["BTC", "ETH", "PEPE"])
async def test_zones_are_drawn_apart_and_labelled_with_the_texts_ranges(selloff: App, coin: str) -> None:
    spec, text = await levels_spec(selloff, coin)
    assert len(spec.bands) >= 4
    check_apart(spec)
    labels = [b.label for b in spec.bands]
    assert len(set(labels)) == len(labels)
    for band in spec.bands:
        found = re.search(r"(\$[\d,.]+)–(\$[\d,.]+)", band.label)
        assert found is not None, band.label
        low, high = found.groups()
        assert low != high
        assert f"{low}–{high}" in text  # the same range, the same precision, as the answer's text
        assert band.strength is not None
        assert strength_tier(band.strength)[0] in band.label


async def test_adjacent_resistances_no_longer_merge(selloff: App) -> None:
    """BTC's three resistances touch (a $160 and a $90 gap on an $18K axis): drawn apart."""
    spec, _ = await levels_spec(selloff, "BTC")
    resistances = sorted((b for b in spec.drawn_bands() if b.band.kind == "resistance"), key=lambda d: d.low)
    true_gaps = [b.band.low - a.band.high for a, b in pairwise(resistances)]
    drawn_gaps = [b.low - a.high for a, b in pairwise(resistances)]
    lo, hi = spec.price_limits()
    assert min(true_gaps) < BAND_GAP * (hi - lo)  # they nearly touch…
    assert min(drawn_gaps) >= BAND_GAP * (hi - lo) * 0.999  # …and are drawn with a gap


def test_overlapping_and_thin_zones_stay_visible_and_apart() -> None:
    bands = (
        Band(86_000, 86_500, "support", "a", 0.9),
        Band(86_400, 86_900, "support", "b", 0.5),  # overlaps a
        Band(86_900, 86_905, "at_price", "c", 0.2),  # thinner than the least height
        Band(86_905, 87_600, "resistance", "d", 0.1),
    )
    spec = ChartSpec(title="t", candles=candles(), bands=bands)
    check_apart(spec)


def test_opacity_grows_with_strength_and_the_legend_says_so() -> None:
    alphas = [Band(1, 2, "support", "x", s).alpha for s in (0.1, 0.5, 0.9)]
    assert alphas == sorted(alphas)
    assert len(set(alphas)) == 3
    assert [t[1] for t in STRENGTH_TIERS] == ["weak", "moderate", "strong"]
    spec = ChartSpec(
        title="t",
        candles=candles(),
        bands=(Band(86_000, 86_200, "support", "S1", 0.3), Band(87_000, 87_300, "at_price", "testing", 0.8)),
        width_px=1200,
        height_px=800,
    )
    fig = build_figure(spec)
    [legend] = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == [
        "weak",
        "moderate ≥ 0.4",
        "strong ≥ 0.7",
        "being tested",
    ]
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == 1  # the zone being tested, outlined and hatched


async def test_micro_cap_prices_read_in_millionths(selloff: App) -> None:
    spec, _ = await levels_spec(selloff, "PEPE")
    _, hi = spec.price_limits()
    scale, unit = price_unit(hi)
    assert (scale, unit) == (1e-6, "×10⁻⁶")
    ticks = [9.5e-6, 10e-6, 10.5e-6, 11e-6]
    assert PriceTicks(scale).format_ticks(ticks) == ["9.5", "10.0", "10.5", "11.0"]
    fig = build_figure(spec)
    assert fig.axes[0].get_ylabel() == "price (USD ×10⁻⁶)"
    for band in spec.bands:  # labels: the text's precision, four significant figures here
        assert all(len(d) <= 8 for d in re.findall(r"\$0\.(\d+)", band.label)), band.label


def test_dollar_ticks_use_the_price_formatter() -> None:
    assert PriceTicks(1.0).format_ticks([80_000, 82_500, 85_000]) == ["\\$80,000", "\\$82,500", "\\$85,000"]
    assert PriceTicks(1.0).format_ticks([2_600, 2_800]) == ["\\$2,600", "\\$2,800"]
    assert tick_decimals([0.15, 0.1525, 0.155]) == 4
    assert price_unit(87_000.0) == (1.0, "")


@pytest.mark.parametrize(
    ("window", "span", "bucket", "interval"),
    [
        (None, timedelta(days=7), timedelta(hours=1), "1h"),
        ("1h", timedelta(hours=12), timedelta(minutes=10), "1h"),
        ("4h", timedelta(hours=24), timedelta(minutes=30), "1h"),
        ("24h", timedelta(days=3), timedelta(hours=1), "1h"),
        ("30d", timedelta(days=30), timedelta(days=1), "1d"),
    ],
)
async def test_the_liquidations_chart_spans_the_window_asked(
    selloff: App, window: str | None, span: timedelta, bucket: timedelta, interval: str
) -> None:
    view = await selloff.services.liquidations.liquidations(selloff.registry.get("ETH"), window)
    spec = liquidations_chart(view)
    assert spec is not None
    first, last = spec.candles[0].open_time, spec.candles[-1].open_time
    step = timedelta(days=1) if interval == "1d" else timedelta(hours=1)
    assert {c.interval for c in spec.candles} == {interval}
    assert view.now - span - step <= first <= view.now - span + step
    assert last <= view.now
    assert spec.liq_bucket == bucket
    assert all(b.start >= view.now - span - step for b in spec.liq_bars)
    if window in ("1h", "4h", "24h"):
        assert spec.window_start == view.now - LIQ_WINDOWS[window]
        assert spec.window_label == f"{window} window"
        assert f"{window} window" in spec.title
    else:
        assert spec.window_start is None  # the window is the whole chart


async def test_the_market_chart_is_named_for_every_tracked_coin(selloff: App) -> None:
    view = await selloff.services.liquidations.liquidations(None, None)
    spec = liquidations_chart(view)
    assert spec is not None
    assert spec.title.startswith("All tracked coins · liquidations")
    assert not spec.title.startswith("BTC")
    assert "every tracked coin" in (spec.subtitle or "")
    assert spec.price_label == "BTC price (USD)"  # the gauge it is drawn on, said on its axis
    assert spec.axis_side == "right"  # no zone labels: the price axis where traders read it
    levels, _ = await levels_spec(selloff, "BTC")
    assert levels.axis_side == "left"  # the zones' labels fill the right margin
