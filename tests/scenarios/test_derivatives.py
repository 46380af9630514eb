"""/derivatives on the bundled market states: one coin's figures agree with /why's findings,
the table is sorted by how unusual funding is, and both fit Discord's limits."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from bot.app import App
from bot.client import TapewatchBot
from bot.offline import OfflineSession, message_payload
from bot.render.derivatives import derivatives_embed
from tests.helpers import open_scenario


@pytest.fixture(scope="module")
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


@pytest.fixture(scope="module")
def squeeze() -> Iterator[App]:
    yield from open_scenario("squeeze")


async def test_one_coin_agrees_with_why(selloff: App) -> None:
    btc = selloff.registry.get("BTC")
    view = await selloff.services.derivatives.derivatives(btc)
    [d] = view.coins
    why = (await selloff.services.why.why(btc, "24h")).inputs
    assert why.oi is not None
    assert d.oi[0].change_pct == pytest.approx(why.oi.change_pct)
    assert [o.window for o in d.oi] == ["24h", "7d", "30d"]
    assert why.funding is not None
    assert d.funding.mean_8h == pytest.approx(why.funding.mean_8h)
    assert {b.venue for b in d.basis} == {"binance", "bybit", "okx"}
    assert all(abs(b.pct) < 1 for b in d.basis)
    assert d.top_traders.position_long_share is not None
    assert d.long_short.long_share is not None


async def test_selloff_funding_was_reset_to_the_bottom_of_its_month(selloff: App) -> None:
    # /why names "funding_reset" as a stabiliser: funding fell from +0.045% to about 0 per 8h
    view = await selloff.services.derivatives.derivatives(selloff.registry.get("BTC"))
    [d] = view.coins
    assert d.mean_percentile is not None
    assert d.mean_percentile < 10
    assert all(p.hours >= 24 for p in d.percentiles)


@pytest.mark.parametrize("name", ["selloff", "squeeze"])
async def test_table_is_sorted_by_the_most_extreme(name: str) -> None:
    for app in open_scenario(name):
        view = await app.services.derivatives.derivatives(None)
        assert not view.single
        assert len(view.coins) == len(app.market.tracked)
        scores = [d.extremity for d in view.coins]
        assert scores == sorted(scores, reverse=True)
        text = derivatives_embed(view).description or ""
        assert all(f"\n{d.coin} " in text for d in view.coins)


@pytest.fixture
async def session(selloff: App) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=selloff.services)) as s:
        yield s


@pytest.mark.parametrize("invocation", ["/derivatives", "/derivatives coin:SOL", "/derivatives coin:eth"])
async def test_derivatives_through_discord_py_fits_discords_limits(
    session: OfflineSession, invocation: str
) -> None:
    requests = await session.invoke(invocation)
    assert session.fake.refused == []
    replies = [r for r in requests if "/callback" in r.path or r.path.startswith("/webhooks/")]
    [embed] = message_payload(replies[-1])["embeds"]
    assert "derivatives" in embed["title"].lower()


async def test_an_untracked_coin_is_one_ephemeral_line(session: OfflineSession) -> None:
    requests = await session.invoke("/derivatives coin:INJ")
    [reply] = [r for r in requests if "/callback" in r.path]
    payload = message_payload(reply)
    assert payload["flags"] == 64
    assert "not tracked" in payload["embeds"][0]["description"]
