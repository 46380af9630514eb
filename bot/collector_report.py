"""What one collection cycle reports, source by source: what ``collect --once`` and the console
print, and what the jobs log."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field


@dataclass
class SourceReport:
    source: str
    stored: int = 0
    error: str | None = None
    detail: str = ""

    def line(self) -> str:
        if self.error:
            return f"{self.source:<24} FAILED  {self.error}"
        return f"{self.source:<24} ok      stored {self.stored} {self.detail}".rstrip()


@dataclass
class CycleReport:
    sources: list[SourceReport] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return any(s.error is None for s in self.sources)

    def __iadd__(self, other: CycleReport) -> CycleReport:
        self.sources += other.sources
        return self


@contextmanager
def failures_printed_not_logged() -> Iterator[None]:
    """For a caller that prints each source's line (``collect --once``, the console's first
    pass): the warning log line would say every failure a second time."""
    logger = logging.getLogger("bot.collector")  # the collector's logger
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)
