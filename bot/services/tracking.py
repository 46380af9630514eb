"""What the commands say about the tracked set that follows the market: a coin newly tracked is
collected at once but answered only when its history is in, and until then every answer about
it is the loading line, with the venues counted from the recorded backfill progress."""

from __future__ import annotations

from bot.universe import HistoryLoading

VENUE_NAMES = {"binance": "Binance", "bybit": "Bybit", "okx": "OKX"}


def history_loading(loading: HistoryLoading) -> str:
    """ "SOL history loading: 2 of 3 venues done (Binance, Bybit; OKX to come)." — the one
    line every command answers for a coin whose history backfill has not finished."""
    done = [v for v in loading.venues if v in loading.done]
    waiting = [v for v in loading.venues if v not in loading.done]
    names = ", ".join(VENUE_NAMES.get(v, v) for v in done)
    rest = ", ".join(VENUE_NAMES.get(v, v) for v in waiting)
    detail = f" ({names}; {rest} to come)" if done else f" ({rest} to come)" if rest else ""
    return (
        f"{loading.symbol} history loading: {len(done)} of {len(loading.venues)} venues done{detail}. "
        f"{loading.symbol} was just added to the tracked coins; answers start once its history is in."
    )
