"""/price with several coins: one compact table; bad input is one private line."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest

from bot.app import App
from bot.client import TapewatchBot
from bot.fmt import price
from bot.offline import OfflineSession, message_payload
from tests.helpers import open_scenario


@pytest.fixture(scope="module")
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


@pytest.fixture
async def session(selloff: App) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=selloff.services)) as s:
        yield s


async def reply(session: OfflineSession, text: str) -> dict[str, Any]:
    requests = await session.invoke(text)
    assert session.fake.refused == []
    replies = [r for r in requests if "/callback" in r.path or r.path.startswith("/webhooks/")]
    return message_payload(replies[-1])


async def test_five_coins_in_one_table(session: OfflineSession, selloff: App) -> None:
    payload = await reply(session, '/price coin:"btc, eth sol $pepe doge"')
    [embed] = payload["embeds"]
    assert embed["title"] == "BTC · ETH · SOL · PEPE · DOGE"
    lines = embed["description"].strip("`\n").splitlines()
    assert [line.split()[0] for line in lines[1:]] == ["BTC", "ETH", "SOL", "PEPE", "DOGE"]
    for coin, line in zip(["BTC", "ETH", "SOL", "PEPE", "DOGE"], lines[1:], strict=True):
        view = await selloff.market.price(selloff.registry.get(coin))
        assert price(view.primary.price) in line
    assert not payload.get("flags")


async def test_one_coin_keeps_the_single_coin_answer(session: OfflineSession) -> None:
    [embed] = (await reply(session, '/price coin:"btc BTC $btc"'))["embeds"]
    assert embed["title"].startswith("BTC $")
    assert any(f["name"] == "24h high / low" for f in embed["fields"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('/price coin:"btc eth sol xrp doge ada"', "Up to 5 coins at once, please; you gave 6."),
        ('/price coin:"btc nosuchcoin inj"', "Not a tracked coin: nosuchcoin, inj."),
    ],
)
async def test_bad_input_is_one_private_line(session: OfflineSession, text: str, expected: str) -> None:
    payload = await reply(session, text)
    assert payload["flags"] == 64
    [embed] = payload["embeds"]
    assert embed["description"].startswith(expected)
    assert len(embed["description"].splitlines()) == 1
