"""/movers on the bundled market states: the right coins lead each way, each move is the number
/why states for the coin, the leverage beside each mover is its own, and the embed fits Discord."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.app import App
from bot.client import TapewatchBot
from bot.offline import OfflineSession, message_payload
from bot.render.movers import movers_embed
from tests.helpers import open_scenario


@pytest.fixture(scope="module")
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


@pytest.fixture(scope="module")
def squeeze() -> Iterator[App]:
    yield from open_scenario("squeeze")


async def test_selloff_losers_lead_and_every_coin_fell(selloff: App) -> None:
    view = await selloff.services.movers.movers("24h", 5)
    assert view.gainers == ()
    moves = [m.move_pct for m in view.losers]
    assert len(moves) == 5
    assert moves == sorted(moves)
    assert all(m < 0 for m in moves)
    assert view.tracked.n_down == view.tracked.n == 20
    assert view.top100 is not None
    assert view.top100.n_down > view.top100.n_up
    tracked = set(selloff.market.tracked)
    assert all(m.symbol not in tracked for m in (*view.top100_losers, *view.top100_gainers))
    embed = movers_embed(view).to_dict()
    assert (embed.get("title") or "").startswith(f"Top movers · 24h: {view.losers[0].coin} leads with −")


async def test_squeeze_gainers_lead(squeeze: App) -> None:
    view = await squeeze.services.movers.movers("24h", 3)
    assert len(view.gainers) == 3
    assert view.gainers[0].move_pct >= view.gainers[-1].move_pct > 0
    assert view.tracked.n_up > view.tracked.n_down


@pytest.mark.parametrize("window", ["1h", "4h", "24h", "7d"])
async def test_a_movers_move_is_the_number_why_states(selloff: App, window: str) -> None:
    view = await selloff.services.movers.movers(window, 3)
    assert view.losers or view.gainers
    for m in (*view.losers, *view.gainers):
        answer = await selloff.services.why.why(selloff.registry.get(m.coin), window)
        assert answer.inputs.move_pct == pytest.approx(m.move_pct)
        assert m.liquidations.coin == m.coin
        assert m.oi.coin == m.coin
    assert (view.top100 is not None) == (window == "24h")


async def test_the_selloff_leaders_were_long_liquidations_with_oi_falling(selloff: App) -> None:
    view = await selloff.services.movers.movers("24h", 5)
    with_liq = [m for m in view.losers if m.liquidations.long_share is not None]
    assert with_liq
    assert all((m.liquidations.long_share or 0) > 0.5 for m in with_liq)
    assert all((m.oi.change_pct or 0) < 0 for m in view.losers if m.oi.change_pct is not None)


@pytest.fixture
async def session(selloff: App) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=selloff.services)) as s:
        yield s


@pytest.mark.parametrize("invocation", ["/movers", "/movers window:4h count:10", "/movers window:7d count:1"])
async def test_movers_through_discord_py_fits_discords_limits(
    session: OfflineSession, invocation: str
) -> None:
    requests = await session.invoke(invocation)
    assert session.fake.refused == []
    [reply] = [r for r in requests if "/callback" in r.path or r.path.startswith("/webhooks/")][-1:]
    payload = message_payload(reply)
    [embed] = payload["embeds"]
    assert embed["title"].startswith("Top movers")
    assert [f["name"][2:] for f in embed["fields"][:2]] == ["Down most", "Up most"]
