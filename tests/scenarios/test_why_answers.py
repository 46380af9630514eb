"""/why on the bundled market states: the right driver named first, with the right figures;
every number in the text traceable to a finding; the exact embed Discord would receive."""

from __future__ import annotations

import contextlib
import json
import os
import re
from collections.abc import AsyncIterator, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from bot.analysis.why import WhyAnswer
from bot.app import App
from bot.client import TapewatchBot
from bot.offline import OfflineSession, message_payload
from bot.render.why import headline, why_embed
from tests.helpers import open_scenario

SNAPSHOTS = Path(__file__).parents[1] / "snapshots"


@pytest.fixture(scope="module")
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


@pytest.fixture(scope="module")
def squeeze() -> Iterator[App]:
    yield from open_scenario("squeeze")


@pytest.fixture(scope="module")
def riskoff() -> Iterator[App]:
    yield from open_scenario("riskoff")


@pytest.fixture(scope="module")
def coin_crash() -> Iterator[App]:
    yield from open_scenario("coin_crash")


@pytest.fixture(scope="module")
def quiet() -> Iterator[App]:
    yield from open_scenario("quiet")


async def why(app: App, coin: str | None = None, window: str = "24h") -> WhyAnswer:
    return await app.services.why.why(app.registry.get(coin) if coin else None, window)


async def test_selloff_is_a_long_liquidation_cascade_in_a_broad_decline(selloff: App) -> None:
    a = await why(selloff)
    assert a.direction == "down"
    assert [d.kind for d in a.drivers][:2] == ["leverage", "breadth"]
    i = a.inputs
    assert i.regime is not None
    assert i.regime.label == "long liquidation cascade"
    assert i.breadth is not None
    assert i.breadth.n_down == i.breadth.n == 20
    assert i.liquidations is not None
    assert i.liquidations.long_share is not None
    assert i.liquidations.long_share > 0.8
    assert (i.liquidations.baseline_multiple or 0) > 5
    assert i.oi is not None
    assert (i.oi.change_pct or 0) < -8
    assert (
        headline(a) == "Market: BTC −6.1% in 24h: a long liquidation cascade in a broad, market-wide decline"
    )
    kinds = [s.kind for s in a.stabilisers]
    assert "hold_support" in kinds
    assert "funding_reset" in kinds  # funding went from +0.045% to ~0 per 8h
    assert "reclaim_level" in kinds  # it fell through the well-touched support


async def test_squeeze_mirrors_the_selloff(squeeze: App) -> None:
    a = await why(squeeze)
    assert a.direction == "up"
    assert a.inputs.regime is not None
    assert a.inputs.regime.label == "short squeeze"
    assert {d.kind for d in a.drivers} >= {"leverage", "breadth"}
    assert "short squeeze" in headline(a)
    assert "rally" in headline(a)
    assert all(s.kind not in ("hold_support", "funding_reset") for s in a.stabilisers)


async def test_riskoff_names_macro_only_because_the_gauges_agree(riskoff: App) -> None:
    a = await why(riskoff)
    assert a.inputs.macro is not None
    assert a.inputs.macro.verdict == "risk_off"
    assert "macro" in [d.kind for d in a.drivers]
    assert set(a.inputs.macro.confirming) >= {"dxy", "vix"}
    assert "macro risk-off" in headline(a)


async def test_coin_crash_is_coin_specific_while_btc_is_flat(coin_crash: App) -> None:
    a = await why(coin_crash, "SOL")
    assert a.drivers[0].kind == "coin_specific"
    beta = a.inputs.beta
    assert beta is not None
    assert beta.beta is not None
    assert 1.0 < beta.beta < 1.8
    assert (beta.residual_pct or 0) < -12
    assert beta.btc_move_pct is not None
    assert abs(beta.btc_move_pct) < 1
    assert headline(a).startswith("SOL −15.0% in 24h: a SOL-specific drop")
    market = await why(coin_crash)
    assert "coin_specific" not in [d.kind for d in market.drivers]


async def test_quiet_day_says_it_is_quiet(quiet: App) -> None:
    a = await why(quiet)
    assert a.quiet
    assert a.drivers == ()
    assert headline(a) == "Market: BTC +0.3% in 24h: a quiet market, no driver stands out"


@pytest.mark.parametrize("window", ["1h", "4h", "24h", "7d"])
async def test_every_window_answers_with_levels_on_the_right_side(selloff: App, window: str) -> None:
    for coin in (None, "BTC", "SOL"):
        a = await why(selloff, coin, window)
        lv = a.inputs.levels
        assert lv is not None
        assert all(z.high < lv.price for z in lv.supports)
        assert all(z.low > lv.price for z in lv.resistances)
        assert a.inputs.move_pct is not None, (coin, window)


# -- every number in the text comes from a finding ------------------------------------------

NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def numbers_in(value: Any, out: set[str]) -> None:
    """Every way the renderer may format a numeric leaf of the findings."""
    from bot.fmt import money, pct, price, price_at, price_short

    if isinstance(value, dict):
        for v in value.values():
            numbers_in(v, out)
    elif isinstance(value, list | tuple):
        for v in value:
            numbers_in(v, out)
    elif isinstance(value, bool):
        return
    elif isinstance(value, int | float):
        x = float(value)
        texts = [
            pct(x),
            pct(x * 100, digits=3),
            money(x),
            price(x),
            price_short(x),
            f"{x:.2f}",
            f"{x:.1f}",
            f"{x:.0f}",
            f"{x:.0%}",
            str(value),
        ]
        if abs(x) < 1e15:
            texts += [price_at(x, d) for d in range(-3, 13)]  # levels at a shared precision
            texts += [money(x / h) for h in (1, 4, 24, 168)]  # per-hour rates
        for t in texts:
            out.update(NUMBER.findall(t))
    elif isinstance(value, str):
        out.update(NUMBER.findall(value))
        with contextlib.suppress(ValueError):  # a time, shown as Discord's <t:unix:…> markup
            out.add(str(int(datetime.fromisoformat(value).timestamp())))


def embed_text(embed: dict[str, Any]) -> str:
    parts = [embed.get("title", ""), embed.get("description") or ""]
    parts += [f["name"] + "\n" + f["value"] for f in embed.get("fields", [])]
    parts.append(embed.get("footer", {}).get("text", ""))
    return "\n".join(parts)


@pytest.mark.parametrize("coin", [None, "SOL"])
async def test_every_number_in_the_answer_is_in_its_findings(selloff: App, coin: str | None) -> None:
    a = await why(selloff, coin)
    allowed: set[str] = set()
    numbers_in(a.inputs.model_dump(mode="json"), allowed)
    allowed.update({"24", "7", "30", "1", "2", "3", "8", "10", "6"})  # windows and "/8h", ranks, pp labels
    text = embed_text(why_embed(a).to_dict())
    stray = sorted({n for n in NUMBER.findall(text) if n not in allowed})
    assert stray == [], f"numbers not found in any finding: {stray}\n{text}"


# -- the exact JSON Discord receives --------------------------------------------------------


@pytest.fixture
async def selloff_session(selloff: App) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=selloff.services)) as s:
        yield s


@pytest.mark.parametrize(
    ("invocation", "snapshot"), [("/why", "why_market.json"), ("/why coin:SOL window:4h", "why_sol_4h.json")]
)
async def test_why_embed_json_through_discord_py(
    selloff_session: OfflineSession, invocation: str, snapshot: str
) -> None:
    requests = await selloff_session.invoke(invocation)
    [reply] = [r for r in requests if "/callback" in r.path]
    payload = message_payload(reply)
    assert payload["allowed_mentions"] == {"parse": []}
    path = SNAPSHOTS / snapshot
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        path.write_text(json.dumps(payload, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
    assert payload == json.loads(path.read_text()), "run with UPDATE_SNAPSHOTS=1 if the change is intended"
    assert payload["embeds"][0]["footer"]["text"].startswith("🧪 sample data (selloff), not the live market")
