"""Issue 11's cases on a fresh install (liquidation streams running for less than an hour, no
liquidation history before) and once 30 days of it exist: the headline, the basis the answer
names, and the cascade alert firing once. The clock is moved, never waited on."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest

from bot.app import App
from bot.models import Liquidation, OpenInterest, Ticker
from bot.render.basis import BASIS_MARKERS
from bot.render.liquidations import liquidations_embed
from bot.render.why import headline, why_embed
from tests.conftest import NOW

MINUTE = timedelta(minutes=1)


@dataclass(frozen=True)
class Case:
    """One day on BTC: the 24h move, open interest now and its 24h change, and the liquidations
    of the last hour (each side)."""

    move_pct: float
    oi_now: float
    oi_change_pct: float
    longs: float
    shorts: float


# $1.98B of BTC longs liquidated (87% of the total, 4.6% of open interest), open interest −12%
CRASH = Case(move_pct=-7.5, oi_now=1.98e9 / 0.046, oi_change_pct=-12.0, longs=1.98e9, shorts=1.98e9 * 13 / 87)
# BTC +6.9% with $310M of shorts liquidated (93%) and open interest +5.2%
SQUEEZE = Case(move_pct=6.9, oi_now=40e9, oi_change_pct=5.2, longs=310e6 * 7 / 93, shorts=310e6)
# the sell-off the issue was tried on, before its cascade: a quiet hour, open interest −4.4%
SELLOFF = Case(move_pct=-1.9, oi_now=43e9, oi_change_pct=-4.4, longs=1e6, shorts=1e6)


def events(
    coin: str, usd: float, side: str, start: timedelta, n: int, tag: str, step: timedelta = MINUTE
) -> list[Liquidation]:
    """``usd`` in ``n`` equal events, one every ``step`` from ``NOW + start``."""
    return [
        Liquidation(
            venue="binance",
            coin=coin,
            side=side,  # type: ignore[arg-type]
            price=60_000.0,
            qty=usd / n / 60_000.0,
            usd=usd / n,
            ts=NOW + start + k * step,
            event_id=f"{tag}-{side}-{k}",
        )
        for k in range(n)
    ]


def seed(app: App, case: Case, *, history_days: int) -> None:
    """BTC's ticker and open interest (venues backfill it, so a fresh store has it), a stream
    session and, with ``history_days``, a quiet trickle of liquidations ($3M an hour) before
    the last hour."""
    store = app.store.sync
    store.upsert_tickers(
        [
            Ticker(
                coin="BTC",
                venue="binance",
                market="spot",
                price=67_710.0,
                change_24h_pct=case.move_pct,
                ts=NOW,
            )
        ],
        NOW,
    )
    then = case.oi_now / (1 + case.oi_change_pct / 100)
    store.upsert_open_interest(
        [
            OpenInterest(coin="BTC", venue="binance", ts=NOW - timedelta(hours=24), oi_usd=then),
            OpenInterest(coin="BTC", venue="binance", ts=NOW, oi_usd=case.oi_now),
        ]
    )
    if history_days:
        store.open_stream_session("binance", NOW - timedelta(days=history_days, hours=1))
        trickle = [
            e
            for h in range(2, history_days * 24)
            for e in events("BTC", 1.5e6, "long" if h % 2 else "short", -timedelta(hours=h), 2, f"h{h}")
        ]
        store.insert_liquidations(trickle)
    else:
        store.open_stream_session("binance", NOW - timedelta(minutes=50))
    store.insert_liquidations(
        [
            *events("BTC", case.longs, "long", -timedelta(minutes=45), 40, "now"),
            *events("BTC", case.shorts, "short", -timedelta(minutes=45), 40, "now"),
        ]
    )


async def why_btc(app: App) -> tuple[str, str, str]:
    """The /why headline, its leverage text and the basis the liquidation finding used."""
    a = await app.services.why.why(app.registry.get("BTC"), "24h")
    liq = a.inputs.liquidations
    assert liq is not None
    embed = why_embed(a)
    text = "\n".join(f.value or "" for f in embed.fields)
    return headline(a), text, liq.basis or ""


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (CRASH, "BTC −7.5% in 24h: a long liquidation cascade"),
        (SQUEEZE, "BTC +6.9% in 24h: a short squeeze, with new longs piling in"),
    ],
)
async def test_fresh_install_headlines_the_forced_exits_on_open_interest(
    app: App, case: Case, expected: str
) -> None:
    seed(app, case, history_days=0)
    title, text, basis = await why_btc(app)
    assert title.startswith(expected)
    assert basis == "open_interest"
    assert "no 7-day baseline yet: " in text
    assert "of open interest liquidated in 24h" in text
    assert "-day average" not in text  # no own baseline is claimed


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        (CRASH, "BTC −7.5% in 24h: a long liquidation cascade"),
        (SQUEEZE, "BTC +6.9% in 24h: a short squeeze, with new longs piling in"),
    ],
)
async def test_thirty_days_of_history_hand_over_to_the_coins_own_baseline(
    app: App, case: Case, expected: str
) -> None:
    seed(app, case, history_days=30)
    title, text, basis = await why_btc(app)
    assert title.startswith(expected)
    assert basis == "own_30d"
    assert "-day average for 24h" in text
    assert BASIS_MARKERS["open_interest"] not in text


async def test_crash_share_of_open_interest_is_stated(app: App) -> None:
    seed(app, CRASH, history_days=0)
    a = await app.services.why.why(app.registry.get("BTC"), "24h")
    liq = a.inputs.liquidations
    assert liq is not None
    assert liq.long_share == pytest.approx(0.87)
    assert liq.oi_share_pct == pytest.approx((CRASH.longs + CRASH.shorts) / CRASH.oi_now * 100)
    assert a.inputs.regime is not None
    assert a.inputs.regime.liq_basis == "open_interest"
    view = await app.services.liquidations.liquidations(app.registry.get("BTC"))
    rendered = "\n".join(f.value or "" for f in liquidations_embed(view).fields)
    assert "of open interest liquidated in 1h" in rendered
    assert "covered for the last 50 min of the 24h window" in rendered
