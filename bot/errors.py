"""The one exception type whose message is meant for the user (shown ephemerally), and the
refusals the services raise as data: their words are :mod:`bot.render.refusals`'."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Literal


class UserFacingError(Exception):
    """Bad input or missing data, explained in one friendly sentence. Raising it changes nothing.

    Raised with a message, it is shown as written (the chat layer's own checks); the subclasses
    below carry numbers instead, and the renderer words them."""


class NoDataYet(UserFacingError):
    """Nothing stored yet for what was asked: ``what`` (for ``coin``, or every tracked coin),
    with when the next refresh is due (None: no collector is running)."""

    def __init__(
        self, what: Literal["price", "prices", "derivatives"], coin: str | None, due_in: timedelta | None
    ) -> None:
        super().__init__(what, coin, due_in)
        self.what = what
        self.coin = coin
        self.due_in = due_in


class Busy(UserFacingError):
    """More work is queued than can be answered soon: the user is told when to ask again."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(retry_after)
        self.retry_after = retry_after


class CoinRefused(UserFacingError):
    """A coin the answer cannot be about: ``unknown`` (``given``, with ``suggestions``),
    ``untracked`` (``given`` is the coin's symbol, ``name`` its name), ``too_many`` (``count``
    of at most ``limit``) or ``not_tracked`` (``given``: the words that are not tracked coins).
    ``tracked`` lists the coins the bot does answer for."""

    def __init__(
        self,
        kind: Literal["unknown", "untracked", "too_many", "not_tracked"],
        *,
        tracked: Sequence[str],
        given: Sequence[str] = (),
        name: str = "",
        suggestions: Sequence[str] = (),
        count: int = 0,
        limit: int = 0,
    ) -> None:
        super().__init__(kind, tuple(given))
        self.kind = kind
        self.tracked = tuple(tracked)
        self.given = tuple(given)
        self.name = name
        self.suggestions = tuple(suggestions)
        self.count = count
        self.limit = limit


class WatchRefused(UserFacingError):
    """A /watch request refused: ``not_positive`` price, the user at the ``limit``, a price
    ``too_far`` (over ``max_distance`` × from ``now_price`` of ``coin``), or ``no_such`` watch
    (``watch_id``)."""

    def __init__(
        self,
        kind: Literal["not_positive", "limit", "too_far", "no_such"],
        *,
        count: int = 0,
        level: float = 0.0,
        max_distance: float = 0.0,
        coin: str = "",
        now_price: float = 0.0,
        watch_id: int = 0,
    ) -> None:
        super().__init__(kind)
        self.kind = kind
        self.count = count
        self.level = level
        self.max_distance = max_distance
        self.coin = coin
        self.now_price = now_price
        self.watch_id = watch_id


class HistoryLoading(UserFacingError):
    """A coin newly tracked whose history backfill has not finished: answered only once it is
    in. ``venues`` it comes from, ``done`` those finished (from the recorded progress)."""

    def __init__(self, symbol: str, venues: tuple[str, ...], done: tuple[str, ...]) -> None:
        super().__init__(f"{symbol} history loading")
        self.symbol = symbol
        self.venues = venues
        self.done = done
