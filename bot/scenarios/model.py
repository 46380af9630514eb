"""The scenario file format: a pinned market state as one JSON document.

A scenario holds everything the answers read (tickers, candles, liquidations with their stream
coverage, open interest, funding, long/short share, macro series, global stats, breadth) as
explicit rows, so a replay is exact and a reviewer can read what the bot was shown. Big sections
are arrays of positional rows (``[t, open, high, low, close, volume, …]``) to keep files small;
their positions are documented in the JSON Schema (``config/scenarios/schema.json``).

Times are absolute ISO 8601 with a timezone (``2026-03-10T15:00:00Z``) or relative to the
scenario's ``now`` (``now``, ``-90m``, ``-2h``, ``-30d``, ``-1d6h30m``), so a bundled sample
reads as "two hours before now" and can be replayed at any clock time. Nothing may lie after
``now``: collectors never store the future either.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ModelWrapValidatorHandler,
    StringConstraints,
    model_validator,
)

from bot.scenarios.checks import (
    _CONTEXT,
    TIME_HELP,
    KnownCoin,
    _Context,
    _error,
    _utc,
    format_relative,
    format_time,
    resolve_time,
)
from bot.scenarios.sections import (
    BreadthSnapshot,
    CandleSeries,
    FearGreedSeries,
    FundingSeries,
    GlobalEntry,
    LiquidationSeries,
    LongShortSeries,
    MacroSeries,
    OpenInterestSeries,
    StreamSession,
    TickerEntry,
    TopTradersSeries,
)

__all__ = [
    "FORMAT_VERSION",
    "TIME_HELP",
    "Scenario",
    "format_relative",
    "format_time",
    "resolve_time",
    "schema_json",
]

FORMAT_VERSION: Final = 1


# -- the document -------------------------------------------------------------------------


def _peek(data: Any) -> _Context:
    """``now`` and ``coins`` from raw input, before validation, for the rows' checks."""
    now: datetime | None = None
    coins: frozenset[str] = frozenset()
    if isinstance(data, dict):
        raw_now, raw_coins = data.get("now"), data.get("coins")
        if isinstance(raw_now, datetime) and raw_now.tzinfo is not None:
            now = raw_now.astimezone(UTC)
        elif isinstance(raw_now, str):
            try:
                parsed = datetime.fromisoformat(raw_now)
                now = parsed.astimezone(UTC) if parsed.tzinfo is not None else None
            except ValueError:
                now = None
        if isinstance(raw_coins, list):
            coins = frozenset(c for c in raw_coins if isinstance(c, str))
    return _Context(now=now, coins=coins)


class Scenario(BaseModel):
    """A pinned market state. ``sample_data`` marks the bundled, generated samples: every answer
    drawn from one must say it is sample data, never pass it off as the market."""

    model_config = ConfigDict(
        frozen=True,
        extra="forbid",
        title="Tapewatch scenario",
        json_schema_extra={
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$comment": "Generated from bot/scenarios/model.py (Scenario.model_json_schema()); do not edit.",
        },
    )

    format: Literal[1] = Field(FORMAT_VERSION, description="File format version.")
    name: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]*$")]
    description: str = ""
    sample_data: bool = Field(
        False, description="True for generated samples: answers drawn from it are labelled sample data."
    )
    now: Annotated[datetime, AfterValidator(_utc)] = Field(
        description="The scenario's clock (absolute, with a timezone); relative times count back from it."
    )
    coins: Annotated[list[KnownCoin], Field(min_length=1, description="The tracked coins.")]
    tickers: list[TickerEntry] = []
    candles: list[CandleSeries] = []
    liquidations: list[LiquidationSeries] = []
    streams: list[StreamSession] = Field(
        default=[], description="Liquidation stream coverage: when each venue's stream was connected."
    )
    open_interest: list[OpenInterestSeries] = []
    funding: list[FundingSeries] = []
    long_short: list[LongShortSeries] = []
    top_traders: list[TopTradersSeries] = Field(
        default=[], description="Top traders' long share (Binance), by position and by accounts."
    )
    macro: list[MacroSeries] = []
    global_stats: list[GlobalEntry] = []
    fear_greed: list[FearGreedSeries] = Field(
        default=[], description="Daily Fear & Greed readings (0-100, with the source's label), per source."
    )
    breadth: BreadthSnapshot | None = None

    @model_validator(mode="wrap")
    @classmethod
    def _in_context(cls, data: Any, handler: ModelWrapValidatorHandler[Scenario]) -> Scenario:
        token = _CONTEXT.set(_peek(data))
        try:
            return handler(data)
        finally:
            _CONTEXT.reset(token)

    @model_validator(mode="after")
    def _consistent(self) -> Scenario:
        if len(set(self.coins)) != len(self.coins):
            raise _error("coins lists a symbol twice", "coins")
        self._unique("tickers", ((t.coin, t.venue, t.market) for t in self.tickers))
        self._unique("candles", ((s.coin, s.venue, s.market, s.interval) for s in self.candles))
        self._unique("liquidations", ((s.venue, s.coin) for s in self.liquidations))
        self._unique("open_interest", ((s.coin, s.venue) for s in self.open_interest))
        self._unique("funding", ((s.coin, s.venue) for s in self.funding))
        self._unique("long_short", ((s.coin, s.venue) for s in self.long_short))
        self._unique("top_traders", ((s.coin, s.venue, s.basis) for s in self.top_traders))
        self._unique("macro", ((s.series, s.interval) for s in self.macro))
        self._unique("fear_greed", ((s.source,) for s in self.fear_greed))
        self._unique("global_stats", ((g.source, self.at(g.ts)) for g in self.global_stats))
        seen: dict[str, set[str]] = {}
        for i, series in enumerate(self.liquidations):
            ids = seen.setdefault(series.venue, set())
            for j, event in enumerate(series.events):
                if event.event_id in ids:
                    raise _error(
                        f"event id {event.event_id!r} repeats on {series.venue}",
                        f"liquidations[{i}].events[{j}]",
                    )
                ids.add(event.event_id)
        self._check_streams()
        return self

    def _unique(self, section: str, keys: Iterator[tuple[object, ...]]) -> None:
        first: dict[tuple[object, ...], int] = {}
        for i, key in enumerate(keys):
            if key in first:
                raise _error(
                    f"repeats {section}[{first[key]}] ({', '.join(map(str, key))})", f"{section}[{i}]"
                )
            first[key] = i

    def _check_streams(self) -> None:
        """Per venue: sessions connect before they disconnect, do not overlap, and only the
        last may still be open — the store closes "the open session", so two would merge."""
        last: dict[str, tuple[int, datetime | None]] = {}
        order = sorted(range(len(self.streams)), key=lambda i: self.at(self.streams[i].connected_at))
        for i in order:
            s = self.streams[i]
            start = self.at(s.connected_at)
            end = self.at(s.disconnected_at) if s.disconnected_at is not None else None
            if s.venue in last:
                j, prev_end = last[s.venue]
                if prev_end is None or prev_end > start:
                    raise _error(f"overlaps streams[{j}] on {s.venue}", f"streams[{i}]")
            last[s.venue] = (i, end)

    def at(self, text: str) -> datetime:
        """A time of this scenario as an aware UTC datetime."""
        return resolve_time(text, self.now)

    @property
    def label(self) -> str:
        """How answers drawn from this scenario should be captioned."""
        return f"sample data ({self.name})" if self.sample_data else f"scenario {self.name}"


def schema_json() -> str:
    """The JSON Schema of the format, as committed in ``config/scenarios/schema.json``."""
    return json.dumps(Scenario.model_json_schema(), indent=2, ensure_ascii=False) + "\n"
