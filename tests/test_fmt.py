"""The price formatter: precision from what must be told apart."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from bot.fmt import price_at, price_decimals, price_level, price_range, range_decimals

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


@given(
    PRICES, st.lists(st.tuples(FRACTION, FRACTION), min_size=1, max_size=7), st.lists(FRACTION, max_size=2)
)
def test_zone_precision_tells_zones_and_edges_apart(
    p: float, shape: list[tuple[float, float]], marks: list[float]
) -> None:
    """The fewest decimals for a set of zones (and the averages beside them) still never print
    two different zones the same, nor a zone's two edges equal, nor two averages the same."""
    zones = {(p * (1 + off), p * (1 + off) * (1 + w)) for off, w in shape}
    levels = {p * (1 - m) for m in marks}
    d = range_decimals(sorted(zones), *levels)
    texts = {price_range(lo, hi, decimals=d) for lo, hi in zones}
    assert len(texts) == len(zones)
    for text in texts:
        left, right = text.split("–")
        assert left != right
    assert len({price_at(v, d) for v in levels}) == len(levels)


def test_zone_precision_reads_as_a_trader_writes_it() -> None:
    # PEPE's zones nearly touch: four significant figures still tell them apart
    pepe = [(0.000010283245, 0.000010370233), (0.0000103757, 0.0000112538), (0.0000102516, 0.000010283245)]
    d = range_decimals(pepe, 0.000010349382)
    assert [price_range(lo, hi, decimals=d) for lo, hi in pepe] == [
        "$0.00001028–$0.00001037",
        "$0.00001038–$0.00001125",
        "$0.00001025–$0.00001028",
    ]
    # a far zone or a 200-day average above $100K costs BTC's zones no digit
    btc = [(89_370.4, 91_180.2), (91_340.0, 93_170.9), (101_000.0, 102_500.0)]
    d = range_decimals(btc, 99_700.0)
    assert price_range(*btc[0], decimals=d) == "$89,370–$91,180"
