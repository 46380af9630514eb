"""Who led the market's move, in words: the analysis says which case it was, with its numbers
(the wording asserts moved here from tests/analysis/test_breadth.py)."""

from __future__ import annotations

from bot.analysis.breadth import breadth
from bot.render.drivers import lead_text
from tests.analysis import NOW


def test_alts_following_btc_by_their_betas_says_they_followed() -> None:
    betas = {"ETH": 1.3, "SOL": 1.6, "XRP": 1.2, "BNB": 0.8, "DOGE": 1.5, "ADA": 1.2}
    changes = {"BTC": -3.0, **{c: -3.0 * beta for c, beta in betas.items()}}
    text = lead_text(breadth(changes, window="24h", as_of=NOW, betas=betas))
    assert "followed" in text
    assert (
        text
        == "BTC −3.0%, alts −3.8% (median) against −3.8% expected from their betas: the alts followed BTC"
    )


def test_without_btc_it_says_there_is_nothing_to_compare_with() -> None:
    b = breadth({"ETH": -3.0, "SOL": -4.0, "XRP": -2.0}, window="24h", as_of=NOW)
    assert "no BTC" in lead_text(b)


def test_each_case_quotes_its_numbers() -> None:
    cases = {
        "alts moved +3.0% (median) while BTC was flat (+0.1%)": {
            "BTC": 0.1,
            "ETH": 3.0,
            "SOL": 4.0,
            "XRP": 2.5,
        },
        "BTC −3.0% and alts +2.0% (median) went different ways": {
            "BTC": -3.0,
            "ETH": 2.0,
            "SOL": 2.5,
            "XRP": 1.5,
        },
        "no clear leader: BTC and the alts barely moved": {"BTC": 0.05, "ETH": -0.2, "SOL": 0.3, "XRP": 0.0},
        "alts −7.0% (median) against −1.0% expected from BTC's −1.0%: the alts moved beyond BTC": {
            "BTC": -1.0,
            "ETH": -6.0,
            "SOL": -8.0,
            "XRP": -7.0,
        },
    }
    for text, changes in cases.items():
        assert lead_text(breadth(changes, window="24h", as_of=NOW)) == text
