"""Read a store back into a scenario, and write scenario files.

Exporting a real store pins a market moment that can be replayed later (a bug report, a test,
a demo): times are written absolute, so the file means the same whenever it is read. Applying
the export to an empty store stores the same rows again.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import math
import os
import tempfile
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from bot.clock import from_ms, to_ms
from bot.models import LongShortRatio, TopTraderRatio
from bot.scenarios.load import SAMPLE_DATA
from bot.scenarios.model import Scenario, format_time
from bot.scenarios.sections import (
    BreadthSnapshot,
    CandleRow,
    CandleSeries,
    FearGreedRow,
    FearGreedSeries,
    FundingRow,
    FundingSeries,
    GlobalEntry,
    LiquidationRow,
    LiquidationSeries,
    LongShortRow,
    LongShortSeries,
    MacroRow,
    MacroSeries,
    OpenInterestRow,
    OpenInterestSeries,
    StreamSession,
    TickerEntry,
    TopTradersSeries,
)
from bot.store import Store


def export_scenario(
    store: Store,
    *,
    now: datetime,
    since: timedelta,
    coins: Sequence[str],
    name: str,
    description: str = "",
    sample_data: bool | None = None,
    since_by_interval: Mapping[str, timedelta] | None = None,
) -> Scenario:
    """The store's state for ``coins`` from ``now - since`` to ``now`` as a scenario.

    ``since_by_interval`` sets the span of candles per interval instead (e.g. 420 days of
    ``1d`` for levels while everything else covers 35). Liquidation minutes whose raw events were pruned are
    exported as one event per roll-up row (same USD, so baselines survive; event counts and
    the largest event of such minutes do not). ``sample_data`` defaults to whether the store
    was filled from a sample scenario, so the label travels with the data.
    """
    start = now - since
    lo, hi = to_ms(start), to_ms(now)
    wanted = list(dict.fromkeys(coins))
    if sample_data is None:
        sample_data = store.has_health_detail(SAMPLE_DATA)
    breadth: BreadthSnapshot | None = None
    entries, taken = store.market_breadth()
    if entries and taken is not None and taken <= now:
        breadth = BreadthSnapshot(at=format_time(taken), entries=entries)
    return Scenario.model_validate(
        {
            "name": name,
            "description": description,
            "sample_data": sample_data,
            "now": now,
            "coins": wanted,
            "tickers": _tickers(store, wanted, now),
            "candles": _candles(store, wanted, now, since, since_by_interval or {}),
            "liquidations": _liquidations(store, wanted, lo, hi),
            "streams": _streams(store, start, now),
            **_series(store, wanted, start, now),
            "macro": _macro(store, lo, hi),
            "global_stats": [
                GlobalEntry.model_validate(
                    {**{k: v for k, v in r.items() if k != "ts_ms"}, "ts": format_time(from_ms(r["ts_ms"]))}
                )
                for r in store.export_global(lo, hi)
            ],
            "fear_greed": _fear_greed(store, lo, hi),
            "breadth": breadth,
        }
    )


def _fear_greed(store: Store, lo: int, hi: int) -> list[FearGreedSeries]:
    rows: dict[str, list[FearGreedRow]] = defaultdict(list)
    for r in store.export_fear_greed(lo, hi):
        rows[r["source"]].append(
            FearGreedRow(t=format_time(from_ms(r["ts_ms"])), value=r["value"], label=r["label"])
        )
    return [FearGreedSeries(source=source, rows=series) for source, series in rows.items()]


def _tickers(store: Store, wanted: Sequence[str], now: datetime) -> list[TickerEntry]:
    tickers: list[TickerEntry] = []
    for t in store.tickers():
        fetched = store.ticker_fetched_at(t.coin, t.venue, t.market)
        if t.coin not in wanted or t.ts > now or (fetched is not None and fetched > now):
            continue
        tickers.append(
            TickerEntry.model_validate(
                {
                    **t.model_dump(exclude={"ts"}),
                    "ts": format_time(t.ts),
                    "fetched_at": format_time(fetched) if fetched is not None else None,
                }
            )
        )
    return tickers


def _candles(
    store: Store, wanted: Sequence[str], now: datetime, since: timedelta, by_interval: Mapping[str, timedelta]
) -> list[CandleSeries]:
    grouped: dict[tuple[str, str, str, str], list[CandleRow]] = defaultdict(list)
    widest = max([since, *by_interval.values()])
    for r in store.export_candles(wanted, to_ms(now - widest), to_ms(now)):
        if r["open_ms"] < to_ms(now - by_interval.get(r["interval"], since)):
            continue
        grouped[(r["coin"], r["venue"], r["market"], r["interval"])].append(
            CandleRow(
                t=format_time(from_ms(r["open_ms"])),
                open=r["open"],
                high=r["high"],
                low=r["low"],
                close=r["close"],
                volume=r["volume"],
                quote_volume=r["quote_volume"],
                taker_buy_quote=r["taker_buy_quote"],
            )
        )
    return [
        CandleSeries.model_validate(
            {"coin": coin, "venue": venue, "market": market, "interval": interval, "rows": rows}
        )
        for (coin, venue, market, interval), rows in grouped.items()
    ]


def _streams(store: Store, start: datetime, now: datetime) -> list[StreamSession]:
    return [
        StreamSession.model_validate(
            {
                "venue": s.venue,
                "connected_at": format_time(s.connected_at),
                "disconnected_at": (
                    format_time(s.disconnected_at)
                    if s.disconnected_at is not None and s.disconnected_at <= now
                    else None
                ),
            }
        )
        for s in store.stream_sessions(start)
        if s.connected_at <= now
    ]


def _series(store: Store, wanted: Sequence[str], start: datetime, now: datetime) -> dict[str, list[Any]]:
    """Open interest, funding, long/short and top traders, one series per coin and venue."""
    open_interest: list[OpenInterestSeries] = []
    funding: list[FundingSeries] = []
    long_short: list[LongShortSeries] = []
    top_traders: list[TopTradersSeries] = []
    for coin in wanted:
        by_venue_oi: dict[str, list[OpenInterestRow]] = defaultdict(list)
        for p in store.open_interest(coin, start):
            if p.ts <= now:
                by_venue_oi[p.venue].append(
                    OpenInterestRow(t=format_time(p.ts), oi_usd=p.oi_usd, oi_coin=p.oi_coin)
                )
        open_interest += [
            OpenInterestSeries.model_validate({"coin": coin, "venue": v, "rows": rows})
            for v, rows in sorted(by_venue_oi.items())
        ]
        by_venue_f: dict[tuple[str, float], list[FundingRow]] = defaultdict(list)
        for f in store.funding(coin, start):
            if f.ts <= now:
                by_venue_f[(f.venue, f.interval_hours)].append(FundingRow(t=format_time(f.ts), rate=f.rate))
        funding += _funding_series(coin, by_venue_f)
        long_short += _ratios(coin, store.long_short(coin, start), now)
        top_traders += _top_traders(coin, store.top_traders(coin, start), now)
    return {
        "open_interest": open_interest,
        "funding": funding,
        "long_short": long_short,
        "top_traders": top_traders,
    }


def _ratios(coin: str, points: Sequence[LongShortRatio], now: datetime) -> list[LongShortSeries]:
    by_venue: dict[str, list[LongShortRow]] = defaultdict(list)
    for ls in points:
        if ls.ts <= now:
            by_venue[ls.venue].append(LongShortRow(t=format_time(ls.ts), long_share=ls.long_share))
    return [
        LongShortSeries.model_validate({"coin": coin, "venue": v, "rows": rows})
        for v, rows in sorted(by_venue.items())
    ]


def _top_traders(coin: str, points: Sequence[TopTraderRatio], now: datetime) -> list[TopTradersSeries]:
    by_key: dict[tuple[str, str], list[LongShortRow]] = defaultdict(list)
    for tt in points:
        if tt.ts <= now:
            by_key[(tt.venue, tt.basis)].append(LongShortRow(t=format_time(tt.ts), long_share=tt.long_share))
    return [
        TopTradersSeries.model_validate({"coin": coin, "venue": v, "basis": b, "rows": rows})
        for (v, b), rows in sorted(by_key.items())
    ]


def _macro(store: Store, lo: int, hi: int) -> list[MacroSeries]:
    macro_rows: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for r in store.export_macro(lo, hi):
        macro_rows[(r["series"], r["interval"])].append(r)
    return [
        MacroSeries.model_validate(
            {
                "series": series,
                "symbol": found[-1]["symbol"],  # the source's symbol as last seen
                "source": found[-1]["source"],
                "interval": interval,
                "rows": [MacroRow(t=format_time(from_ms(r["ts_ms"])), close=r["close"]) for r in found],
            }
        )
        for (series, interval), found in macro_rows.items()
    ]


def _funding_series(coin: str, groups: Mapping[tuple[str, float], list[FundingRow]]) -> list[FundingSeries]:
    """One series per venue and funding interval (a venue may change a coin's interval)."""
    out: list[FundingSeries] = []
    for (venue, hours), rows in sorted(groups.items()):
        out.append(
            FundingSeries.model_validate(
                {"coin": coin, "venue": venue, "interval_hours": hours, "rows": rows}
            )
        )
    return out


def _liquidations(store: Store, coins: list[str], lo: int, hi: int) -> list[LiquidationSeries]:
    """Raw events in the window, plus one stand-in event per roll-up row whose raw events were
    pruned (priced at the nearest stored raw event or candle of the coin)."""
    raw = store.export_liquidations(coins, lo, hi)
    have = {(r["coin"], r["venue"], r["side"], r["minute_ms"]) for r in raw}
    pruned = [
        r
        for r in store.export_liq_minutes(coins, lo, hi)
        if (r["coin"], r["venue"], r["side"], r["minute_ms"]) not in have
    ]
    grouped: dict[tuple[str, str], list[LiquidationRow]] = defaultdict(list)
    for r in raw:
        grouped[(r["venue"], r["coin"])].append(
            LiquidationRow(
                t=format_time(from_ms(r["ts_ms"])),
                side=r["side"],
                price=r["price"],
                qty=r["qty"],
                usd=r["usd"],
                event_id=r["event_id"],
            )
        )
    for r in pruned:
        price = store.price_near(r["coin"], r["minute_ms"])
        if price is None or r["usd"] <= 0:
            continue
        grouped[(r["venue"], r["coin"])].append(
            LiquidationRow(
                t=format_time(from_ms(r["minute_ms"])),
                side=r["side"],
                price=price,
                qty=r["usd"] / price,
                usd=r["usd"],
                event_id=f"rollup:{r['coin']}:{r['side']}:{r['minute_ms']}",
            )
        )
    return [
        LiquidationSeries.model_validate({"venue": venue, "coin": coin, "events": events})
        for (venue, coin), events in sorted(grouped.items())
    ]


# -- writing ------------------------------------------------------------------------------


def _number(value: float) -> str:
    """Shortest exact text; whole floats as integers (1.2e9 → 1200000000) to save bytes."""
    if math.isfinite(value) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _encode(value: Any, indent: str) -> str:
    """JSON with one row per line: a list or object of scalars stays on one line, anything
    holding containers is broken out. Small to store, readable, and diffs by row."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, float):
        return _number(value)
    inner = indent + "  "
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{json.dumps(k, ensure_ascii=False)}: {_encode(v, inner)}" for k, v in value.items()]
        if all(not isinstance(v, dict | list) for v in value.values()):
            return "{" + ", ".join(items) + "}"
        return "{\n" + ",\n".join(inner + i for i in items) + "\n" + indent + "}"
    if isinstance(value, list):
        if not value:
            return "[]"
        parts = [_encode(v, inner) for v in value]
        if all(not isinstance(v, dict | list) for v in value):
            return "[" + ", ".join(parts) + "]"
        return "[\n" + ",\n".join(inner + p for p in parts) + "\n" + indent + "]"
    raise TypeError(f"cannot encode {type(value).__name__}")


def dumps_scenario(scenario: Scenario) -> str:
    """The scenario as file text; the same scenario always gives the same text."""
    data = scenario.model_dump(mode="json", exclude_defaults=False)
    if not data["top_traders"]:
        del data["top_traders"]  # a later section: files without it stay as they were
    return _encode(data, "") + "\n"


def write_scenario(scenario: Scenario, path: str | Path) -> int:
    """Write ``scenario`` to ``path`` (gzip when it ends in ``.gz``, with a fixed mtime so the
    bytes only change when the content does). Returns the bytes written.

    Written to a temporary file beside the target, flushed to disk, then renamed over it: a
    full disk or a kill leaves the previous file whole, never a truncated one."""
    text = dumps_scenario(scenario).encode()
    data = gzip.compress(text, compresslevel=9, mtime=0) if str(path).endswith(".gz") else text
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(target.parent)
    return len(data)


def _fsync_dir(folder: Path) -> None:
    """Make the rename itself durable (best effort: not every filesystem allows it)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
