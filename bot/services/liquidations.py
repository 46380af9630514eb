"""/liquidations: long vs short liquidations per window and venue, against the coin's own
baseline, with honest coverage (a lower bound from the public streams, covered since when,
with how many minutes of gaps). Also serves /why and the charts."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from bot.analysis.coverage import Coverage, coverage
from bot.analysis.findings import MARKET, LiquidationFinding
from bot.analysis.liq_basis import LiqBands, latest_oi_usd, with_basis
from bot.analysis.liquidations import LiqMinute, LiquidationConfig, liquidation_window
from bot.clock import from_ms
from bot.coins import Coin
from bot.services.market import MarketService, best_ticker
from bot.store import Store
from bot.views.liquidations import LiquidationsView

BASELINE = timedelta(days=30)
LIQ_WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
    "30d": timedelta(days=30),
}
DEFAULT_WINDOWS = ("1h", "24h", "7d", "30d")
CHART_SPAN = timedelta(days=7)
# What the chart shows for the window asked (None: the default, several windows): the span it
# covers (the window with context before it), its price bars and its liquidation buckets.
CHART_FRAMES: dict[str | None, tuple[timedelta, str, timedelta]] = {
    None: (CHART_SPAN, "1h", timedelta(hours=1)),
    "1h": (timedelta(hours=12), "1h", timedelta(minutes=10)),
    "4h": (timedelta(hours=24), "1h", timedelta(minutes=30)),
    "24h": (timedelta(days=3), "1h", timedelta(hours=1)),
    "7d": (CHART_SPAN, "1h", timedelta(hours=1)),
    "30d": (timedelta(days=30), "1d", timedelta(days=1)),
}
OI_MAX_AGE = timedelta(hours=2)  # older open interest is no yardstick for today's liquidations


def _floor_hour(t: datetime) -> datetime:
    return t.replace(minute=0, second=0, microsecond=0)


def liq_rows(
    store: Store,
    coin: str | None,
    start: datetime,
    now: datetime,
    window: timedelta,
    *,
    baseline: bool = True,
) -> list[LiqMinute]:
    """Hourly roll-ups for the 30-day baseline, minute rows for the window (hourly for long
    windows); split on an hour boundary so no liquidation is counted twice."""
    edge = _floor_hour(start)
    rows = store.liq_buckets(coin, edge - BASELINE, edge, hourly=True) if baseline else []
    rows += store.liq_buckets(coin, edge, now + timedelta(minutes=1), hourly=window > timedelta(days=1))
    return [
        LiqMinute.model_construct(  # roll-up rows, validated as events on the way in
            coin=coin or MARKET,
            minute=from_ms(r["minute"]),
            side=r["side"],
            venue=r["venue"],
            usd=r["usd"],
            events=r["events"],
            max_usd=r["max_usd"],
        )
        for r in rows
    ]


def coin_oi_usd(store: Store, coin: str | None, now: datetime) -> float | None:
    """A coin's open interest now (each venue's latest, summed); ``None`` for the market."""
    if coin is None:
        return None
    return latest_oi_usd(store.oi_points(coin, [now], after=False), coin, now, OI_MAX_AGE)


# liq_sums results by (coin, start, end): windows of one answer share their last hour
LiqSums = dict[tuple[str | None, datetime, datetime], list[dict[str, Any]]]


def liquidations(
    store: Store,
    coin: str | None,
    now: datetime,
    window: timedelta,
    cover: Coverage,
    sums: LiqSums | None = None,
    *,
    oi_usd: float | None = None,
    volume_usd: float | None = None,
    bands: LiqBands | None = None,
) -> LiquidationFinding:
    """One window's finding from SQL sums (baseline, window, last hour) rather than from every
    minute's rows: the cost stays flat whatever the window and the history. Pass the same
    ``sums`` for the windows of one answer and each span is read once. Its size is measured on
    the baseline ladder (own history, else the coin's open interest, read here when not given,
    else ``volume_usd``)."""
    cfg = LiquidationConfig()
    key = coin or MARKET
    start = now - window
    b_start = start - timedelta(days=cfg.baseline_days)
    if cover.covered_since is not None:
        b_start = max(b_start, cover.covered_since)
    split = max(start, now - cfg.accel_span)
    rows: list[LiqMinute] = []

    def add(stamp: datetime, lo: datetime, hi: datetime) -> None:
        found = sums.get((coin, lo, hi)) if sums is not None else None
        if found is None:
            found = store.liq_sums(coin, lo, hi)
            if sums is not None:
                sums[(coin, lo, hi)] = found
        for r in found:
            rows.append(
                LiqMinute(
                    coin=key,
                    minute=stamp,
                    side=r["side"],
                    venue=r["venue"],
                    usd=r["usd"],
                    events=r["events"],
                    max_usd=r["max_usd"],
                )
            )

    if b_start < start:
        add(b_start, b_start, start)  # one bucket for the baseline before the window
    if split > start:
        add(start, start, split)  # the window up to its last hour…
    add(split, split, now + timedelta(minutes=1))  # …and the last hour, for the acceleration
    found = liquidation_window(
        key, rows, now=now, window=window, covered_since=cover.covered_since, venues=cover.venues
    )
    if oi_usd is None:
        oi_usd = coin_oi_usd(store, coin, now)
    return with_basis(found, oi_usd=oi_usd, volume_usd=volume_usd, bands=bands)


def gather_liquidations(
    store: Store, coin: str | None, windows: tuple[str, ...], now: datetime, bands: LiqBands | None = None
) -> LiquidationsView:
    longest = max(LIQ_WINDOWS[w] for w in windows)
    sessions = store.stream_sessions(now - BASELINE - longest)
    cover = coverage(sessions, now - longest, now)
    oi_usd = coin_oi_usd(store, coin, now)
    sums: LiqSums = {}
    found = tuple(
        liquidations(store, coin, now, LIQ_WINDOWS[w], cover, sums, oi_usd=oi_usd, bands=bands)
        for w in windows
    )
    top: tuple[tuple[str, float, float], ...] = ()
    if coin is None:
        top = tuple((r["coin"], r["usd"], r["long_usd"]) for r in store.top_liquidated(now - longest, now, 5))
    asked = windows[0] if len(windows) == 1 else None
    span, interval, bucket = CHART_FRAMES.get(asked, CHART_FRAMES[None])
    rows = liq_rows(store, coin, now - span, now, span, baseline=False)
    charted = coin or "BTC"
    candles = store.candles(charted, interval, now - span, now)
    ticker = best_ticker(store.tickers(charted)).get(charted)
    return LiquidationsView(
        coin,
        found,
        cover,
        top,
        tuple(rows),
        tuple(candles),
        now,
        ticker,
        window=asked,
        window_span=LIQ_WINDOWS[asked] if asked else None,
        chart_span=span,
        chart_bucket=bucket,
    )


class LiquidationsService:
    def __init__(self, market: MarketService) -> None:
        self.market = market

    async def liquidations(self, coin: Coin | None, window: str | None = None) -> LiquidationsView:
        windows = (window,) if window else DEFAULT_WINDOWS
        m = self.market
        symbol = coin.symbol if coin else None
        bands = m.settings.liquidations

        async def compute() -> LiquidationsView:
            return await m.store.run(gather_liquidations, m.store.sync, symbol, windows, m.clock(), bands)

        return await m.answers.get(("liquidations", symbol, windows), compute, subject=symbol)

    async def for_server(
        self, guild_id: int | None, coin: Coin | None, window: str | None
    ) -> LiquidationsView:
        """As a server asked: its default window (``/settings``) when none is given, else the
        default several windows."""
        return await self.liquidations(coin, await self.market.guilds.window(guild_id, window, fallback=None))
