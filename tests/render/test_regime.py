"""The leverage regime's reasons in words: the analysis says which facts a label stood on, with
their numbers; the renderer words them (moved here from tests/analysis/test_derivatives.py)."""

from __future__ import annotations

from bot.analysis.regime import classify_regime
from bot.render.regime import regime_reasons


def test_cascade_reasons_quote_the_numbers_and_the_broken_level() -> None:
    r = classify_regime(-6.0, -5.0, 9e6, 1e6, 4.0, broke_level=True)
    assert regime_reasons(r) == (
        "price −6.0%",
        "long liquidations $9.00M (90% of the total), 4.0× baseline",
        "open interest −5.0%",
        "fell through support",
    )


def test_a_squeeze_on_the_open_interest_band_says_which_band() -> None:
    r = classify_regime(5.0, None, 1e6, 8e6, None, liq_basis="open_interest", liq_scale=2.5, broke_level=True)
    assert r.label == "short squeeze"
    assert regime_reasons(r) == (
        "price +5.0%",
        "short liquidations $8.00M (89% of the total), 2.5× the open-interest band",
        "open interest unknown",
        "broke through resistance",
    )


def test_spot_led_and_quiet_windows_are_worded_from_their_numbers() -> None:
    spot = classify_regime(-3.0, 0.2, 1e6, 1e6, 1.0, spot_net_usd=-5e6, perp_net_usd=2e6)
    assert regime_reasons(spot) == (
        "price −3.0%",
        "spot net taker selling $5.00M vs perps $2.00M",
        "open interest +0.2%",
    )
    assert regime_reasons(classify_regime(0.4, -9.0, 9e6, 1e6, 9.0, window="4h")) == (
        "price moved only +0.4% in 4h",
    )
    assert regime_reasons(classify_regime(-3.0, 0.2, 1e6, 1e6, 1.0)) == ("price −3.0%", "open interest flat")
    assert regime_reasons(classify_regime(-3.0, None, None, None, None)) == (
        "price −3.0%",
        "no open-interest data",
    )
