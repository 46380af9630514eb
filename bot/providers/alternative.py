"""alternative.me's keyless Fear & Greed index: ``GET https://api.alternative.me/fng/?limit=N``.

The documented shape (api.alternative.me's "Crypto Fear & Greed Index" API; no sample was
recorded, see tests/fixtures/documented-shape/README.md)::

    {"name": "Fear and Greed Index",
     "data": [{"value": "40", "value_classification": "Fear", "timestamp": "1551157200",
               "time_until_update": "68499"}, ...],
     "metadata": {"error": null}}

newest first, one entry a day, values and Unix-second timestamps as strings. The parser is
defensive: a body without a ``data`` list, or with an error in ``metadata``, is a
:class:`BadPayload`; an entry without a usable value (0–100), label or timestamp is skipped.
"""

from __future__ import annotations

import logging
import math
from datetime import UTC, datetime
from typing import Any

from bot.models import FearGreed
from bot.providers.http import BadPayload, HttpClient
from bot.settings import AlternativeSettings

log = logging.getLogger(__name__)

SOURCE = "alternative.me"
HISTORY_DAYS = 30


def _entry(raw: Any) -> FearGreed | None:
    if not isinstance(raw, dict):
        return None
    try:
        value = float(raw["value"])
        ts = datetime.fromtimestamp(int(raw["timestamp"]), tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return None
    label = raw.get("value_classification")
    if not math.isfinite(value) or not 0 <= value <= 100 or value != int(value):
        return None
    if not isinstance(label, str) or not label.strip() or len(label) > 40:
        return None
    return FearGreed(source=SOURCE, ts=ts, value=int(value), label=label.strip())


def parse_fng(body: Any, source: str = "alternative") -> list[FearGreed]:
    """The readings of one response, oldest first, one per timestamp."""
    if not isinstance(body, dict) or not isinstance(body.get("data"), list):
        raise BadPayload(source, "fng: no data list")
    metadata = body.get("metadata")
    if isinstance(metadata, dict) and metadata.get("error"):
        raise BadPayload(source, f"fng: {str(metadata['error'])[:200]}")
    points = {p.ts: p for p in (_entry(raw) for raw in body["data"]) if p is not None}
    if body["data"] and not points:
        raise BadPayload(source, f"fng: {len(body['data'])} entries, none usable")
    return [points[t] for t in sorted(points)]


class AlternativeProvider:
    """The daily Fear & Greed index, the last month of it per request (one request)."""

    def __init__(self, http: HttpClient, settings: AlternativeSettings) -> None:
        self.rest = http.venue("alternative", settings.rest_url, settings.requests_per_minute)

    async def fear_greed(self, days: int = HISTORY_DAYS) -> list[FearGreed]:
        body = await self.rest.get_json("/fng/", {"limit": days})
        return parse_fng(body, self.rest.source)
