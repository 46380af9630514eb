"""Helpers every parser shares: validate rows one by one so one drifted row is dropped and
logged, while a payload where nothing validates is a :class:`BadPayload` for the whole source."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.coins import Coin, CoinRegistry
from bot.providers.http import BadPayload, GeoBlocked, ProviderError, TransientError

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")


def describe(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


def validate_rows(
    source: str,
    rows: Any,
    model: type[M],
    convert: Callable[[M], R | None],
) -> list[R]:
    """Validate each row of a list with ``model`` and convert it; ``convert`` returns None for
    rows we do not track. Raises :class:`BadPayload` when the body is not a list, or when it
    has rows and none of them validates (a renamed field, a changed type)."""
    if not isinstance(rows, list):
        raise BadPayload(source, f"expected a list, got {type(rows).__name__}")
    out: list[R] = []
    errors: list[str] = []
    for row in rows:
        try:
            converted = convert(model.model_validate(row))
        except ValidationError as exc:
            errors.append(describe(exc))
            continue
        except (ValueError, ArithmeticError) as exc:  # a conversion (timestamp, units) refused the row
            errors.append(str(exc))
            continue
        if converted is not None:
            out.append(converted)
    if errors:
        if len(errors) == len(rows):
            raise BadPayload(source, f"no row validated ({len(errors)} rows); first error: {errors[0]}")
        log.warning("%s: dropped %d malformed rows; first: %s", source, len(errors), errors[0])
    return out


def validate_model(source: str, body: Any, model: type[M]) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        raise BadPayload(source, describe(exc)) from None


def flatten(items: Iterable[Iterable[R]]) -> list[R]:
    return [x for group in items for x in group]


def registry_subset(registry: CoinRegistry, coins: Sequence[Coin]) -> CoinRegistry:
    """A registry of only the asked coins, so a parser ignores rows for everything else."""
    wanted = {c.symbol for c in coins}
    return CoinRegistry(c for c in registry.coins.values() if c.symbol in wanted)


def by_position(rows: Any, fields: tuple[str, ...]) -> Any:
    """Name the cells of array rows so a model can validate them; a short row then misses a
    field and is rejected, extra trailing cells are ignored."""
    if not isinstance(rows, list):
        return rows  # validate_rows reports the wrong shape
    return [dict(zip(fields, row, strict=False)) if isinstance(row, list) else row for row in rows]


async def per_coin(
    source: str, coins: Sequence[Coin], fetch: Callable[[Coin], Awaitable[list[R]]]
) -> list[R]:
    """Run a per-coin request for each coin in turn (the venue's limiter paces them).

    A venue refusing one symbol (HTTP 4xx or a venue error code, e.g. a delisted coin) skips
    that coin; a transient failure, a geo block or a drifted payload concerns the whole venue
    and propagates, as does a refusal of every coin."""
    out: list[R] = []
    refused: list[ProviderError] = []
    for coin in coins:
        try:
            out.extend(await fetch(coin))
        except (TransientError, GeoBlocked, BadPayload):
            raise
        except ProviderError as exc:
            log.warning("%s: skipping %s: %s", source, coin.symbol, exc.reason)
            refused.append(exc)
    if refused and len(refused) == len(coins):
        raise refused[0]
    return out
