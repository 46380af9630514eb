from __future__ import annotations

import pytest

from bot.analysis.glance import basis_pct, extremity, percentile_rank


def test_percentile_rank_counts_ties_half_and_needs_history() -> None:
    history = [float(i) for i in range(100)]
    assert percentile_rank(-1.0, history) == 0.0
    assert percentile_rank(1000.0, history) == 100.0
    assert percentile_rank(49.0, history) == pytest.approx(49.5)
    assert percentile_rank(1.0, history[:10]) is None


def test_basis_is_the_perps_premium_over_spot() -> None:
    assert basis_pct(101.0, 100.0) == pytest.approx(1.0)
    assert basis_pct(99.0, 100.0) == pytest.approx(-1.0)


def test_extremity_is_distance_from_the_median_percentile() -> None:
    assert extremity([2.0, 4.0], {}) == pytest.approx(47.0)
    assert extremity([50.0], {"binance": 0.01}) == 0.0
    assert extremity([None], {"binance": 0.0003}) > extremity([None], {"binance": 0.0001})
    assert extremity([], {}) == 0.0
