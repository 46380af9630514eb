"""/why: read every finding's inputs from the store (one worker-thread call), run the
analysis functions, and rank them with :func:`bot.analysis.why.explain`.

Reads are bounded by the window plus the baselines the findings need (31 days of hourly bars
for beta, 30 days of hourly liquidation roll-ups, 400 daily bars for levels), so the cost of
an answer does not grow with older history.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.analysis.alignment import aligned_index
from bot.analysis.benchmark import market_benchmark
from bot.analysis.beta import beta_to_btc
from bot.analysis.breadth import MAJORS, breadth, market_cap_move
from bot.analysis.coverage import coverage
from bot.analysis.findings import MARKET, window_label
from bot.analysis.flow import taker_flow
from bot.analysis.liq_basis import LiqBands, latest_oi_usd, with_basis
from bot.analysis.macro import macro_moves
from bot.analysis.open_interest import OIConfig, oi_change
from bot.analysis.positioning import funding_state, long_short_state, top_traders_state
from bot.analysis.regime import regime_from_findings
from bot.analysis.sentiment import SentimentFinding, sentiment
from bot.analysis.why import Unknown, WhyAnswer, WhyInputs, explain
from bot.coins import Coin
from bot.models import OpenInterest, Ticker
from bot.services.guild_prefs import DEFAULT_WINDOW
from bot.services.levels import levels_for
from bot.services.liquidations import OI_MAX_AGE, LiqSums, liquidations
from bot.services.market import MarketService, best_ticker
from bot.services.moves import coin_move
from bot.store import Store

log = logging.getLogger(__name__)

WINDOWS: dict[str, timedelta] = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
BETA_DAYS = 31
BASELINE = timedelta(days=30)
HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Moves:
    changes: dict[str, float]
    as_of: datetime | None
    sources: tuple[str, ...]


def window_moves(
    store: Store, tickers: dict[str, Ticker], coins: Sequence[str], window: str, now: datetime
) -> Moves:
    """Each coin's % move over the window, from one consistent source per window: the 24h (and
    where given 7d) ticker change, else the current price against the hourly (daily) bar open
    at the window start."""
    changes: dict[str, float] = {}
    stamps: list[datetime] = []
    sources: set[str] = set()
    interval = "1d" if window == "7d" else "1h"
    start = now - WINDOWS[window]
    # the bars of every coin without a ticker change for this window, in one read
    from_bars = [c for c in coins if c in tickers and _ticker_change(tickers[c], window) is None]
    bars_of = store.candles_many(
        from_bars, interval, start - (timedelta(days=1) if interval == "1d" else HOUR), now
    )
    for coin in coins:
        t = tickers.get(coin)
        pre_read = bars_of.get(coin, []) if coin in from_bars else None
        move = coin_move(store, t, window, now, bars=pre_read) if t is not None else None
        if t is None or move is None:
            continue
        changes[coin] = move  # the same function the alert engine states its move with
        stamps.append(t.ts)
        sources.add(t.venue)
    return Moves(changes, min(stamps) if stamps else None, tuple(sorted(sources)))


def _ticker_change(t: Ticker, window: str) -> float | None:
    return t.change_24h_pct if window == "24h" else t.change_7d_pct if window == "7d" else None


def coin_oi(store: Store, coin: str, now: datetime, windows: Sequence[timedelta]) -> list[OpenInterest]:
    """The points a change needs: each venue's latest, and those either side of each window's
    start (index seeks, not a month of minute points)."""
    latest = store.oi_points(coin, [now], after=False)
    if not latest:
        return []
    end = max(p.ts for p in latest)
    return [*latest, *store.oi_points(coin, _around([end - w for w in windows]))]


def _around(targets: Sequence[datetime]) -> list[datetime]:
    """Each target and a point past it, so the reads bring the series' spacing near the target
    even before the history starts (what :mod:`bot.analysis.alignment` needs)."""
    reach = OIConfig().max_spacing_align
    return [t for target in targets for t in (target, target + reach)]


def market_oi(
    store: Store, coins: Sequence[str], now: datetime, windows: Sequence[timedelta]
) -> list[OpenInterest]:
    """The market's open interest per venue at the latest time and at each window's start: the
    sum over the same coins at both ends, each coin's value as of that time (and close enough
    to it), so a coin missing at one end never reads as a collapse."""
    cfg = OIConfig()
    latest = store.oi_latest(coins, now)  # one read: each coin's latest point per venue
    out: list[OpenInterest] = []
    for venue in sorted({p.venue for p in latest}):
        ends = [p for p in latest if p.venue == venue]
        end = min(p.ts for p in ends)
        out.append(OpenInterest(coin=MARKET, venue=venue, ts=end, oi_usd=sum(p.oi_usd for p in ends)))
        for w in windows:
            t = end - w
            then = []
            # one read per instant for every coin (the target and a point past it)
            around_at = {at: store.oi_near(venue, [e.coin for e in ends], at) for at in _around([t])}
            for e in ends:
                near = sorted(
                    {p.ts: p for at in _around([t]) for p in around_at[at].get(e.coin, [])}.values(),
                    key=lambda p: p.ts,
                )
                i = aligned_index([p.ts for p in near], t, w, cfg=cfg.align())
                if i is not None:
                    then.append(near[i])
            if len(then) == len(ends):
                # stamped at the latest of the coins' points: the span it gives is never overstated
                at = max(p.ts for p in then)
                out.append(OpenInterest(coin=MARKET, venue=venue, ts=at, oi_usd=sum(p.oi_usd for p in then)))
    return out


def gather(
    store: Store,
    *,
    tracked: Sequence[str],
    coin: str | None,
    window: str,
    now: datetime,
    stale_after: timedelta,
    bands: LiqBands | None = None,
    majors: Sequence[str] = MAJORS,
) -> WhyInputs:
    span = WINDOWS[window]
    subject = coin or "BTC"
    tickers = best_ticker(store.tickers())
    moves = window_moves(store, tickers, tracked, window, now)
    unknowns: list[Unknown] = []
    if moves.as_of is not None and now - moves.as_of > stale_after:
        unknowns.append(Unknown(kind="stale_prices", age=now - moves.as_of))
    caps = market_caps(store)
    br = breadth(
        moves.changes,
        window=window,
        as_of=moves.as_of,
        market_caps=caps or None,
        sources=moves.sources,
        majors=majors,
    )

    market_cap = None
    if coin is None:
        market_cap = market_cap_move(window, store.global_latest(), store.global_at(now - span))

    since_hourly = now - timedelta(days=BETA_DAYS) - span
    subject_hourly = store.candle_columns(subject, "1h", since_hourly, now)
    beta = None
    if coin is not None and coin != "BTC":
        btc_hourly = store.candle_columns("BTC", "1h", since_hourly, now)
        beta = beta_to_btc(
            coin,
            subject_hourly,
            btc_hourly,
            now=now,
            move_window=span,
            coin_move_pct=moves.changes.get(coin),
            btc_move_pct=moves.changes.get("BTC"),
        )

    bench = None
    if coin is not None and coin != "BTC":
        peers = breadth(
            {c: v for c, v in moves.changes.items() if c != coin},
            window=window,
            as_of=moves.as_of,
            market_caps=caps or None,
            sources=moves.sources,
        )
        bench = market_benchmark(coin, window, moves.changes.get(coin), peers, beta)

    sessions = store.stream_sessions(now - BASELINE - span)
    cover = coverage(sessions, now - span, now)
    if not cover.connected_now:
        unknowns.append(Unknown(kind="streams_down"))
    sums: LiqSums = {}  # the windows share their last hour's sums
    liq = liquidations(store, coin, now, span, cover, sums)
    # 24h, 7d and 30d totals for context; the asked window's finding is not computed twice
    spans = (timedelta(hours=24), timedelta(days=7), timedelta(days=30))
    liq_totals = tuple(liq if d == span else liquidations(store, coin, now, d, cover, sums) for d in spans)

    month = timedelta(days=30)
    oi_points = (
        coin_oi(store, coin, now, (span, month)) if coin else market_oi(store, tracked, now, (span, month))
    )
    oi_key = coin or MARKET
    oi = oi_change(oi_key, oi_points, now=now, window=span)
    # the liquidations' size on the baseline ladder: own history, else open interest, else volume
    t_subject = tickers.get(subject) if coin else None
    volume = t_subject.quote_volume_24h if t_subject else None
    liq = with_basis(
        liq, oi_usd=latest_oi_usd(oi_points, oi_key, now, OI_MAX_AGE), volume_usd=volume, bands=bands
    )
    oi_30d = oi_change(oi_key, oi_points, now=now, window=month)
    funding = funding_state(subject, store.funding_points(subject, [now, now - span]), now=now, window=span)
    ls = long_short_state(
        subject, store.long_short(subject, now - span - timedelta(days=1)), now=now, window=span
    )
    top = top_traders_state(
        subject,
        store.top_traders(subject, now - span - timedelta(hours=7)),
        now=now,
        window=span,
        all_accounts=ls,
    )
    flow = None
    perp_hourly = store.candles_of(subject, "1h", "binance", "perp", now - span - HOUR, now)
    if len(subject_hourly) and perp_hourly:
        # the flow reads only the window's bars: those as models, the month stays columns
        spot_window = subject_hourly.between(now - span).candles()
        flow = taker_flow(subject, spot_window, perp_hourly, now=now, window=span)

    levels = levels_for(store, subject, tickers.get(subject), now, hourly=subject_hourly)
    broke = bool(levels and levels.broken and levels.broken[0].was == "support")
    move = moves.changes.get(subject) if coin else _market_move(moves.changes, br.median_pct)
    regime = regime_from_findings(
        move, oi=oi, liquidations=liq, flow=flow, broke_level=broke, coin=oi_key, window=window_label(span)
    )

    # whole sessions, close to close: daily closes, plus hourly bars for a session in progress
    series = ("spx", "ndx", "sx5e", "dax", "dxy", "usd_broad", "us10y", "vix")
    macro_points = [
        *store.macro(series, "1d", now - span - timedelta(days=10)),
        *store.macro(series, "1h", now - timedelta(days=2)),
    ]
    if any(p.series == "dxy" for p in macro_points):  # one dollar gauge, not two
        macro_points = [p for p in macro_points if p.series != "usd_broad"]
    asked = [s for s in series if s != "usd_broad" or any(p.series == s for p in macro_points)]
    macro = macro_moves(macro_points, now=now, window=span, series=asked)

    t = tickers.get(subject)
    return WhyInputs(
        coin=coin,
        window=window,
        now=now,
        move_pct=move,
        move_source=t.venue if t else "",
        move_as_of=t.ts if t else None,
        breadth=br,
        market_cap=market_cap,
        beta=beta,
        benchmark=bench,
        liquidations=liq,
        liq_totals=liq_totals,
        oi=oi,
        oi_30d=oi_30d,
        funding=funding,
        long_short=ls,
        top_traders=top,
        flow=flow,
        regime=regime,
        macro=macro,
        levels=levels,
        sentiment=fear_greed(store, now),
        unknowns=tuple(unknowns),
    )


def fear_greed(store: Store, now: datetime) -> SentimentFinding | None:
    """The newest Fear & Greed reading; an answer never fails for the want of it."""
    try:
        return sentiment(store.fear_greed_latest(now), now)
    except sqlite3.Error:
        log.warning("no Fear & Greed reading for the answer", exc_info=True)
        return None


def market_caps(store: Store) -> dict[str, float]:
    """Each coin's market cap from any source that gives one (CoinGecko's tickers, else its
    top-100 snapshot): the best-priced ticker (an exchange's) usually carries none."""
    caps = {e.symbol: e.market_cap for e in store.market_breadth()[0] if e.market_cap}
    caps.update({t.coin: t.market_cap for t in store.tickers() if t.market_cap})
    return caps


def _market_move(changes: dict[str, float], median: float | None) -> float | None:
    """The market's move: BTC's when known (it leads and is half the market), else the median."""
    return changes.get("BTC", median)


class WhyService:
    def __init__(self, market: MarketService) -> None:
        self.market = market

    async def why(
        self,
        coin: Coin | None,
        window: str = "24h",
        *,
        majors: Sequence[str] = MAJORS,
        warm: bool = False,
    ) -> WhyAnswer:
        """The answer for (coin, window, majors line), shared by every reader of the same data
        version; servers with different shortlists never share an answer."""
        subject = coin.symbol if coin else None
        line = tuple(majors)
        return await self.market.answers.get(
            ("why", subject, window, line),
            lambda: self._why(subject, window, line),
            subject=subject,
            warm=warm,
        )

    async def for_server(self, guild_id: int | None, coin: Coin | None, window: str | None) -> WhyAnswer:
        """The answer as a server asked it: its default window when none is given, its
        shortlist on the majors line (``/settings``; the bot's defaults outside a server)."""
        prefs = await self.market.guilds.get(guild_id)
        return await self.why(coin, window or prefs.window or DEFAULT_WINDOW, majors=prefs.majors)

    async def _why(self, coin: str | None, window: str, majors: tuple[str, ...] = MAJORS) -> WhyAnswer:
        m = self.market
        inputs = await m.store.run(
            gather,
            m.store.sync,
            tracked=m.tracked,
            coin=coin,
            window=window,
            now=m.clock(),
            stale_after=m.stale_after,
            bands=m.settings.liquidations,
            majors=majors,
        )
        return explain(inputs)
