"""What trades where: the venues' instrument lists and CoinGecko's market-cap ranking, the inputs
of the tracked set that follows the market (:mod:`bot.universe` chooses from them).

One request per list, once a day: Binance spot ``/api/v3/exchangeInfo`` (weight 20) and USDⓈ-M
``/fapi/v1/exchangeInfo`` (weight 1), Bybit ``/v5/market/instruments-info?category=linear``
(≤ 1,000 rows a page, paged by ``nextPageCursor``), OKX ``/api/v5/public/instruments?instType=SWAP``
and CoinGecko ``/coins/markets`` (250 a page: the top 100 that trade on the venues is found
among them). Only USDT-quoted instruments that are trading are kept.

Venue bases are kept as the venue writes them (``1000PEPE``, ``SHIB1000``, ``1MBABYDOGE``): a
multiplier is only read off when the rest names a coin CoinGecko ranks (see
:func:`bot.universe.find_listing`), so ``1INCH`` stays 1INCH. OKX swaps are priced per coin
and sized in contracts of ``ctVal`` coins.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.providers.http import BadPayload, ProviderError, VenueClient
from bot.providers.parsing import validate_model, validate_rows

Venue = Literal["binance_spot", "binance_perp", "bybit", "okx"]
MAX_BYBIT_PAGES = 5  # ≈ 650 linear instruments today: one page of 1,000


class Listing(BaseModel):
    """One tradable instrument: ``base`` as the venue writes it (``1000PEPE``)."""

    model_config = ConfigDict(frozen=True)

    venue: Venue
    symbol: str = Field(min_length=1)
    base: str = Field(min_length=1)
    contract_value: float = Field(1.0, gt=0, allow_inf_nan=False)  # coins per contract (OKX); 1 elsewhere


class RankedCoin(BaseModel):
    """A coin of CoinGecko's market-cap ranking."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1)
    symbol: str = Field(min_length=1)
    name: str
    rank: int = Field(ge=1)
    market_cap: float | None = Field(None, ge=0, allow_inf_nan=False)
    price: float | None = Field(None, gt=0, allow_inf_nan=False)


# -- Binance ------------------------------------------------------------------------------


class BinanceSymbol(BaseModel):
    model_config = ConfigDict(extra="ignore")

    symbol: str
    status: str
    baseAsset: str
    quoteAsset: str
    contractType: str | None = None  # USDⓈ-M only: PERPETUAL, CURRENT_QUARTER, …


class _BinanceInfo(BaseModel):
    model_config = ConfigDict(extra="ignore")

    symbols: list[Any]


def parse_binance_info(
    body: Any, venue: Literal["binance_spot", "binance_perp"], source: str
) -> list[Listing]:
    """Trading USDT pairs (spot) or USDT perpetuals (USDⓈ-M) of an ``exchangeInfo`` body."""
    info = validate_model(source, body, _BinanceInfo)

    def convert(row: BinanceSymbol) -> Listing | None:
        if row.status != "TRADING" or row.quoteAsset != "USDT":
            return None
        if venue == "binance_perp" and row.contractType != "PERPETUAL":
            return None
        return Listing(venue=venue, symbol=row.symbol, base=row.baseAsset)

    return validate_rows(source, info.symbols, BinanceSymbol, convert)


# -- Bybit --------------------------------------------------------------------------------


class BybitInstrument(BaseModel):
    model_config = ConfigDict(extra="ignore")

    symbol: str
    contractType: str
    status: str
    baseCoin: str
    quoteCoin: str


class _BybitResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    rows: list[Any] = Field(alias="list")
    nextPageCursor: str = ""


class _BybitBody(BaseModel):
    model_config = ConfigDict(extra="ignore")

    retCode: int
    retMsg: str = ""
    result: _BybitResult


def parse_bybit_instruments(body: Any, source: str = "bybit") -> tuple[list[Listing], str]:
    """Trading USDT linear perpetuals of one page, and the cursor of the next ("" at the end)."""
    if isinstance(body, dict) and body.get("retCode") not in (None, 0, "0"):
        raise ProviderError(source, f"retCode {body.get('retCode')}: {body.get('retMsg', '')}")
    page = validate_model(source, body, _BybitBody)

    def convert(row: BybitInstrument) -> Listing | None:
        if row.status != "Trading" or row.quoteCoin != "USDT" or row.contractType != "LinearPerpetual":
            return None
        return Listing(venue="bybit", symbol=row.symbol, base=row.baseCoin)

    return validate_rows(source, page.result.rows, BybitInstrument, convert), page.result.nextPageCursor


# -- OKX ----------------------------------------------------------------------------------


class OkxInstrument(BaseModel):
    model_config = ConfigDict(extra="ignore")

    instId: str
    state: str
    settleCcy: str = ""
    ctValCcy: str = ""
    ctVal: str = ""


def parse_okx_instruments(body: Any, source: str = "okx") -> list[Listing]:
    """Live USDT-margined swaps; the base is the coin a contract is worth (``ctValCcy``)."""
    if not isinstance(body, dict) or "code" not in body:
        raise BadPayload(source, "expected an object with a 'code'")
    if str(body["code"]) != "0":
        raise ProviderError(source, f"code {body['code']}: {body.get('msg', '')}")

    def convert(row: OkxInstrument) -> Listing | None:
        if row.state != "live" or row.settleCcy != "USDT" or not row.instId.endswith("-USDT-SWAP"):
            return None
        base = row.ctValCcy or row.instId.split("-", 1)[0]
        value = float(row.ctVal) if row.ctVal else 1.0
        return Listing(venue="okx", symbol=row.instId, base=base, contract_value=value)

    return validate_rows(source, body.get("data"), OkxInstrument, convert)


# -- CoinGecko ----------------------------------------------------------------------------


class MarketCapRow(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: str
    symbol: str
    name: str
    market_cap: float | None = None
    market_cap_rank: int | None = None
    current_price: float | None = None


def parse_ranking(body: Any, source: str = "coingecko") -> list[RankedCoin]:
    """CoinGecko's ``/coins/markets`` rows in market-cap order (the body's order)."""
    rows = validate_rows(source, body, MarketCapRow, lambda r: r)
    out: list[RankedCoin] = []
    for row in rows:
        try:
            out.append(
                RankedCoin(
                    id=row.id,
                    symbol=row.symbol.upper(),
                    name=row.name,
                    rank=len(out) + 1,
                    market_cap=row.market_cap,
                    price=row.current_price,
                )
            )
        except ValidationError:  # an empty id or symbol, a negative or non-finite figure
            continue
    return out


class InstrumentsProvider:
    """The daily lists: one request each (Bybit: one per 1,000 instruments). Built on the
    collector's own venue clients, so these requests share each venue's budget."""

    def __init__(
        self,
        *,
        spot: VenueClient,
        futures: VenueClient,
        bybit: VenueClient,
        okx: VenueClient,
        coingecko: VenueClient,
    ) -> None:
        self.spot = spot
        self.futures = futures
        self.bybit = bybit
        self.okx = okx
        self.coingecko = coingecko

    async def ranking(self, per_page: int = 250) -> list[RankedCoin]:
        body = await self.coingecko.get_json(
            "/coins/markets",
            {"vs_currency": "usd", "order": "market_cap_desc", "per_page": per_page, "page": 1},
        )
        return parse_ranking(body, self.coingecko.source)

    async def binance(self) -> list[Listing]:
        spot = await self.spot.get_json("/api/v3/exchangeInfo", {"permissions": "SPOT"})
        perp = await self.futures.get_json("/fapi/v1/exchangeInfo")
        return [
            *parse_binance_info(spot, "binance_spot", self.spot.source),
            *parse_binance_info(perp, "binance_perp", self.futures.source),
        ]

    async def bybit_linear(self) -> list[Listing]:
        out: list[Listing] = []
        cursor = ""
        for _ in range(MAX_BYBIT_PAGES):
            params = {"category": "linear", "limit": 1000, **({"cursor": cursor} if cursor else {})}
            rows, cursor = parse_bybit_instruments(
                await self.bybit.get_json("/v5/market/instruments-info", params), self.bybit.source
            )
            out += rows
            if not cursor:
                break
        return out

    async def okx_swaps(self) -> list[Listing]:
        body = await self.okx.get_json("/api/v5/public/instruments", {"instType": "SWAP"})
        return parse_okx_instruments(body, self.okx.source)
