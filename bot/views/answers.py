"""The answer cache's counters since start, as /status shows them (:mod:`bot.services.answers`
counts, :mod:`bot.render.embeds` words them)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable
from dataclasses import dataclass, field


@dataclass
class CacheStats:
    """What the cache did since start: observable in logs and ``/status``."""

    hits: int = 0
    misses: int = 0
    coalesced: int = 0
    evicted: int = 0
    refused: int = 0
    lagging: int = 0  # served under load with only liquidations newer (within the grace)
    asked: Counter[Hashable] = field(default_factory=Counter)
