"""What a refused command says: the services raise refusals as data (:mod:`bot.errors`) and
these are their words; any other :class:`~bot.errors.UserFacingError` is shown as written."""

from __future__ import annotations

from bot.errors import Busy, CoinRefused, HistoryLoading, NoDataYet, UserFacingError, WatchRefused
from bot.fmt import age
from bot.fmt import price as fmt_price


def _no_data_yet(e: NoDataYet) -> str:
    what = {
        "price": f"price for {e.coin}",
        "prices": "prices",
        "derivatives": f"derivatives data for {e.coin or 'the tracked coins'}",
    }[e.what]
    if e.due_in is None:
        when = "run `tapewatch collect --once` (or start the bot) to collect it"
    else:
        when = f"the next refresh is due in {age(e.due_in)}"
    return f"No {what} stored yet; {when}."


def _coin(e: CoinRefused) -> str:
    tracked = ", ".join(e.tracked)
    if e.kind == "unknown":
        if e.suggestions:
            return f"unknown coin '{e.given[0]}' — did you mean {', '.join(e.suggestions)}?"
        return f"unknown coin '{e.given[0]}'. Tracked coins: {tracked}."
    if e.kind == "untracked":
        return f"{e.given[0]} ({e.name}) is not tracked on this bot. Tracked coins: {tracked}."
    if e.kind == "too_many":
        return f"Up to {e.limit} coins at once, please; you gave {e.count}."
    return f"Not a tracked coin: {', '.join(e.given)}. Tracked coins: {tracked}."


def _watch(e: WatchRefused) -> str:
    if e.kind == "not_positive":
        return "The price must be above zero."
    if e.kind == "limit":
        return f"You have {e.count} watches, the limit; remove one with `/watch remove` first."
    if e.kind == "too_far":
        return (
            f"{fmt_price(e.level)} is more than {e.max_distance:g}× away from {e.coin}'s "
            f"{fmt_price(e.now_price)}; check the number."
        )
    return f"You have no watch #{e.watch_id}; `/watch list` shows yours."


_BACKFILL_VENUES = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX"}


def history_loading_text(e: HistoryLoading) -> str:
    """ "SOL history loading: 2 of 3 venues done (Binance, Bybit; OKX to come)." — the one
    line every command answers for a coin whose history backfill has not finished."""
    done = [v for v in e.venues if v in e.done]
    waiting = [v for v in e.venues if v not in e.done]
    names = ", ".join(_BACKFILL_VENUES.get(v, v) for v in done)
    rest = ", ".join(_BACKFILL_VENUES.get(v, v) for v in waiting)
    detail = f" ({names}; {rest} to come)" if done else f" ({rest} to come)" if rest else ""
    return (
        f"{e.symbol} history loading: {len(done)} of {len(e.venues)} venues done{detail}. "
        f"{e.symbol} was just added to the tracked coins; answers start once its history is in."
    )


def refusal_text(error: UserFacingError) -> str:
    """The one line a user reads for ``error``."""
    if isinstance(error, NoDataYet):
        return _no_data_yet(error)
    if isinstance(error, Busy):
        return (
            "Tapewatch is answering a burst of questions right now; please ask again in "
            f"about {max(1, round(error.retry_after))} s."
        )
    if isinstance(error, CoinRefused):
        return _coin(error)
    if isinstance(error, WatchRefused):
        return _watch(error)
    if isinstance(error, HistoryLoading):
        return history_loading_text(error)
    return str(error)
