"""Property: whatever the history, open interest and volume, the text of /why, /liquidations and
a spike alert names the basis the finding (or observation) used, and no other."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.alerts.config import AlertConfig
from bot.alerts.inputs import CoinInputs
from bot.alerts.rules import liquidation_spike
from bot.analysis.findings import LiqBasis, LiquidationFinding
from bot.analysis.liq_basis import with_basis
from bot.render.alerts import trigger_text
from bot.render.basis import BASIS_MARKERS
from bot.render.drivers import liquidation_text
from bot.render.liquidations import window_text
from tests.conftest import NOW

WINDOWS = {
    "1h": timedelta(hours=1),
    "4h": timedelta(hours=4),
    "24h": timedelta(hours=24),
    "7d": timedelta(days=7),
}
usd = st.floats(1e3, 5e10, allow_nan=False, allow_infinity=False)
maybe_usd = st.none() | usd
days = st.none() | st.floats(1.0, 30.0)


def named(text: str) -> set[str]:
    """The basis families a text names (the two own rungs share their wording)."""
    return {"own" if b.startswith("own") else b for b, marker in BASIS_MARKERS.items() if marker in text}


def family(basis: LiqBasis | None) -> set[str]:
    if basis is None:
        return set()
    return {"own" if basis.startswith("own") else basis}


@settings(max_examples=300, deadline=None)
@given(
    window=st.sampled_from(sorted(WINDOWS)),
    total=usd,
    long_share=st.floats(0, 1),
    baseline=maybe_usd,
    baseline_days=days,
    oi=maybe_usd,
    volume=maybe_usd,
)
def test_answers_name_the_basis_the_finding_used(
    window: str,
    total: float,
    long_share: float,
    baseline: float | None,
    baseline_days: float | None,
    oi: float | None,
    volume: float | None,
) -> None:
    has_baseline = baseline is not None and baseline_days is not None
    raw = LiquidationFinding(
        coin="BTC",
        window=window,
        start=NOW - WINDOWS[window],
        end=NOW,
        total_usd=total,
        long_usd=total * long_share,
        short_usd=total * (1 - long_share),
        long_share=long_share,
        baseline_usd=baseline if has_baseline else None,
        baseline_days=baseline_days if has_baseline else None,
        baseline_multiple=total / baseline if has_baseline and baseline else None,
    )
    f = with_basis(raw, oi_usd=oi, volume_usd=volume)
    if has_baseline or oi is not None or volume is not None:
        assert f.basis is not None
    for text in (liquidation_text(f, ()), window_text(f)):
        assert named(text) == family(f.basis), (f.basis, text)


@settings(max_examples=300, deadline=None)
@given(total=usd, long_share=st.floats(0, 1), baseline=maybe_usd, baseline_days=days, oi=maybe_usd)
def test_alerts_name_the_basis_the_observation_used(
    total: float, long_share: float, baseline: float | None, baseline_days: float | None, oi: float | None
) -> None:
    has_baseline = baseline is not None and baseline_days is not None
    inputs = CoinInputs(
        coin="BTC",
        now=NOW,
        liq_usd=total,
        liq_long_usd=total * long_share,
        liq_baseline_usd=baseline if has_baseline else None,
        liq_baseline_days=baseline_days if has_baseline else None,
        liq_oi_usd=oi,
    )
    o = liquidation_spike(inputs, AlertConfig())
    if o is None:
        assert not has_baseline
        assert oi is None
        return
    text = trigger_text(o)
    expected = family(o.liq_basis) if o.basis_ratio is not None else set()
    assert named(text) == expected, (o.liq_basis, text)
