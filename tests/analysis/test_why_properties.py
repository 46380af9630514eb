"""Up and down are treated alike: mirroring a move flips the wording and the labels, nothing else."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analysis.findings import Breadth, RegimeFinding
from bot.analysis.regime import classify_regime
from bot.analysis.why import WhyInputs, explain
from bot.render.phrases import REGIME_PHRASE
from bot.render.why import headline

MIRROR = {
    "long liquidation cascade": "short squeeze",
    "short squeeze": "long liquidation cascade",
    "deleveraging": "short covering",
    "short covering": "deleveraging",
    "new shorts": "new longs",
    "new longs": "new shorts",
    "spot-led selling": "spot-led buying",
    "spot-led buying": "spot-led selling",
    "no leverage signal": "no leverage signal",
}
NOW = datetime(2026, 3, 10, 15, tzinfo=UTC)
pct = st.floats(-30, 30, allow_nan=False).filter(lambda x: abs(x) > 1e-6)
usd = st.floats(0, 5e8, allow_nan=False)
maybe = st.none() | st.floats(-20, 20, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(
    price=pct, oi=maybe, longs=usd, shorts=usd, multiple=st.none() | st.floats(0, 50), spot=maybe, perp=maybe
)
def test_regime_labels_mirror(
    price: float,
    oi: float | None,
    longs: float,
    shorts: float,
    multiple: float | None,
    spot: float | None,
    perp: float | None,
) -> None:
    scale = 1e6
    down = classify_regime(
        price,
        oi,
        longs,
        shorts,
        multiple,
        spot_net_usd=None if spot is None else spot * scale,
        perp_net_usd=None if perp is None else perp * scale,
    )
    up = classify_regime(
        -price,
        oi,
        shorts,
        longs,
        multiple,
        spot_net_usd=None if spot is None else -spot * scale,
        perp_net_usd=None if perp is None else -perp * scale,
    )
    assert up.label == MIRROR[down.label]


def inputs(move: float, n_down: int, n_up: int, label: str) -> WhyInputs:
    n = n_down + n_up
    regime = RegimeFinding(window="24h", label=label, price_change_pct=move)  # type: ignore[arg-type]
    br = Breadth(window="24h", n=n, n_down=n_down, n_up=n_up, share_down=n_down / n, median_pct=move)
    return WhyInputs(coin=None, window="24h", now=NOW, move_pct=move, breadth=br, regime=regime)


@settings(max_examples=200, deadline=None)
@given(
    move=st.floats(0.05, 25, allow_nan=False),
    n_down=st.integers(0, 20),
    n_up=st.integers(0, 20),
    label=st.sampled_from(sorted(MIRROR)),
)
def test_why_mirrors_wording_and_drivers(move: float, n_down: int, n_up: int, label: str) -> None:
    if n_down + n_up == 0:
        n_down = 1
    down = explain(inputs(-move, n_down, n_up, label))
    up = explain(inputs(move, n_up, n_down, MIRROR[label]))
    assert {down.direction, up.direction} in ({"down", "up"}, {"flat"})
    assert [(d.kind, round(d.score, 9)) for d in down.drivers] == [
        (d.kind, round(d.score, 9)) for d in up.drivers
    ]
    assert down.quiet == up.quiet
    if down.direction == "flat":
        return
    hd, hu = headline(down), headline(up)
    assert ("decline" in hd) == ("rally" in hu)
    assert ("specific drop" in hd) == ("specific rise" in hu)
    if label in REGIME_PHRASE:
        assert (REGIME_PHRASE[label] in hd) == (REGIME_PHRASE[MIRROR[label]] in hu)
    assert f"−{abs(move):.1f}"[:3] in hd.replace(",", "")
    assert hd.replace("−", "+").split(":")[1].count("+") == hu.split(":")[1].count("+")
