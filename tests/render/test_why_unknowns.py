"""What a /why answer could not say: the services and the analysis give each unknown as data
(its kind, age or finding), the renderer words it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.analysis.findings import Caveat, OIFinding
from bot.analysis.why import Unknown, WhyInputs, explain
from bot.render.why import unknown_text


def test_the_not_known_lines_are_worded_from_their_data() -> None:
    now = datetime(2026, 3, 10, 15, tzinfo=UTC)
    inputs = WhyInputs(
        coin="SOL",
        window="4h",
        now=now,
        move_pct=None,
        oi=OIFinding(coin="SOL", window="4h", insufficient=Caveat(code="no_oi", coin="SOL")),
        unknowns=(Unknown(kind="stale_prices", age=timedelta(minutes=12)), Unknown(kind="streams_down")),
    )
    answer = explain(inputs)
    assert [unknown_text(u, answer) for u in answer.unknowns] == [
        "prices are 12 min old (stale): the last good values are shown",
        "no liquidation stream is connected: liquidation figures end at the last connection",
        "no price change stored for SOL over 4h",
        "open interest: no open-interest data for SOL",
    ]


def test_the_market_answer_names_the_market() -> None:
    now = datetime(2026, 3, 10, 15, tzinfo=UTC)
    answer = explain(WhyInputs(coin=None, window="24h", now=now, move_pct=None))
    assert [unknown_text(u, answer) for u in answer.unknowns] == [
        "no price change stored for the market over 24h"
    ]
