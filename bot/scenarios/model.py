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
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache, lru_cache
from typing import Annotated, Any, ClassVar, Final, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    ModelWrapValidatorHandler,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError

from bot.coins import CoinRegistry
from bot.models import Finite, Interval, Market, MarketEntry, NonNegative, Positive, Side, Venue
from bot.timeparse import UNIT_SECONDS, parse_span

FORMAT_VERSION: Final = 1

_RELATIVE = r"-(?:\d+[wdhms])+"
_ISO = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:\d{2})"
TIME_PATTERN = rf"^(?:now|{_RELATIVE}|{_ISO})$"
TIME_HELP = (
    "an ISO time with a timezone ('2026-03-10T15:00:00Z'), 'now', "
    "or a time before now like '-90m', '-2h', '-30d', '-1d6h'"
)
MAX_SPAN_SECONDS = 100 * 366 * 86_400  # a relative time reaches back at most a century
MIN_YEAR, MAX_YEAR = 1970, 2200

Time = Annotated[
    str,
    StringConstraints(pattern=TIME_PATTERN),
    Field(description=f"A time: {TIME_HELP}.", examples=["2026-03-10T15:00:00Z", "now", "-2h", "-1d6h"]),
]


@lru_cache(maxsize=1 << 16)
def resolve_time(text: str, now: datetime) -> datetime:
    """A scenario time as an aware UTC datetime; relative times count back from ``now``.
    Raises ValueError for text that is neither (the pattern already screens most of it)."""
    if text == "now":
        return now
    if text.startswith("-"):
        try:
            span = parse_span(text[1:])
        except (ValueError, OverflowError):
            raise ValueError(f"bad time {text!r}: expected {TIME_HELP}") from None
        if span.total_seconds() > MAX_SPAN_SECONDS:
            raise ValueError(f"bad time {text!r}: more than {MAX_SPAN_SECONDS // 86_400} days back")
        return now - span
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(f"bad time {text!r}: expected {TIME_HELP}") from None
    if value.tzinfo is None:
        raise ValueError(f"bad time {text!r}: an absolute time needs a timezone (e.g. 'Z')")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"bad time {text!r}: outside the years {MIN_YEAR}-{MAX_YEAR}")
    return value.astimezone(UTC)


def format_time(value: datetime) -> str:
    """An absolute time as written by exports: ISO 8601 in UTC with a ``Z``, milliseconds only
    when there are any (the store keeps milliseconds, so this round-trips exactly)."""
    value = value.astimezone(UTC)
    spec = "milliseconds" if value.microsecond else "seconds"
    return value.isoformat(timespec=spec).replace("+00:00", "Z")


def format_relative(value: datetime, now: datetime) -> str:
    """``value`` as a time before ``now`` (``-1d6h``); whole seconds, as the format has no finer
    unit. Used by the generator so bundled samples read as ages."""
    seconds = round((now - value).total_seconds())
    if seconds < 0:
        raise ValueError(f"{format_time(value)} is after now ({format_time(now)})")
    if seconds == 0:
        return "now"
    out = "-"
    for unit in ("d", "h", "m", "s"):
        n, seconds = divmod(seconds, UNIT_SECONDS[unit])
        if n:
            out += f"{n}{unit}"
    return out


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("now must carry a timezone (e.g. 2026-03-10T15:00:00Z)")
    if not MIN_YEAR <= value.year <= MAX_YEAR:
        raise ValueError(f"now must lie within the years {MIN_YEAR}-{MAX_YEAR}")
    return value.astimezone(UTC)


@cache
def registry_symbols() -> frozenset[str]:
    """Symbols of ``config/coins.toml``: a scenario may only name coins the bot knows."""
    return frozenset(CoinRegistry.load().coins)


# -- validation context -------------------------------------------------------------------
# Rows need the scenario's ``now`` (to order relative and absolute times) and its ``coins``
# (to reject a coin it does not track) while pydantic validates them bottom-up. The Scenario's
# wrap validator sets both for the duration of one validation; sub-models validated on their
# own skip those checks.


@dataclass(frozen=True)
class _Context:
    now: datetime | None
    coins: frozenset[str]


_CONTEXT: ContextVar[_Context | None] = ContextVar("scenario_context", default=None)


def _error(message: str, at: str | None = None) -> PydanticCustomError:
    """A validation error; ``at`` extends the reported field path below the failing model
    (``rows[10]``) where the check runs on a whole list at once."""
    return PydanticCustomError("scenario", message, {"at": at} if at else None)


def _tracked(symbol: str) -> str:
    ctx = _CONTEXT.get()
    if ctx is not None and ctx.coins and symbol not in ctx.coins:
        raise _error(f"unknown coin {symbol!r}: not in this scenario's coins")
    return symbol


def _known(symbol: str) -> str:
    if symbol not in registry_symbols():
        raise _error(f"unknown coin {symbol!r}: not in config/coins.toml")
    return symbol


TrackedCoin = Annotated[str, AfterValidator(_tracked), Field(description="A symbol from `coins`.")]
KnownCoin = Annotated[str, AfterValidator(_known), Field(description="A symbol of config/coins.toml.")]


def _check_time(text: str, where: str) -> datetime | None:
    """The time resolved against the scenario's now, which it must not pass (None when
    validated outside a scenario)."""
    ctx = _CONTEXT.get()
    if ctx is None or ctx.now is None:
        return None
    try:
        at = resolve_time(text, ctx.now)
    except ValueError as exc:
        raise _error(str(exc), where) from None
    if at > ctx.now:
        raise _error(f"time {text!r} is after now", where)
    return at


def _check_times(times: Iterable[str], *, ordered: bool, label: str = "rows") -> None:
    """Each time resolves, none lies after now and (``ordered``) each is after the one before."""
    previous: datetime | None = None
    for i, text in enumerate(times):
        at = _check_time(text, f"{label}[{i}]")
        if at is None:
            return
        if ordered and previous is not None and at <= previous:
            raise _error(f"time {text!r} is not after the previous row's", f"{label}[{i}]")
        previous = at


# -- positional rows --------------------------------------------------------------------


class Row(BaseModel):
    """A record written as a JSON array whose positions follow the field order; trailing
    optional fields may be left out. Keeps the large sections compact and diffable (one row a
    line) while still validating every value by name."""

    model_config = ConfigDict(frozen=True, extra="forbid", revalidate_instances="always")
    _optional_tail: ClassVar[int] = 0
    _fields: ClassVar[tuple[str, ...]] = ()

    @classmethod
    def __pydantic_init_subclass__(cls, **kwargs: Any) -> None:
        super().__pydantic_init_subclass__(**kwargs)
        cls._fields = tuple(cls.model_fields)  # looked up once per row otherwise

    @classmethod
    def _names(cls) -> tuple[str, ...]:
        return cls._fields

    @classmethod
    def _spec(cls) -> str:
        names = cls._names()
        required = len(names) - cls._optional_tail
        return "[" + ", ".join(n if i < required else f"{n}?" for i, n in enumerate(names)) + "]"

    @model_validator(mode="before")
    @classmethod
    def _from_array(cls, data: Any) -> Any:
        if not isinstance(data, list | tuple):
            return data
        names = cls._names()
        required = len(names) - cls._optional_tail
        if not required <= len(data) <= len(names):
            raise _error(f"expected a row {cls._spec()}, got {len(data)} items")
        return dict(zip(names, data, strict=False))

    @model_serializer(mode="wrap")
    def _to_array(self, handler: SerializerFunctionWrapHandler) -> list[Any]:
        values = handler(self)
        out = [values[n] for n in self._names()]
        for _ in range(self._optional_tail):
            if out[-1] is not None:
                break
            out.pop()
        return out

    @classmethod
    def __get_pydantic_json_schema__(
        cls, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler.resolve_ref_schema(handler(core_schema))
        props = schema.pop("properties")
        names = cls._names()
        for key in ("required", "additionalProperties"):
            schema.pop(key, None)
        schema.update(
            type="array",
            description=(schema.get("description", "").strip() + f" Positions: {cls._spec()}.").strip(),
            prefixItems=[{**props[n], "title": n} for n in names],
            minItems=len(names) - cls._optional_tail,
            maxItems=len(names),
            items=False,
        )
        return schema


class CandleRow(Row):
    """One bar: open time, OHLC, base volume, then quote volume and (Binance) taker-buy quote."""

    _optional_tail: ClassVar[int] = 2
    t: Time
    open: Positive
    high: Positive
    low: Positive
    close: Positive
    volume: NonNegative
    quote_volume: NonNegative | None = None
    taker_buy_quote: NonNegative | None = None

    @model_validator(mode="after")
    def _ohlc(self) -> CandleRow:
        if self.high < self.low:
            raise _error("high must be ≥ low")
        if not (self.low <= self.open <= self.high and self.low <= self.close <= self.high):
            raise _error("open and close must lie within low..high")
        if (
            self.taker_buy_quote is not None
            and self.quote_volume is not None
            and self.taker_buy_quote > self.quote_volume * (1 + 1e-9)
        ):
            raise _error("taker_buy_quote must be ≤ quote_volume")
        return self


class LiquidationRow(Row):
    """One forced liquidation: time, the side whose position was closed, price, base qty, USD, id."""

    t: Time
    side: Side
    price: Positive
    qty: Positive
    usd: Positive
    event_id: Annotated[str, StringConstraints(min_length=1)]


class OpenInterestRow(Row):
    """Open interest at a time, in USD and (optionally) in coins."""

    _optional_tail: ClassVar[int] = 1
    t: Time
    oi_usd: NonNegative
    oi_coin: NonNegative | None = None


class FundingRow(Row):
    """A funding rate at a time, as a fraction per the series' interval (0.0001 = 0.01%)."""

    t: Time
    rate: Finite


class LongShortRow(Row):
    """Share of accounts net long (0..1) at a time."""

    t: Time
    long_share: Annotated[float, Field(ge=0, le=1)]


class MacroRow(Row):
    """A close of a macro series on the bar opened at ``t``."""

    t: Time
    close: Positive


# -- sections -----------------------------------------------------------------------------


class Section(BaseModel):
    # Revalidated when built from instances (as the export does), so a section made outside a
    # scenario still gets the scenario's checks (times against now, tracked coins) once inside.
    model_config = ConfigDict(frozen=True, extra="forbid", revalidate_instances="always")


class TickerEntry(Section):
    """A 24h ticker as the collectors store it; ``fetched_at`` defaults to ``ts``."""

    coin: TrackedCoin
    venue: Venue
    market: Market
    price: Positive
    change_24h_pct: Finite | None = None
    change_7d_pct: Finite | None = None
    high_24h: Positive | None = None
    low_24h: Positive | None = None
    quote_volume_24h: NonNegative | None = None
    market_cap: NonNegative | None = None
    ts: Time
    fetched_at: Time | None = None

    @model_validator(mode="after")
    def _times(self) -> TickerEntry:
        _check_time(self.ts, "ts")
        if self.fetched_at is not None:
            _check_time(self.fetched_at, "fetched_at")
        return self


class CandleSeries(Section):
    coin: TrackedCoin
    venue: Venue
    market: Market
    interval: Interval
    rows: list[CandleRow]

    @model_validator(mode="after")
    def _times(self) -> CandleSeries:
        _check_times((r.t for r in self.rows), ordered=True)
        return self


class LiquidationSeries(Section):
    """One venue's liquidations of one coin (any order; ids unique per venue)."""

    venue: Venue
    coin: TrackedCoin
    events: list[LiquidationRow]

    @model_validator(mode="after")
    def _times(self) -> LiquidationSeries:
        _check_times((e.t for e in self.events), ordered=False, label="events")
        return self


class StreamSession(Section):
    """A period a liquidation stream was connected; ``disconnected_at`` null = still connected.
    Liquidation answers state coverage from these, so gaps here are gaps in what was seen."""

    venue: Venue
    connected_at: Time
    disconnected_at: Time | None = None

    @model_validator(mode="after")
    def _times(self) -> StreamSession:
        start = _check_time(self.connected_at, "connected_at")
        if self.disconnected_at is not None:
            end = _check_time(self.disconnected_at, "disconnected_at")
            if start is not None and end is not None and end < start:
                raise _error("disconnected_at is before connected_at", "disconnected_at")
        return self


class OpenInterestSeries(Section):
    coin: TrackedCoin
    venue: Venue
    rows: list[OpenInterestRow]

    @model_validator(mode="after")
    def _times(self) -> OpenInterestSeries:
        _check_times((r.t for r in self.rows), ordered=True)
        return self


class FundingSeries(Section):
    coin: TrackedCoin
    venue: Venue
    interval_hours: Annotated[float, Field(gt=0, le=24)] = 8.0
    rows: list[FundingRow]

    @model_validator(mode="after")
    def _times(self) -> FundingSeries:
        _check_times((r.t for r in self.rows), ordered=True)
        return self


class LongShortSeries(Section):
    coin: TrackedCoin
    venue: Venue
    rows: list[LongShortRow]

    @model_validator(mode="after")
    def _times(self) -> LongShortSeries:
        _check_times((r.t for r in self.rows), ordered=True)
        return self


class TopTradersSeries(Section):
    """A venue's top traders' long share (0..1), by position size or by accounts."""

    coin: TrackedCoin
    venue: Venue
    basis: Literal["position", "account"]
    rows: list[LongShortRow]

    @model_validator(mode="after")
    def _times(self) -> TopTradersSeries:
        _check_times((r.t for r in self.rows), ordered=True)
        return self


class MacroSeries(Section):
    """Closes of one macro series (``spx``, ``ndx``, ``sx5e``, ``dax``, ``dxy``, ``us10y``, ``vix``)."""

    series: Annotated[str, StringConstraints(min_length=1)]
    symbol: Annotated[str, StringConstraints(min_length=1)]
    source: Venue = "yahoo"
    interval: Interval
    rows: list[MacroRow]

    @model_validator(mode="after")
    def _times(self) -> MacroSeries:
        _check_times((r.t for r in self.rows), ordered=True)
        return self


class GlobalEntry(Section):
    """Whole-market figures (total cap, dominance) at a time."""

    ts: Time
    source: Venue = "coingecko"
    total_market_cap_usd: Positive
    market_cap_change_24h_pct: Finite | None = None
    btc_dominance_pct: Annotated[float, Field(ge=0, le=100)] | None = None
    eth_dominance_pct: Annotated[float, Field(ge=0, le=100)] | None = None

    @model_validator(mode="after")
    def _times(self) -> GlobalEntry:
        _check_time(self.ts, "ts")
        return self


class BreadthSnapshot(Section):
    """The top coins by market cap (tracked or not) at one time: market breadth."""

    at: Time
    entries: Annotated[list[MarketEntry], Field(min_length=1)]

    @model_validator(mode="after")
    def _check(self) -> BreadthSnapshot:
        _check_time(self.at, "at")
        seen: set[str] = set()
        for i, e in enumerate(self.entries):
            if e.id in seen:
                raise _error(f"duplicate id {e.id!r}", f"entries[{i}]")
            seen.add(e.id)
        return self


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
