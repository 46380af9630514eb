"""Macro: did equities, the dollar, yields or VIX move before or with crypto?

Each series' move is read over whole trading sessions, close to close, never a slice of one
(:mod:`bot.analysis.sessions`): the sessions that overlap the window, or when none does (a
weekend, a night) the one immediately before it. Each move carries its session dates, whether
the last session is still trading, and a weight (1 when the session overlaps the window,
halving for every day it closed before it), so a Saturday answer names Friday's shock and an
older one counts for less.

The verdict is "risk_off" only when equities fell and at least one of the dollar, yields or
VIX rose past its threshold; "risk_on" is the mirror image. Equities moving with no
confirmation, or indices disagreeing, is "mixed"; nothing moving is no verdict. ``recency``
is the weight of the sessions the verdict rests on, for the ranker.
Yields are compared in percent of their level, which does not depend on whether the source
quotes 4.25 or 42.5.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.analysis.findings import Caveat, MacroCase, MacroFinding, MacroVerdict, SeriesMove, window_label
from bot.analysis.sessions import CALENDARS, region, sessions, window_span
from bot.models import MacroPoint

SERIES_NAMES: dict[str, str] = {
    "spx": "S&P 500",
    "ndx": "Nasdaq 100",
    "sx5e": "Euro Stoxx 50",
    "dax": "DAX",
    "dxy": "US dollar index",
    "usd_broad": "US dollar (broad index)",  # FRED's fallback when the dollar index is missing
    "us10y": "US 10-year yield",
    "vix": "VIX",
}
EQUITIES: tuple[str, ...] = ("spx", "ndx", "sx5e", "dax")
RISK_GAUGES: tuple[str, ...] = ("dxy", "usd_broad", "us10y", "vix")


@dataclass(frozen=True)
class MacroConfig:
    equity_move_pct: float = 0.5  # mean equity move that counts as a fall or a rise
    dxy_move_pct: float = 0.25  # dollar index rise (or fall) that counts
    us10y_move_pct: float = 1.0  # in percent of the yield: 1% of ~4% is ~4bp
    vix_move_pct: float = 5.0
    max_age: timedelta = field(default=timedelta(days=4))  # weekends and holidays
    half_life: timedelta = field(default=timedelta(hours=24))  # a session before the window

    def gauge_threshold(self, series: str) -> float:
        return {"dxy": self.dxy_move_pct, "us10y": self.us10y_move_pct, "vix": self.vix_move_pct}.get(
            series, float("inf")
        )


def _move(
    series: str, bars: list[MacroPoint], now: datetime, window: timedelta, cfg: MacroConfig
) -> SeriesMove:
    name = SERIES_NAMES.get(series, series)
    last = bars[-1]
    where = region(series)
    ident = {"series": series, "name": name, "symbol": last.symbol, "source": last.source, "region": where}
    if now - last.ts > cfg.max_age:
        return SeriesMove(**ident, end=last.ts, insufficient=Caveat(code="stale_close", span=now - last.ts))
    days = sessions(bars, CALENDARS[where], now)
    if len(days) < 2:
        return SeriesMove(**ident, end=last.ts, insufficient=Caveat(code="one_close"))
    span = window_span(days, now - window, now, cfg.half_life)
    if isinstance(span, Caveat):
        return SeriesMove(**ident, end=last.ts, insufficient=span)
    first, final = span.used[0], span.used[-1]
    return SeriesMove(
        **ident,
        start=span.base.closes,
        end=min(final.closes, now),
        start_close=span.base.close,
        end_close=final.close,
        change_pct=(final.close / span.base.close - 1.0) * 100.0,
        change_abs=final.close - span.base.close,
        bars=len(span.used),
        in_window=span.overlaps,
        first_session=first.day,
        last_session=final.day,
        live=final.live,
        weight=span.weight,
    )


def _verdict(
    moves: dict[str, SeriesMove], cfg: MacroConfig
) -> tuple[MacroVerdict | None, MacroCase, float | None, tuple[str, ...]]:
    eq = [m.change_pct for s in EQUITIES if (m := moves.get(s)) and m.change_pct is not None]
    if not eq:
        return None, "no_equities", None, ()
    mean = statistics.fmean(eq)
    thr = cfg.equity_move_pct
    falling = mean <= -thr and max(eq) < thr
    rising = mean >= thr and min(eq) > -thr
    gauges = {s: m.change_pct for s in RISK_GAUGES if (m := moves.get(s)) and m.change_pct is not None}
    if not (falling or rising):
        if max(eq) >= thr and min(eq) <= -thr:
            return "mixed", "split", mean, ()
        return None, "flat", mean, ()
    if not gauges:
        return None, "no_gauges", mean, ()
    sign = -1.0 if falling else 1.0
    confirming = tuple(s for s, v in gauges.items() if -sign * v >= cfg.gauge_threshold(s))
    if confirming:
        return "risk_off" if falling else "risk_on", "confirmed", mean, confirming
    return "mixed", "unconfirmed", mean, ()


def macro_moves(
    points: Sequence[MacroPoint],
    *,
    now: datetime,
    window: timedelta,
    series: Sequence[str] = ("spx", "ndx", "sx5e", "dax", "dxy", "us10y", "vix"),
    config: MacroConfig = MacroConfig(),
) -> MacroFinding:
    """Moves of the macro ``series`` over ``window`` and the risk verdict (see module doc).

    Daily and hourly bars of a series may be mixed: finished sessions close at their daily bar,
    the session in progress at its newest hourly bar.
    """
    cfg = config
    label = window_label(window)
    grouped: dict[str, list[MacroPoint]] = defaultdict(list)
    for p in points:
        if p.ts <= now and p.series in series:
            grouped[p.series].append(p)
    moves: dict[str, SeriesMove] = {}
    for s, bars in grouped.items():
        bars.sort(key=lambda b: b.ts)
        moves[s] = _move(s, [b for b in bars if b.interval in ("1d", "1h")] or bars, now, window, cfg)
    missing = tuple(s for s in series if s not in moves)
    ordered = tuple(moves[s] for s in series if s in moves)
    notes = [m.insufficient.model_copy(update={"series": m.name}) for m in ordered if m.insufficient]
    notes += [
        Caveat(code="session_before_window", series=m.name, day=m.last_session)
        for m in ordered
        if m.last_session and not m.insufficient and not m.in_window
    ]
    if not any(m.change_pct is not None for m in ordered):
        return MacroFinding(
            window=label,
            moves=ordered,
            missing=missing,
            notes=tuple(notes),
            sources=tuple(sorted({m.source for m in ordered})),
            insufficient=Caveat(code="no_macro_move"),
        )
    verdict, case, eq_mean, confirming = _verdict(moves, cfg)
    return MacroFinding(
        window=label,
        as_of=max(m.end for m in ordered if m.end is not None),
        sources=tuple(sorted({m.source for m in ordered})),
        notes=tuple(notes),
        moves=ordered,
        missing=missing,
        equities_pct=eq_mean,
        verdict=verdict,
        verdict_case=case,
        confirming=confirming,
        recency=max(
            (m.weight for m in ordered if m.series in EQUITIES and m.change_pct is not None), default=None
        ),
    )
