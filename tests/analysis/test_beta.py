from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from bot.analysis.beta import BetaConfig, beta_to_btc
from bot.analysis.findings import Caveat
from bot.models import Candle
from tests.analysis import HOUR, NOW, candles_from_closes

N = 24 * 40  # 40 days of hourly bars


def _paths(beta: float, noise: float, seed: int = 1, n: int = N) -> tuple[list[float], list[float]]:
    rng = np.random.default_rng(seed)
    btc_r = rng.normal(0, 0.005, n)
    coin_r = beta * btc_r + rng.normal(0, noise, n)
    return (
        (60_000 * np.exp(np.cumsum(btc_r))).tolist(),
        (150 * np.exp(np.cumsum(coin_r))).tolist(),
    )


def _hourly(closes: list[float], coin: str) -> list[Candle]:
    return candles_from_closes(closes, step=HOUR, interval="1h", coin=coin)


def test_coin_at_one_and_a_half_times_btc_has_beta_1_5_and_high_r2() -> None:
    btc, sol = _paths(beta=1.5, noise=0.002)
    r = beta_to_btc("SOL", _hourly(sol, "SOL"), _hourly(btc, "BTC"), now=NOW)
    assert r.insufficient is None
    assert r.beta == pytest.approx(1.5, abs=0.05)
    assert r.r2 is not None
    assert r.r2 > 0.9
    assert r.beta_se is not None
    assert r.beta_se < 0.05
    assert r.n_obs == 24 * 30  # the 30-day window, not the 40 days given
    assert r.window_days == 30
    assert r.move_window == "24h"
    assert r.as_of == NOW
    assert r.sources == ("binance",)


def test_independent_coin_has_r2_near_zero() -> None:
    rng = np.random.default_rng(9)
    btc = (60_000 * np.exp(np.cumsum(rng.normal(0, 0.005, N)))).tolist()
    other = (2 * np.exp(np.cumsum(rng.normal(0, 0.01, N)))).tolist()
    r = beta_to_btc("XYZ", _hourly(other, "XYZ"), _hourly(btc, "BTC"), now=NOW)
    assert r.insufficient is None
    assert r.r2 is not None
    assert r.r2 < 0.02
    assert r.beta is not None
    assert abs(r.beta) < 3 * (r.beta_se or 0) + 0.1
    assert Caveat(code="weak_r2", r2=r.r2, coin="XYZ") in r.notes  # worded in tests/render/test_caveats.py


def test_expected_move_is_beta_times_btc_move_and_residual_the_rest() -> None:
    btc, sol = _paths(beta=1.5, noise=0.002)
    r = beta_to_btc("SOL", _hourly(sol, "SOL"), _hourly(btc, "BTC"), now=NOW)
    assert r.coin_move_pct == pytest.approx((sol[-1] / sol[-25] - 1) * 100)
    assert r.btc_move_pct == pytest.approx((btc[-1] / btc[-25] - 1) * 100)
    assert r.beta is not None
    assert r.btc_move_pct is not None
    assert r.coin_move_pct is not None
    expected = math.expm1(r.beta * math.log1p(r.btc_move_pct / 100)) * 100
    assert r.expected_move_pct == pytest.approx(expected)
    assert r.residual_pct == pytest.approx(r.coin_move_pct - expected)
    assert r.move_end == NOW
    assert r.move_start == NOW - timedelta(hours=24)


def test_given_moves_override_the_measured_ones() -> None:
    btc, sol = _paths(beta=1.5, noise=0.002)
    r = beta_to_btc(
        "SOL", _hourly(sol, "SOL"), _hourly(btc, "BTC"), now=NOW, coin_move_pct=-9.0, btc_move_pct=-4.0
    )
    assert r.beta is not None
    assert r.expected_move_pct == pytest.approx(math.expm1(r.beta * math.log1p(-0.04)) * 100)
    assert r.expected_move_pct is not None
    assert r.residual_pct == pytest.approx(-9.0 - r.expected_move_pct)


def test_missing_and_misaligned_bars_are_aligned_on_time() -> None:
    btc, sol = _paths(beta=1.5, noise=0.002, seed=4)
    rng = np.random.default_rng(5)
    coin_bars = [c for c in _hourly(sol, "SOL") if rng.random() > 0.1]
    btc_bars = [c for c in _hourly(btc, "BTC") if rng.random() > 0.05]
    rng.shuffle(coin_bars)  # order must not matter
    r = beta_to_btc("SOL", coin_bars, btc_bars, now=NOW)
    assert r.insufficient is None
    assert r.beta == pytest.approx(1.5, abs=0.06)
    assert 540 <= r.n_obs < 24 * 30 * 0.9


def test_bars_on_different_clocks_never_pair_up() -> None:
    btc, sol = _paths(beta=1.5, noise=0.002)
    shifted = candles_from_closes(sol, step=HOUR, interval="1h", coin="SOL", end=NOW - timedelta(minutes=30))
    r = beta_to_btc("SOL", shifted, _hourly(btc, "BTC"), now=NOW)
    assert r.insufficient is not None
    assert r.beta is None
    assert r.r2 is None
    assert r.expected_move_pct is None
    assert r.n_obs == 0


def test_too_short_history_is_flagged_not_estimated() -> None:
    btc, sol = _paths(beta=1.5, noise=0.002, n=24 * 10)
    r = beta_to_btc("SOL", _hourly(sol, "SOL"), _hourly(btc, "BTC"), now=NOW)
    assert r.insufficient == Caveat(code="few_returns", count=24 * 10 - 1, days=30, need=540)
    assert r.beta is None
    assert r.residual_pct is None
    assert r.n_obs == 24 * 10 - 1


def test_a_flat_coin_is_insufficient() -> None:
    btc, _ = _paths(beta=1.5, noise=0.002)
    flat = [1.0] * N
    r = beta_to_btc("USDT", _hourly(flat, "USDT"), _hourly(btc, "BTC"), now=NOW)
    assert r.insufficient == Caveat(code="did_not_move", coin="USDT", days=30)


def test_move_window_longer_than_the_data_keeps_beta_but_no_move() -> None:
    btc, sol = _paths(beta=1.5, noise=0.002)
    r = beta_to_btc(
        "SOL",
        _hourly(sol, "SOL"),
        _hourly(btc, "BTC"),
        now=NOW,
        move_window=timedelta(days=60),
        config=BetaConfig(window_days=30),
    )
    assert r.beta is not None
    assert r.coin_move_pct is None
    assert r.expected_move_pct is None
    assert r.notes == (Caveat(code="no_move_window", window="60d"),)
