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
import zlib
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from bot.models import (
    Candle,
    FearGreed,
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


# Bounds on what a scenario file may cost to read: the bundled ones are under 1 MB compressed
# and 3 MB of JSON; a 35-day export of a busy store stays well inside these.
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_JSON_BYTES = 256 * 1024 * 1024
MAX_ROWS = 4_000_000
_CHUNK = 1024 * 1024


def _read_bounded(path: Path) -> bytes:
    """The file's JSON bytes, inflated when gzip, refusing more than the caps as it reads (a
    small gzip that inflates to gigabytes stops at the cap, not after filling memory)."""
    size = path.stat().st_size
    if path.is_dir():
        raise ScenarioError(str(path), "", "is a folder, not a scenario file")
    if size > MAX_FILE_BYTES:
        raise ScenarioError(
            str(path), "", f"too large ({size / 1e6:.0f} MB; at most {MAX_FILE_BYTES // 2**20} MiB)"
        )
    out = bytearray()
    opener = gzip.open if str(path).endswith(".gz") else open
    with opener(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            out += chunk
            if len(out) > MAX_JSON_BYTES:
                raise ScenarioError(
                    str(path), "", f"inflates to more than {MAX_JSON_BYTES // 2**20} MiB of JSON; refusing it"
                )
    return bytes(out)


def _count_rows(data: Any) -> int:
    """Rows in the sections that hold many (series rows and liquidation events)."""
    if not isinstance(data, dict):
        return 0
    total = 0
    for section in data.values():
        if not isinstance(section, list):
            continue
        total += len(section)
        for item in section:
            if isinstance(item, dict):
                total += sum(
                    len(v) for k, v in item.items() if k in ("rows", "events") and isinstance(v, list)
                )
    return total


def load_scenario(path: str | Path) -> Scenario:
    """Read and validate a scenario file (``.json``, or ``.json.gz`` for big ones), within the
    caps on file size, inflated size, nesting and number of rows."""
    name = str(path)
    try:
        raw = _read_bounded(Path(path))
    except (OSError, EOFError, zlib.error) as exc:
        problem = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        raise ScenarioError(name, "", f"cannot read: {problem}") from None
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"line {exc.lineno} column {exc.colno}" if isinstance(exc, json.JSONDecodeError) else ""
        problem = f"not valid JSON: {exc.msg if isinstance(exc, json.JSONDecodeError) else exc}"
        raise ScenarioError(name, where, problem) from None
    except RecursionError:
        raise ScenarioError(name, "", "JSON nested too deeply (a scenario is a few levels deep)") from None
    del raw
    rows = _count_rows(data)
    if rows > MAX_ROWS:
        raise ScenarioError(name, "", f"{rows:,} rows: more than the {MAX_ROWS:,} a scenario may hold")
    try:
        return parse_scenario(data, name)
    except RecursionError:
        raise ScenarioError(name, "", "JSON nested too deeply (a scenario is a few levels deep)") from None


class _Clock:
    """A scenario's times resolved once each, moved by ``shift``; and the latest time each
    source was seen at, for its health row."""

    def __init__(self, scenario: Scenario, shift: timedelta) -> None:
        self.scenario = scenario
        self.shift = shift
        self.now = scenario.now + shift
        self.cache: dict[str, datetime] = {}
        self.latest: dict[str, datetime] = {}

    def at(self, text: str) -> datetime:
        value = self.cache.get(text)
        if value is None:
            value = self.cache[text] = self.scenario.at(text) + self.shift
        return value

    def seen(self, source: str, when: datetime) -> None:
        if source not in self.latest or when > self.latest[source]:
            self.latest[source] = when


def apply_scenario(
    scenario: Scenario, store: Store, *, now: datetime | None = None, replace: bool = False
) -> datetime:
    """Write every section of ``scenario`` into ``store`` and return the scenario's now.

    Relative times resolve against ``scenario.now``. With ``now`` given, the whole state is
    moved by ``now - scenario.now`` (absolute times too), so a sample can be replayed at the
    current clock and read as fresh.

    All of it is one transaction: a kill, a full disk or a bad row leaves the store as it was.
    A store that already holds market data is refused (:class:`StoreNotEmpty`) unless
    ``replace``, which clears the market tables in the same transaction (alert subscriptions
    are kept), so re-importing never doubles candles or open interest.
    """
    clock = _Clock(scenario, (now - scenario.now) if now is not None else timedelta(0))
    with store.batch():
        if store.has_market_data():
            if not replace:
                raise StoreNotEmpty(store.where)
            store.clear_market_data()
        _apply_tickers(scenario, store, clock.at, clock.seen)
        _apply_candles(scenario, store, clock)
        _apply_liquidations(scenario, store, clock)
        _apply_series(scenario, store, clock)
        _apply_market(scenario, store, clock)
        detail = (
            f"{SAMPLE_DATA}: scenario {scenario.name}"
            if scenario.sample_data
            else f"scenario {scenario.name}"
        )
        for source, when in sorted(clock.latest.items()):
            store.record_success(source, when, detail)
    return clock.now


class StoreNotEmpty(Exception):
    """``import`` into a store that already holds market data, without ``replace``."""

    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(
            f"store {path} already holds market data: importing would mix two states; "
            "use --replace to swap it for the scenario (alert subscriptions are kept), or --db for a new store"
        )


def _apply_candles(scenario: Scenario, store: Store, clock: _Clock) -> None:
    for series in scenario.candles:
        rows = [
            Candle(
                coin=series.coin,
                venue=series.venue,
                market=series.market,
                interval=series.interval,
                open_time=clock.at(r.t),
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
            clock.seen(_source(series.venue, series.market), rows[-1].open_time)


def _apply_liquidations(scenario: Scenario, store: Store, clock: _Clock) -> None:
    events = [
        Liquidation(
            venue=s.venue,
            coin=s.coin,
            side=e.side,
            price=e.price,
            qty=e.qty,
            usd=e.usd,
            ts=clock.at(e.t),
            event_id=e.event_id,
        )
        for s in scenario.liquidations
        for e in s.events
    ]
    store.insert_liquidations(events)
    for e in events:
        clock.seen(STREAM_SOURCE.format(venue=e.venue), e.ts)
    for session in sorted(scenario.streams, key=lambda s: clock.at(s.connected_at)):
        source = STREAM_SOURCE.format(venue=session.venue)
        store.open_stream_session(session.venue, clock.at(session.connected_at))
        if session.disconnected_at is not None:
            store.close_stream_session(session.venue, clock.at(session.disconnected_at))
            clock.seen(source, clock.at(session.disconnected_at))
        else:
            clock.seen(source, clock.now)  # a connected stream is current even when nothing was liquidated


def _apply_series(scenario: Scenario, store: Store, clock: _Clock) -> None:
    at = clock.at
    for oi in scenario.open_interest:
        store.upsert_open_interest(
            OpenInterest(coin=oi.coin, venue=oi.venue, ts=at(r.t), oi_usd=r.oi_usd, oi_coin=r.oi_coin)
            for r in oi.rows
        )
        if oi.rows:
            clock.seen(_source(oi.venue, "perp"), at(oi.rows[-1].t))
    for f in scenario.funding:
        store.upsert_funding(
            Funding(coin=f.coin, venue=f.venue, ts=at(r.t), rate=r.rate, interval_hours=f.interval_hours)
            for r in f.rows
        )
        if f.rows:
            clock.seen(_source(f.venue, "perp"), at(f.rows[-1].t))
    for ls in scenario.long_short:
        store.upsert_long_short(
            LongShortRatio(coin=ls.coin, venue=ls.venue, ts=at(r.t), long_share=r.long_share) for r in ls.rows
        )
        if ls.rows:
            clock.seen(_source(ls.venue, "perp"), at(ls.rows[-1].t))
    for tt in scenario.top_traders:
        store.upsert_top_traders(
            TopTraderRatio(coin=tt.coin, venue=tt.venue, basis=tt.basis, ts=at(r.t), long_share=r.long_share)
            for r in tt.rows
        )


def _apply_market(scenario: Scenario, store: Store, clock: _Clock) -> None:
    at = clock.at
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
            clock.seen(m.source, at(m.rows[-1].t))
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
        clock.seen(g.source, at(g.ts))
    store.upsert_fear_greed(
        FearGreed(source=f.source, ts=at(r.t), value=r.value, label=r.label)
        for f in scenario.fear_greed
        for r in f.rows
    )  # no health row: the reading's own age is shown wherever it is
    if scenario.breadth is not None:
        store.replace_breadth(scenario.breadth.entries, at(scenario.breadth.at))
        clock.seen("coingecko", at(scenario.breadth.at))


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
    return store.has_health_detail(SAMPLE_DATA)
