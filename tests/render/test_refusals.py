"""The words of the refusals the services raise as data (the end-to-end wording is also asserted
through the real command path in tests/cogs)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from bot.errors import Busy, CoinRefused, NoDataYet, UserFacingError, WatchRefused
from bot.render.refusals import refusal_text

TRACKED = ("BTC", "ETH")


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (
            Busy(0.3),
            "Tapewatch is answering a burst of questions right now; please ask again in about 1 s.",
        ),
        (Busy(4.6), "Tapewatch is answering a burst of questions right now; please ask again in about 5 s."),
        (
            NoDataYet("price", "ETH", None),
            "No price for ETH stored yet; run `tapewatch collect --once` (or start the bot) to collect it.",
        ),
        (
            NoDataYet("prices", None, timedelta(seconds=42)),
            "No prices stored yet; the next refresh is due in 42 s.",
        ),
        (
            NoDataYet("derivatives", None, timedelta(0)),
            "No derivatives data for the tracked coins stored yet; the next refresh is due in 0 s.",
        ),
        (
            CoinRefused("unknown", tracked=TRACKED, given=("zzq",)),
            "unknown coin 'zzq'. Tracked coins: BTC, ETH.",
        ),
        (
            CoinRefused("unknown", tracked=TRACKED, given=("btcc",), suggestions=("BTC",)),
            "unknown coin 'btcc' — did you mean BTC?",
        ),
        (
            CoinRefused("untracked", tracked=TRACKED, given=("DOGE",), name="Dogecoin"),
            "DOGE (Dogecoin) is not tracked on this bot. Tracked coins: BTC, ETH.",
        ),
        (
            CoinRefused("too_many", tracked=TRACKED, count=6, limit=5),
            "Up to 5 coins at once, please; you gave 6.",
        ),
        (
            CoinRefused("not_tracked", tracked=TRACKED, given=("doge", "ada")),
            "Not a tracked coin: doge, ada. Tracked coins: BTC, ETH.",
        ),
        (WatchRefused("not_positive"), "The price must be above zero."),
        (
            WatchRefused("limit", count=25),
            "You have 25 watches, the limit; remove one with `/watch remove` first.",
        ),
        (
            WatchRefused("too_far", level=1_000_000.0, max_distance=5.0, coin="BTC", now_price=60_000.0),
            "$1,000,000 is more than 5× away from BTC's $60,000; check the number.",
        ),
        (WatchRefused("no_such", watch_id=7), "You have no watch #7; `/watch list` shows yours."),
        (UserFacingError("Shown as written."), "Shown as written."),
    ],
)
def test_each_refusal_reads_as_one_line(error: UserFacingError, text: str) -> None:
    assert refusal_text(error) == text
