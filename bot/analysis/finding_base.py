"""What every finding shares (:mod:`bot.analysis.findings` holds them all): its data time,
sources, and why it has no numbers when it has none."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from bot.models import UtcDatetime

Unit = Annotated[float, Field(ge=0, le=1, allow_inf_nan=False)]
Count = Annotated[int, Field(ge=0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Finding(_Frozen):
    """Fields every finding shares."""

    as_of: UtcDatetime | None = None
    sources: tuple[str, ...] = ()
    insufficient: str | None = None  # why the finding has no numbers; None when it does
    notes: tuple[str, ...] = ()  # caveats that do not void the numbers

    @property
    def ok(self) -> bool:
        return self.insufficient is None
