"""A zone's reasons in words: the analysis gives each reason's numbers, the renderer words them
(the wording asserts moved here from tests/analysis/test_levels.py, on the same markets)."""

from __future__ import annotations

import numpy as np

from bot.analysis.levels import find_levels
from bot.render.levels import zone_line, zone_reasons
from tests.analysis import DAY, HOUR, NOW, candles_from_closes, zigzag
from tests.analysis.test_levels import RANGE, near


def test_a_range_markets_support_is_explained_by_its_touches_and_round_number() -> None:
    r = find_levels("BTC", 108.0, candles_from_closes(RANGE), [], now=NOW)
    words = zone_reasons(r.supports[0])
    assert "3 touches on 1d" in words
    assert "round number $100" in words
    assert ", ".join(words[:3]) in zone_line(r.supports[0])


def test_a_moving_average_inside_a_zone_is_named_with_its_price() -> None:
    rng = np.random.default_rng(7)
    flat = (100 + rng.normal(0, 0.3, 200)).tolist()
    path = [*flat, *zigzag([100, 99.8, 106, 99.9, 106, 104], legs=8)]
    r = find_levels("BTC", 104.0, candles_from_closes(path), [], now=NOW)
    labelled = [w for z in (*r.supports, *r.resistances) for w in zone_reasons(z) if "200-day average" in w]
    assert labelled
    assert all(w.startswith("200-day average $") for w in labelled)


def test_a_lost_support_says_when_and_what_it_is_now() -> None:
    daily = candles_from_closes(
        zigzag([95, 90, 110, 100, 120, 100, 119.5, 100, 105], legs=8), end=NOW - 3 * DAY
    )
    hourly_path = [*np.linspace(105, 103, 48).tolist(), *np.linspace(103, 97, 24).tolist()]
    hourly = candles_from_closes(hourly_path, step=HOUR, interval="1h")
    r = find_levels("BTC", 97.0, daily, hourly, now=NOW)
    b = r.broken[0]
    assert near(b.zone, 100)
    first = zone_reasons(b.zone)[0]
    assert first.startswith("lost support")
    assert first.endswith(", now resistance")


def test_a_reclaimed_resistance_says_so() -> None:
    daily = candles_from_closes(zigzag([110, 100, 120, 105, 120, 105, 115], legs=8), end=NOW - 3 * DAY)
    hourly_path = [*np.linspace(115, 117, 48).tolist(), *np.linspace(117, 123, 24).tolist()]
    hourly = candles_from_closes(hourly_path, step=HOUR, interval="1h")
    r = find_levels("BTC", 123.0, daily, hourly, now=NOW)
    assert zone_reasons(r.broken[0].zone)[0].startswith("reclaimed resistance")
    assert zone_reasons(r.broken[0].zone)[0].endswith(", now support")
