"""OKX v5: perpetual-swap tickers, open interest and funding for every swap in one call each;
candles, rubik OI and long/short history per coin; contract values.

Units (see ../shared/samples/README.md): every number is a string; times are ms. Bodies are
``{"code": "0", "msg": "", "data": [...]}`` and a non-``"0"`` code is the venue refusing the
request. Tickers carry no % change: it is ``last`` vs ``open24h`` (the price 24h ago). Candles
and rubik rows are arrays, **newest first**; parsers return them ascending. ``1D`` bars are
UTC+8 days, so we ask for ``1Dutc``. Swap prices are per one coin (no 1000x contracts), while
sizes in contracts need ``ctVal`` from :meth:`OkxProvider.contract_values`.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from bot.clock import from_ms, to_ms
from bot.coins import Coin, CoinRegistry
from bot.models import Candle, Funding, LongShortRatio, OpenInterest, Ticker
from bot.providers.http import BadPayload, HttpClient, ProviderError
from bot.providers.parsing import by_position, per_coin, registry_subset, validate_rows
from bot.settings import OkxSettings

log = logging.getLogger(__name__)

R = TypeVar("R")

Bar = Literal["1h", "1d"]
BAR: dict[Bar, str] = {"1h": "1H", "1d": "1Dutc"}
"""OKX bar names for candles and rubik statistics; ``1D`` would be a UTC+8 day."""
DEFAULT_FUNDING_HOURS = 8.0
HOUR_MS = 3_600_000

OptFloat = Annotated[float | None, BeforeValidator(lambda v: None if v == "" else v)]
"""OKX sends ``""`` for a figure that does not apply (e.g. ``ctVal`` of a pre-open contract)."""


def _data(body: Any, source: str) -> list[Any]:
    """The ``data`` list, or the venue's refusal (non-``"0"`` code) as a :class:`ProviderError`."""
    if not isinstance(body, dict) or "code" not in body:
        raise BadPayload(source, "expected an object with a 'code'")
    if str(body["code"]) != "0":
        raise ProviderError(source, f"code {body['code']}: {body.get('msg', '')}")
    data = body.get("data")
    if not isinstance(data, list):
        raise BadPayload(source, f"expected a 'data' list, got {type(data).__name__}")
    return data


class TickerRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    instId: str
    last: float
    open24h: float
    high24h: float
    low24h: float
    ts: int


def parse_swap_tickers(body: Any, registry: CoinRegistry, source: str = "okx") -> list[Ticker]:
    """Swap tickers. The 24h change is computed from ``open24h``; no quote volume is set because
    OKX gives swap volume only in contracts and base coin (``volCcy24h``), not in quote."""
    rows = _data(body, source)

    def convert(row: TickerRow) -> Ticker | None:
        coin = registry.by_venue("okx", row.instId)
        if coin is None:
            return None
        change = (row.last / row.open24h - 1.0) * 100.0 if row.open24h > 0 else None
        return Ticker(
            coin=coin.symbol,
            venue="okx",
            market="perp",
            price=row.last,
            change_24h_pct=change,
            high_24h=row.high24h,
            low_24h=row.low24h,
            ts=from_ms(row.ts),
        )

    return validate_rows(source, rows, TickerRow, convert)


_CANDLE_FIELDS = ("ts", "open", "high", "low", "close", "vol", "volCcy", "volCcyQuote", "confirm")


class CandleRow(BaseModel):
    """One array row ``[ts, o, h, l, c, vol, volCcy, volCcyQuote, confirm]``, named by position."""

    model_config = ConfigDict(extra="ignore")

    ts: int
    open: float
    high: float
    low: float
    close: float
    volCcy: float
    volCcyQuote: OptFloat = None
    confirm: Literal["0", "1"]


def parse_candles(
    body: Any, coin: Coin, interval: Bar, *, include_unconfirmed: bool = False, source: str = "okx"
) -> list[Candle]:
    """Swap candles (``/market/candles`` or ``/market/history-candles``), ascending. A bar with
    ``confirm`` = "0" is still running and is dropped unless asked for: stored candles are final.
    Volume is ``volCcy`` (base coin); ``vol`` is in contracts."""
    rows = _data(body, source)

    def convert(row: CandleRow) -> Candle | None:
        if row.confirm == "0" and not include_unconfirmed:
            return None
        return Candle(
            coin=coin.symbol,
            venue="okx",
            market="perp",
            interval=interval,
            open_time=from_ms(row.ts),
            open=row.open,
            high=row.high,
            low=row.low,
            close=row.close,
            volume=row.volCcy,
            quote_volume=row.volCcyQuote,
        )

    # Newest first: reverse before the stable sort so equal timestamps keep oldest-first order.
    candles = validate_rows(source, by_position(rows, _CANDLE_FIELDS), CandleRow, convert)[::-1]
    return sorted(candles, key=lambda c: c.open_time)


class OpenInterestRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    instId: str
    oiCcy: float
    oiUsd: float
    ts: int


def parse_open_interest(body: Any, registry: CoinRegistry, source: str = "okx") -> list[OpenInterest]:
    """Open interest now for every swap (``oiUsd`` USD, ``oiCcy`` coin)."""
    rows = _data(body, source)

    def convert(row: OpenInterestRow) -> OpenInterest | None:
        coin = registry.by_venue("okx", row.instId)
        if coin is None:
            return None
        return OpenInterest(
            coin=coin.symbol, venue="okx", ts=from_ms(row.ts), oi_usd=row.oiUsd, oi_coin=row.oiCcy
        )

    return validate_rows(source, rows, OpenInterestRow, convert)


_OI_HISTORY_FIELDS = ("ts", "oi", "oiCcy", "oiUsd")


class OpenInterestHistoryRow(BaseModel):
    """One rubik row ``[ts, oi (contracts), oiCcy (coin), oiUsd]``."""

    model_config = ConfigDict(extra="ignore")

    ts: int
    oiCcy: float
    oiUsd: float


def parse_open_interest_history(body: Any, coin: Coin, source: str = "okx") -> list[OpenInterest]:
    """Rubik contract OI history, ascending."""
    rows = _data(body, source)

    def convert(row: OpenInterestHistoryRow) -> OpenInterest:
        return OpenInterest(
            coin=coin.symbol, venue="okx", ts=from_ms(row.ts), oi_usd=row.oiUsd, oi_coin=row.oiCcy
        )

    points = validate_rows(source, by_position(rows, _OI_HISTORY_FIELDS), OpenInterestHistoryRow, convert)
    return sorted(points[::-1], key=lambda p: p.ts)


class FundingRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    instId: str
    fundingRate: float
    fundingTime: int
    nextFundingTime: OptFloat = None
    ts: int


def parse_funding_rate(body: Any, registry: CoinRegistry, source: str = "okx") -> list[Funding]:
    """Current (predicted) funding per coin. The interval is ``nextFundingTime - fundingTime``
    (OKX moves volatile swaps to 4h/2h/1h); 8h when that is missing or implausible."""
    rows = _data(body, source)

    def convert(row: FundingRow) -> Funding | None:
        coin = registry.by_venue("okx", row.instId)
        if coin is None:
            return None
        hours = DEFAULT_FUNDING_HOURS
        if row.nextFundingTime is not None:
            gap = (row.nextFundingTime - row.fundingTime) / HOUR_MS
            if 0 < gap <= 24:
                hours = gap
        return Funding(
            coin=coin.symbol, venue="okx", ts=from_ms(row.ts), rate=row.fundingRate, interval_hours=hours
        )

    return validate_rows(source, rows, FundingRow, convert)


_RATIO_FIELDS = ("ts", "ratio")


class RatioRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    ts: int
    ratio: Annotated[float, Field(ge=0, allow_inf_nan=False)]


def parse_long_short_ratio(body: Any, coin: Coin, source: str = "okx") -> list[LongShortRatio]:
    """Rubik ``[ts, ratio]`` rows, ascending; ratio = long accounts / short accounts, so the long
    share is ratio / (1 + ratio). A negative ratio is rejected with its row."""
    rows = _data(body, source)

    def convert(row: RatioRow) -> LongShortRatio:
        share = row.ratio / (1.0 + row.ratio)
        return LongShortRatio(coin=coin.symbol, venue="okx", ts=from_ms(row.ts), long_share=share)

    ratios = validate_rows(source, by_position(rows, _RATIO_FIELDS), RatioRow, convert)
    return sorted(ratios[::-1], key=lambda r: r.ts)


class InstrumentRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    instId: str
    ctVal: OptFloat = None


def parse_contract_values(body: Any, source: str = "okx") -> dict[str, float]:
    """``{instId: ctVal}``: coins per contract for linear swaps (USD for inverse ones). Contracts
    without a face value yet (pre-open) are left out."""
    rows = _data(body, source)

    def convert(row: InstrumentRow) -> tuple[str, float] | None:
        if row.ctVal is None or not math.isfinite(row.ctVal) or row.ctVal <= 0:
            return None
        return row.instId, row.ctVal

    return dict(validate_rows(source, rows, InstrumentRow, convert))


class OkxProvider:
    """One call each for tickers, OI now and funding now over all swaps; per-coin candles and
    rubik statistics for the slower jobs."""

    def __init__(self, http: HttpClient, settings: OkxSettings, registry: CoinRegistry) -> None:
        self.registry = registry
        self.rest = http.venue("okx", settings.rest_url, settings.requests_per_minute)

    async def perp_tickers(self, coins: list[Coin]) -> list[Ticker]:
        body = await self.rest.get_json("/api/v5/market/tickers", {"instType": "SWAP"})
        return parse_swap_tickers(body, registry_subset(self.registry, coins), self.rest.source)

    async def open_interest(self, coins: list[Coin]) -> list[OpenInterest]:
        body = await self.rest.get_json("/api/v5/public/open-interest", {"instType": "SWAP"})
        return parse_open_interest(body, registry_subset(self.registry, coins), self.rest.source)

    async def funding(self, coins: list[Coin]) -> list[Funding]:
        # instId=ANY returns every perpetual's current funding in one call.
        body = await self.rest.get_json("/api/v5/public/funding-rate", {"instId": "ANY"})
        return parse_funding_rate(body, registry_subset(self.registry, coins), self.rest.source)

    async def contract_values(self) -> dict[str, float]:
        """Face value of one contract per swap, to turn contract sizes (liquidations) into coins."""
        body = await self.rest.get_json("/api/v5/public/instruments", {"instType": "SWAP"})
        return parse_contract_values(body, self.rest.source)

    async def klines(self, coins: list[Coin], interval: Bar = "1d", limit: int = 30) -> list[Candle]:
        """Recent confirmed candles per coin (``/market/candles``: the latest 1,440 bars)."""

        async def one(coin: Coin) -> list[Candle]:
            body = await self.rest.get_json(
                "/api/v5/market/candles",
                {"instId": coin.okx, "bar": BAR[interval], "limit": min(limit + 1, 300)},
            )
            candles = parse_candles(body, coin, interval, source=self.rest.source)
            return candles[max(0, len(candles) - limit) :]

        return await per_coin(self.rest.source, [c for c in coins if c.okx], one)

    async def history_klines(
        self, coins: list[Coin], interval: Bar = "1d", limit: int = 100, before: datetime | None = None
    ) -> list[Candle]:
        """Older confirmed candles per coin (``/market/history-candles``), ending before
        ``before`` (default: now)."""
        params: dict[str, Any] = {"bar": BAR[interval], "limit": min(limit, 300)}
        if before is not None:
            params["after"] = str(to_ms(before))  # OKX's "after" = records earlier than ts

        async def one(coin: Coin) -> list[Candle]:
            body = await self.rest.get_json("/api/v5/market/history-candles", {"instId": coin.okx, **params})
            return parse_candles(body, coin, interval, source=self.rest.source)

        return await per_coin(self.rest.source, [c for c in coins if c.okx], one)

    async def open_interest_history(
        self, coins: list[Coin], interval: Bar = "1d", limit: int = 30
    ) -> list[OpenInterest]:
        async def one(coin: Coin) -> list[OpenInterest]:
            body = await self.rest.get_json(
                "/api/v5/rubik/stat/contracts/open-interest-history",
                {"instId": coin.okx, "period": BAR[interval], "limit": min(limit, 100)},
            )
            return parse_open_interest_history(body, coin, self.rest.source)

        return await per_coin(self.rest.source, [c for c in coins if c.okx], one)

    async def long_short_ratio(
        self, coins: list[Coin], interval: Bar = "1h", limit: int = 30
    ) -> list[LongShortRatio]:
        async def one(coin: Coin) -> list[LongShortRatio]:
            body = await self.rest.get_json(
                "/api/v5/rubik/stat/contracts/long-short-account-ratio-contract",
                {"instId": coin.okx, "period": BAR[interval], "limit": min(limit, 100)},
            )
            return parse_long_short_ratio(body, coin, self.rest.source)

        return await per_coin(self.rest.source, [c for c in coins if c.okx], one)
