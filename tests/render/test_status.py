"""The answer cache's counters in /status: counted by the service, worded here."""

from __future__ import annotations

from bot.render.embeds import answers_line
from bot.views.answers import CacheStats


def test_the_answer_counters_read_as_one_line() -> None:
    assert answers_line(CacheStats(hits=6, misses=3, coalesced=1, refused=2, lagging=1)) == (
        "6 hits, 1 coalesced, 3 computed (70% served without computing), 2 refused as busy, "
        "1 served under load with liquidations up to the grace behind"
    )
    assert answers_line(CacheStats()).startswith("0 hits, 0 coalesced, 0 computed (0% served")
