"""Each server's daily brief shows its own /settings shortlist on the majors line."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.clock import FrozenClock
from bot.fake_discord import GUILD_ID
from tests.alerts.conftest import CH_A, CH_B, OTHER_GUILD_ID, ShapedSession, channel_posts, seed_flat_market


async def test_each_servers_brief_has_its_own_majors(
    app: App, clock: FrozenClock, shaped: ShapedSession
) -> None:
    seed_flat_market(app, coins=("BTC", "ETH", "SOL", "XRP"))
    service, guilds = app.services.alerts, app.market.guilds
    await guilds.set_shortlist(GUILD_ID, ("XRP", "SOL"), None)
    first = await service.set_brief(GUILD_ID, CH_A, "08:00", "UTC", None)
    await service.set_brief(OTHER_GUILD_ID, CH_B, "08:00", "UTC", None)
    clock.now = first.next_due + timedelta(seconds=5)
    assert len(await service.run_briefs()) == 2

    def breadth(channel: int) -> str:
        [post] = channel_posts(shaped.fake.requests, channel)
        fields = post.json["embeds"][0]["fields"]
        return str(next(f["value"] for f in fields if f["name"] in ("Market", "Breadth")))

    assert breadth(CH_A).startswith("XRP 0.0%, SOL 0.0%;"), breadth(CH_A)
    assert breadth(CH_B).startswith("BTC 0.0%, ETH 0.0%, SOL 0.0%, XRP 0.0%;"), breadth(CH_B)
