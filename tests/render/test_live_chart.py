"""Charts run to now: the hour in progress is drawn from the latest price, its liquidations are
inside the chart's range, and the price label is the live one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.analysis.coverage import Coverage
from bot.analysis.liquidations import LiqMinute
from bot.models import Candle, Ticker
from bot.render.charts import build_figure, render_chart
from bot.render.liquidations import liquidations_chart
from bot.render.live import live_from, with_live_bar
from bot.views.liquidations import LiquidationsView

NOW = datetime(2026, 11, 26, 12, 34, tzinfo=UTC)
HOUR = timedelta(hours=1)


def hourly(n: int, last_open: datetime, level: float = 67_800.0) -> list[Candle]:
    return [
        Candle(
            coin="BTC",
            venue="binance",
            market="spot",
            interval="1h",
            open_time=last_open - (n - 1 - k) * HOUR,
            open=level + 10 * k,
            high=level + 10 * k + 40,
            low=level + 10 * k - 40,
            close=level + 10 * (k + 1),
            volume=10.0,
        )
        for k in range(n)
    ]


def test_a_missing_hour_in_progress_is_opened_at_the_last_close() -> None:
    bars = hourly(24, NOW.replace(minute=0) - HOUR)  # the last closed bar is 11:00
    out = with_live_bar(bars, 67_710.0, NOW)
    assert len(out) == 25
    live = out[-1]
    assert live.open_time == NOW.replace(minute=0)
    assert (live.open, live.close) == (bars[-1].close, 67_710.0)
    assert live.low == 67_710.0
    assert live_from(out, NOW) == live.open_time


def test_a_stored_partial_hour_is_extended_to_the_price() -> None:
    bars = hourly(24, NOW.replace(minute=0))
    out = with_live_bar(bars, 70_000.0, NOW)
    assert len(out) == 24
    assert (out[-1].close, out[-1].high) == (70_000.0, 70_000.0)


def test_an_old_price_changes_nothing() -> None:
    bars = hourly(24, NOW.replace(minute=0))
    assert with_live_bar(bars, 1.0, NOW - 3 * HOUR) == bars


def view(bars: list[Candle]) -> LiquidationsView:
    hour = NOW.replace(minute=0)
    rows = (
        LiqMinute(
            coin="BTC",
            minute=hour + timedelta(minutes=5),
            side="long",
            venue="binance",
            usd=237e6,
            events=40,
            max_usd=9e6,
        ),
        LiqMinute(
            coin="BTC", minute=hour - 2 * HOUR, side="short", venue="binance", usd=20e6, events=4, max_usd=9e6
        ),
    )
    ticker = Ticker(coin="BTC", venue="binance", market="spot", price=67_710.0, ts=NOW)
    cover = Coverage(
        covered_since=NOW - timedelta(minutes=50),
        venues=("binance",),
        gap=timedelta(0),
        connected_now=("binance",),
    )
    return LiquidationsView("BTC", (), cover, (), rows, tuple(bars), NOW, ticker)


def test_liquidation_chart_draws_the_current_hour_and_the_live_price() -> None:
    spec = liquidations_chart(view(hourly(48, NOW.replace(minute=0) - HOUR)))
    assert spec is not None
    assert spec.current_label == "now $67,710"
    assert spec.candles[-1].open_time == NOW.replace(minute=0)
    assert spec.live_from == NOW.replace(minute=0)
    texts = [t.get_text() for ax in build_figure(spec).axes for t in ax.texts]
    assert "live" in texts
    assert not any("no liquidation" in t for t in texts)  # the current hour's $237M is in range
    assert render_chart(spec).startswith(b"\x89PNG")
