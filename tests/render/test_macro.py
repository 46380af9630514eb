"""The macro verdict's reason in words: the analysis says which case it was, with the equities'
mean move and the confirming series (the wording asserts moved here from
tests/analysis/test_macro.py, on the same markets)."""

from __future__ import annotations

from bot.analysis.macro import macro_moves
from bot.render.drivers import macro_text, verdict_text
from tests.analysis.test_macro import DAY, TUE_AFTERNOON, two_day


def test_risk_off_names_the_gauge_that_confirmed_it() -> None:
    f = macro_moves(
        two_day({"spx": -1.2, "ndx": -1.5, "dax": -0.8, "dxy": 0.4, "us10y": 0.5, "vix": 3.0}),
        now=TUE_AFTERNOON,
        window=DAY,
    )
    assert "US dollar index rose" in verdict_text(f)
    assert verdict_text(f) == "equities fell (−1.17% on average) while US dollar index rose"
    assert f" — {verdict_text(f)}" in macro_text(f)


def test_flat_equities_and_no_gauges_say_so() -> None:
    flat = macro_moves(two_day({"spx": 0.1, "ndx": -0.2, "dxy": 0.5}), now=TUE_AFTERNOON, window=DAY)
    assert "flat" in verdict_text(flat)
    alone = macro_moves(two_day({"spx": -1.5}), now=TUE_AFTERNOON, window=DAY)
    assert "confirm" in verdict_text(alone)
    assert verdict_text(alone) == "no dollar, yield or VIX data to confirm the equity move"


def test_unconfirmed_and_split_moves() -> None:
    unconfirmed = macro_moves(
        two_day({"spx": -1.2, "ndx": -1.5, "dxy": -0.3, "us10y": -2.0, "vix": 1.0}),
        now=TUE_AFTERNOON,
        window=DAY,
    )
    assert (
        verdict_text(unconfirmed) == "equities fell (−1.35%) but the dollar, yields and VIX did not confirm"
    )
    split = macro_moves(two_day({"spx": -1.0, "dax": 1.0, "dxy": 0.5}), now=TUE_AFTERNOON, window=DAY)
    assert verdict_text(split) == "equity indices moved in different directions"
