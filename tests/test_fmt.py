"""The price formatter: precision from what must be told apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.fmt import price_at, price_decimals, price_level, price_range

# From PEPE to BTC: a price, then zones as (offset, width) fractions of it.
PRICES = st.floats(min_value=1e-6, max_value=2e5, allow_nan=False, allow_infinity=False)
FRACTION = st.floats(min_value=1e-5, max_value=0.2, allow_nan=False)


def test_examples_read_as_a_trader_writes_them() -> None:
    assert price_range(2083.2, 2107.9) == "$2,083–$2,108"
    assert price_range(67_420.3, 67_910.0) == "$67,420–$67,910"
    assert price_range(0.00001210, 0.00001253) == "$0.00001210–$0.00001253"
    assert price_level(70_000.0) == "$70,000"
    assert price_level(2163.4) == "$2,163"
    # a narrow zone gets the decimals it needs instead of "$2.1K–$2.1K"
    assert price_range(2100.2, 2100.9) == "$2,100.2–$2,100.9"


@given(PRICES, FRACTION)
def test_a_ranges_edges_never_print_equal(p: float, width: float) -> None:
    low, high = p, p * (1 + width)
    left, right = price_range(low, high).split("–")
    assert left != right


@given(PRICES, st.lists(st.tuples(FRACTION, FRACTION), min_size=2, max_size=6))
def test_two_different_zones_never_print_the_same(p: float, shape: list[tuple[float, float]]) -> None:
    zones = {(p * (1 + off), p * (1 + off) * (1 + w)) for off, w in shape}
    d = price_decimals(*(e for z in zones for e in z))
    texts = {price_range(lo, hi, decimals=d) for lo, hi in zones}
    assert len(texts) == len(zones)


@given(PRICES, FRACTION)
def test_neighbouring_level_is_told_apart(p: float, gap: float) -> None:
    d = price_decimals(p, p * (1 + gap))
    assert price_at(p, d) != price_at(p * (1 + gap), d)
