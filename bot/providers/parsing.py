"""Helpers every parser shares: validate rows one by one so one drifted row is dropped and
logged, while a payload where nothing validates is a :class:`BadPayload` for the whole source."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from bot.providers.http import BadPayload

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
