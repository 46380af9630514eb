"""A rate-limited alert post is waited out, not dropped: discord.py gives up after five 429s
in a row, which a fan-out under Discord's global limit meets; the dispatcher tries again (a 429
posted nothing) until the post lands, once."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import discord

from bot import dispatch
from bot.alerts.messages import SamplePost
from bot.dispatch import Dispatcher
from bot.fake_discord import CHANNEL_ID, GUILD_ID, FakeDiscord
from bot.fake_gateway import FakeDiscordServer, pointed_at

LIMITED = 7  # more 429s in a row than discord.py waits out on its own


class LimitedAtFirst(FakeDiscord):
    """Answers the first ``LIMITED`` posts with Discord's global 429, then as usual."""

    def __init__(self) -> None:
        super().__init__()
        self.limited = 0

    def respond(
        self, method: str, path: str, query: dict[str, str], body: Any, files: dict[str, bytes] | None = None
    ) -> tuple[int, Any]:
        if method == "POST" and path.endswith("/messages") and self.limited < LIMITED:
            self.limited += 1
            return 429, {"message": "You are being rate limited.", "retry_after": 0.01, "global": True}
        return super().respond(method, path, query, body, files)


async def test_a_post_past_five_429s_in_a_row_lands_once(monkeypatch: Any) -> None:
    monkeypatch.setattr(dispatch, "RATE_LIMITED_PAUSE_S", 0.01)
    fake = LimitedAtFirst()
    server = FakeDiscordServer(fake)
    client = discord.Client(intents=discord.Intents.none())
    with pointed_at(await server.start()):
        try:
            await client.login("fake-token")
            post = SamplePost(GUILD_ID, CHANNEL_ID, datetime.now(UTC), None, None)
            [delivery] = await Dispatcher(client, timeout=30).deliver([post])
        finally:
            await client.close()
            await server.close()
    assert fake.limited == LIMITED
    assert delivery.status == "sent", delivery.reason
    assert fake.accepted_posts() == {CHANNEL_ID: 1}
