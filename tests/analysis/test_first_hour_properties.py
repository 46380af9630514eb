"""Properties: no answer needs history it does not have to name the obvious driver. On a
fresh store (prices and market caps only: no β, no open interest, no liquidations, no macro)
a coin's crash in a flat market is named coin-specific, and a move of the majors that carries
the market cap is named breadth."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analysis.benchmark import market_benchmark
from bot.analysis.breadth import breadth
from bot.analysis.findings import BetaResult, Caveat
from bot.analysis.why import WhyInputs, explain

NOW = datetime(2026, 11, 28, 15, tzinfo=UTC)
COINS = [f"C{i}" for i in range(15)]
MAJOR_CAPS = {"BTC": 1.7e12, "ETH": 4e11, "XRP": 1.2e11, "BNB": 9e10, "SOL": 8e10}
NO_BETA = BetaResult(
    coin="SOL",
    window_days=30,
    move_window="24h",
    insufficient=Caveat(code="few_returns", count=0, days=30, need=540),
)

small = st.floats(-0.4, 0.4, allow_nan=False)
big = st.floats(5, 40, allow_nan=False)


@settings(max_examples=200, deadline=None)
@given(
    crash=big,
    down=st.booleans(),
    others=st.lists(small, min_size=19, max_size=19),
    caps=st.lists(st.floats(1e8, 5e10), min_size=15, max_size=15),
)
def test_a_coins_own_crash_is_named_without_history(
    crash: float, down: bool, others: list[float], caps: list[float]
) -> None:
    move = -crash if down else crash
    names = ["BTC", "ETH", "XRP", "BNB", *COINS]
    changes = dict(zip(names, others, strict=True)) | {"SOL": move}
    all_caps = MAJOR_CAPS | dict(zip(COINS, caps, strict=True))
    peers = breadth(
        {c: v for c, v in changes.items() if c != "SOL"}, window="24h", as_of=NOW, market_caps=all_caps
    )
    inputs = WhyInputs(
        coin="SOL",
        window="24h",
        now=NOW,
        move_pct=move,
        breadth=breadth(changes, window="24h", as_of=NOW, market_caps=all_caps),
        beta=NO_BETA,
        benchmark=market_benchmark("SOL", "24h", move, peers, NO_BETA),
    )
    a = explain(inputs)
    assert a.drivers
    assert a.drivers[0].kind == "coin_specific"


@settings(max_examples=200, deadline=None)
@given(
    majors=st.lists(big, min_size=5, max_size=5),
    down=st.booleans(),
    others=st.lists(small, min_size=15, max_size=15),
)
def test_a_move_of_the_majors_is_named_breadth_without_history(
    majors: list[float], down: bool, others: list[float]
) -> None:
    sign = -1 if down else 1
    changes = {c: sign * m for c, m in zip(MAJOR_CAPS, majors, strict=True)} | dict(
        zip(COINS, others, strict=True)
    )
    caps = MAJOR_CAPS | dict.fromkeys(COINS, 5e9)
    inputs = WhyInputs(
        coin=None,
        window="24h",
        now=NOW,
        move_pct=changes["BTC"],
        breadth=breadth(changes, window="24h", as_of=NOW, market_caps=caps),
    )
    a = explain(inputs)
    assert [d.kind for d in a.drivers] == ["breadth"]
