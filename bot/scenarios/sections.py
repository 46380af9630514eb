"""The scenario's sections: positional rows (one JSON array a record) and the sections built from
them, each checking its times against the scenario's ``now``."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    GetJsonSchemaHandler,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

from bot.models import Finite, Interval, Market, MarketEntry, NonNegative, Positive, Side, Venue
from bot.scenarios.checks import Time, TrackedCoin, _check_time, _check_times, _error

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


class FearGreedRow(Row):
    """One day's Fear & Greed reading: the day's time, the value (0 extreme fear … 100 extreme
    greed) and the source's own label for it ("Extreme Fear")."""

    t: Time
    value: Annotated[int, Field(ge=0, le=100)]
    label: Annotated[str, StringConstraints(min_length=1, max_length=40)]


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


class FearGreedSeries(Section):
    """A sentiment index's daily readings, oldest first, labelled with their source."""

    source: Annotated[str, StringConstraints(min_length=1, max_length=40)] = "alternative.me"
    rows: list[FearGreedRow]

    @model_validator(mode="after")
    def _times(self) -> FearGreedSeries:
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
