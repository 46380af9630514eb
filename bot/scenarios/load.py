"""Read a scenario file and write its market state into a store.

A bad file fails with one line naming the file and the field (``x.json: candles[3].rows[10]:
high must be ≥ low``), so whoever edits one by hand sees where, not a pydantic dump. Applying
goes through the same Store methods the collectors use, so the answers read a scenario exactly
as they read live data; the sources' health is recorded too, marked as scenario data, so
/status shows their ages and says where they came from.
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.models import (
    Candle,
    Funding,
    GlobalStats,
    Liquidation,
    LongShortRatio,
    MacroPoint,
    OpenInterest,
    Ticker,
    TopTraderRatio,
)
from bot.scenarios.model import TIME_HELP, Scenario
from bot.store import Store

SAMPLE_DATA = "sample data"
"""Start of the health detail of every source a sample scenario filled (see :func:`is_sample_store`)."""

# The health rows a scenario fills, named as the collectors name them.
STREAM_SOURCE = "{venue}-liquidations"


class ScenarioError(ValueError):
    """A scenario file that cannot be used; the message is one line: ``path: field: problem``."""

    def __init__(self, path: str, where: str, problem: str) -> None:
        self.path = path
        self.where = where
        self.problem = problem
        super().__init__(": ".join(p for p in (path, where, problem) if p))


def _where(loc: Iterable[int | str], extra: str | None) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    if extra:
        out += extra if not out or extra.startswith("[") else f".{extra}"
    return out


def describe(exc: ValidationError) -> tuple[str, str]:
    """The first error of ``exc`` as (field path, problem); the count of the others is added
    to the problem, since one clear message beats a wall of them."""
    errors = exc.errors(include_url=False)
    first = errors[0]
    ctx: dict[str, Any] = first.get("ctx") or {}
    at = ctx.get("at")
    where = _where(first["loc"], at if isinstance(at, str) else None)
    if first["type"] == "string_pattern_mismatch" and "now|" in str(ctx.get("pattern", "")):
        problem = f"bad time {first['input']!r}: expected {TIME_HELP}"
    else:
        msg = first["msg"]
        problem = msg[0].lower() + msg[1:] if msg else first["type"]
    if len(errors) > 1:
        problem += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return where, problem


def parse_scenario(data: Any, path: str = "<scenario>") -> Scenario:
    """Validate already-parsed JSON; errors as :class:`ScenarioError` naming ``path``."""
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        where, problem = describe(exc)
        raise ScenarioError(path, where, problem) from None


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (``.json``, or ``.json.gz`` for big ones)."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
        if name.endswith(".gz"):
            raw = gzip.decompress(raw)
    except (OSError, EOFError) as exc:
        raise ScenarioError(name, "", f"cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        problem = f"not valid JSON: {exc.msg if isinstance(exc, json.JSONDecodeError) else exc}"
        raise ScenarioError(name, where, problem) from None
    return parse_scenario(data, name)


def apply_scenario(scenario: Scenario, store: Store, *, now: datetime | None = None) -> datetime:
    """Write every section of ``scenario`` into ``store`` and return the scenario's now.

    Relative times resolve against ``scenario.now``. With ``now`` given, the whole state is
    moved by ``now - scenario.now`` (absolute times too), so a sample can be replayed at the
    current clock and read as fresh. Meant for an empty store: stream sessions are opened and
    closed as the streams would, which would also close a session the store already had open.
    """
    shift = (now - scenario.now) if now is not None else timedelta(0)
    at_now = scenario.now + shift
    cache: dict[str, datetime] = {}

    def at(text: str) -> datetime:
        value = cache.get(text)
        if value is None:
            value = cache[text] = scenario.at(text) + shift
        return value

    latest: dict[str, datetime] = {}

    def seen(source: str, when: datetime) -> None:
        if source not in latest or when > latest[source]:
            latest[source] = when

    _apply_tickers(scenario, store, at, seen)
    for series in scenario.candles:
        rows = [
            Candle(
                coin=series.coin,
                venue=series.venue,
                market=series.market,
                interval=series.interval,
                open_time=at(r.t),
                open=r.open,
                high=r.high,
                low=r.low,
                close=r.close,
                volume=r.volume,
                quote_volume=r.quote_volume,
                taker_buy_quote=r.taker_buy_quote,
            )
            for r in series.rows
        ]
        store.upsert_candles(rows)
        if rows:
            seen(_source(series.venue, series.market), rows[-1].open_time)
    events = [
        Liquidation(
            venue=s.venue,
            coin=s.coin,
            side=e.side,
            price=e.price,
            qty=e.qty,
            usd=e.usd,
            ts=at(e.t),
            event_id=e.event_id,
        )
        for s in scenario.liquidations
        for e in s.events
    ]
    store.insert_liquidations(events)
    for e in events:
        seen(STREAM_SOURCE.format(venue=e.venue), e.ts)
    for session in sorted(scenario.streams, key=lambda s: at(s.connected_at)):
        source = STREAM_SOURCE.format(venue=session.venue)
        store.open_stream_session(session.venue, at(session.connected_at))
        if session.disconnected_at is not None:
            store.close_stream_session(session.venue, at(session.disconnected_at))
            seen(source, at(session.disconnected_at))
        else:
            seen(source, at_now)  # a connected stream is current even when nothing was liquidated
    for oi in scenario.open_interest:
        store.upsert_open_interest(
            OpenInterest(coin=oi.coin, venue=oi.venue, ts=at(r.t), oi_usd=r.oi_usd, oi_coin=r.oi_coin)
            for r in oi.rows
        )
        if oi.rows:
            seen(_source(oi.venue, "perp"), at(oi.rows[-1].t))
    for f in scenario.funding:
        store.upsert_funding(
            Funding(coin=f.coin, venue=f.venue, ts=at(r.t), rate=r.rate, interval_hours=f.interval_hours)
            for r in f.rows
        )
        if f.rows:
            seen(_source(f.venue, "perp"), at(f.rows[-1].t))
    for ls in scenario.long_short:
        store.upsert_long_short(
            LongShortRatio(coin=ls.coin, venue=ls.venue, ts=at(r.t), long_share=r.long_share) for r in ls.rows
        )
        if ls.rows:
            seen(_source(ls.venue, "perp"), at(ls.rows[-1].t))
    for tt in scenario.top_traders:
        store.upsert_top_traders(
            TopTraderRatio(coin=tt.coin, venue=tt.venue, basis=tt.basis, ts=at(r.t), long_share=r.long_share)
            for r in tt.rows
        )
    for m in scenario.macro:
        store.upsert_macro(
            MacroPoint(
                series=m.series,
                symbol=m.symbol,
                source=m.source,
                interval=m.interval,
                ts=at(r.t),
                close=r.close,
            )
            for r in m.rows
        )
        if m.rows:
            seen(m.source, at(m.rows[-1].t))
    store.upsert_global(
        GlobalStats(
            ts=at(g.ts),
            source=g.source,
            total_market_cap_usd=g.total_market_cap_usd,
            market_cap_change_24h_pct=g.market_cap_change_24h_pct,
            btc_dominance_pct=g.btc_dominance_pct,
            eth_dominance_pct=g.eth_dominance_pct,
        )
        for g in scenario.global_stats
    )
    for g in scenario.global_stats:
        seen(g.source, at(g.ts))
    if scenario.breadth is not None:
        store.replace_breadth(scenario.breadth.entries, at(scenario.breadth.at))
        seen("coingecko", at(scenario.breadth.at))
    detail = (
        f"{SAMPLE_DATA}: scenario {scenario.name}" if scenario.sample_data else f"scenario {scenario.name}"
    )
    for source, when in sorted(latest.items()):
        store.record_success(source, when, detail)
    return at_now


def _apply_tickers(
    scenario: Scenario, store: Store, at: Callable[[str], datetime], seen: Callable[[str, datetime], None]
) -> None:
    """Tickers go in one batch per fetch time, as the collectors write them."""
    batches: dict[datetime, list[Ticker]] = defaultdict(list)
    for t in scenario.tickers:
        fetched = at(t.fetched_at if t.fetched_at is not None else t.ts)
        batches[fetched].append(
            Ticker(
                coin=t.coin,
                venue=t.venue,
                market=t.market,
                price=t.price,
                change_24h_pct=t.change_24h_pct,
                change_7d_pct=t.change_7d_pct,
                high_24h=t.high_24h,
                low_24h=t.low_24h,
                quote_volume_24h=t.quote_volume_24h,
                market_cap=t.market_cap,
                ts=at(t.ts),
            )
        )
        seen(_source(t.venue, t.market), fetched)
    for fetched, tickers in sorted(batches.items()):
        store.upsert_tickers(tickers, fetched)


def _source(venue: str, market: str) -> str:
    """The health row a venue's data belongs to, named as the collectors name it."""
    if venue == "binance":
        return "binance-spot" if market == "spot" else "binance-futures"
    return venue


def is_sample_store(store: Store) -> bool:
    """Whether any source in ``store`` was filled from a sample scenario: answers from such a
    store must be labelled sample data."""
    with store.lock:
        row = store.conn.execute(
            "SELECT 1 FROM source_health WHERE detail LIKE ? LIMIT 1", (SAMPLE_DATA + "%",)
        ).fetchone()
    return row is not None
