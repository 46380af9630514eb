"""Alerts test helpers: a session whose interactions can be shaped (the member's permissions,
the guild, the bot's permissions in a resolved channel, roles), a synthetic market to move
step by step, and the bundled selloff scenario shared by the modules that only read it."""

from __future__ import annotations

import asyncio
import tempfile
from collections.abc import AsyncIterator, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.app import App, scenario_app
from bot.client import TapewatchBot
from bot.fake_discord import GUILD_ID, DiscordRequest, message_payload
from bot.models import Candle, Liquidation, Ticker
from bot.offline import Invocation, OfflineSession
from bot.scenarios import bundled
from bot.settings import load_settings
from tests.conftest import NOW
from tests.helpers import every_venue_at

OTHER_GUILD_ID = GUILD_ID + 1
# Channels of the test server (GUILD_ID) that tests subscribe.
CH_A = 1_300_000_000_000_000_201
CH_B = 1_300_000_000_000_000_202
CH_FORBIDDEN = 1_300_000_000_000_000_203
CH_GONE = 1_300_000_000_000_000_204
ROLE_ID = 1_300_000_000_000_000_500

ADMIN = discord.Permissions.all()
MEMBER = discord.Permissions(
    view_channel=True, send_messages=True, read_message_history=True, use_application_commands=True
)


class ShapedSession(OfflineSession):
    """:class:`OfflineSession` with interactions shaped per test: ``member`` is the invoking
    member's permissions in the interaction channel, ``in_channel`` their permissions in a
    resolved channel, ``bot_in`` the bot's (``app_permissions``) there, ``guild_id`` the server
    the command is used in, ``channel_guild`` the server a resolved channel belongs to."""

    def __init__(self, bot: TapewatchBot) -> None:
        super().__init__(bot)
        self.guild_id = GUILD_ID
        self.member = ADMIN
        self.in_channel: dict[int, discord.Permissions] = {}
        self.bot_in: dict[int, discord.Permissions] = {}
        self.channel_guild: dict[int, int] = {}
        self.roles: dict[int, dict[str, Any]] = {}

    def as_member(self, perms: discord.Permissions, guild_id: int = GUILD_ID) -> None:
        self.member, self.guild_id = perms, guild_id

    def _interaction(self, kind: int, invocation: Invocation, **where: Any) -> dict[str, Any]:
        p = super()._interaction(kind, invocation, **where)
        p["guild_id"] = str(self.guild_id)
        p["channel"]["guild_id"] = str(self.guild_id)
        p["authorizing_integration_owners"] = {"0": str(self.guild_id)}
        p["member"]["permissions"] = str(self.member.value)
        resolved = p["data"].setdefault("resolved", {})
        for cid, ch in resolved.get("channels", {}).items():
            c = int(cid)
            ch["guild_id"] = str(self.channel_guild.get(c, GUILD_ID))
            ch["permissions"] = str(self.in_channel.get(c, self.member).value)
            ch["app_permissions"] = str(self.bot_in.get(c, discord.Permissions.all()).value)
        options = p["data"]["options"]
        while options and options[0].get("type") in (1, 2):
            options = options[0]["options"]
        for o in options:
            if o["type"] == discord.AppCommandOptionType.role.value:
                rid = int(o["value"])
                resolved.setdefault("roles", {})[str(rid)] = self.roles.get(rid) or role_payload(rid)
        if not resolved:
            del p["data"]["resolved"]
        return p

    async def click(self, message: dict[str, Any], custom_id: str) -> list[DiscordRequest]:
        """Press a button of a posted message (a component interaction, as Discord sends it)."""
        payload = self._interaction(2, Invocation(name="alerts", path=["alerts"]))
        payload["type"] = 3
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        payload["message"] = message
        start = len(self.fake.requests)
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        await drain_ui_tasks()
        return self.fake.requests[start:]


def role_payload(role_id: int, *, mentionable: bool = True) -> dict[str, Any]:
    return {
        "id": str(role_id),
        "name": "traders",
        "colors": {"primary_color": 0},
        "hoist": False,
        "position": 1,
        "permissions": "0",
        "managed": False,
        "mentionable": mentionable,
        "flags": 0,
    }


async def drain_ui_tasks() -> None:
    for _ in range(100):
        pending = [
            t
            for t in asyncio.all_tasks()
            if t is not asyncio.current_task() and t.get_name().startswith("discord-ui-") and not t.done()
        ]
        if not pending:
            return
        await asyncio.gather(*pending, return_exceptions=True)


def replies(requests: list[DiscordRequest]) -> list[dict[str, Any]]:
    """The message payloads of interaction replies and follow-ups among ``requests``."""
    return [
        message_payload(r)
        for r in requests
        if r.method in ("POST", "PATCH")
        and ("/callback" in r.path or r.path.startswith("/webhooks/"))
        and (message_payload(r).get("embeds") or message_payload(r).get("content"))
    ]


def reply_text(requests: list[DiscordRequest]) -> str:
    out = []
    for p in replies(requests):
        for e in p.get("embeds") or []:
            out += [e.get("title") or "", e.get("description") or ""]
            out += [f["value"] for f in e.get("fields", [])]
    return "\n".join(t for t in out if t)


def channel_posts(requests: list[DiscordRequest], channel_id: int | None = None) -> list[DiscordRequest]:
    return [
        r
        for r in requests
        if r.method == "POST"
        and r.path.startswith("/channels/")
        and (channel_id is None or r.path == f"/channels/{channel_id}/messages")
    ]


@pytest.fixture
async def shaped(app: App, command_errors: list[BaseException]) -> AsyncIterator[ShapedSession]:
    async with ShapedSession(TapewatchBot(services=app.services)) as s:
        yield s
    assert command_errors == []


# -- a synthetic market --------------------------------------------------------------------------


def seed_flat_market(app: App, coins: tuple[str, ...] = ("BTC", "ETH"), level: float = 100.0) -> None:
    """Flat hourly bars from 40 days before NOW to 3 days after (bars after the clock are not
    read yet), a fresh ticker at ``level``, and a liquidation stream covering the last 10 days."""
    store = app.store.sync
    start = NOW - timedelta(days=40)
    for coin in coins:
        bars = []
        t = start
        while t < NOW + timedelta(days=3):
            bars.append(
                Candle(
                    coin=coin,
                    venue="binance",
                    market="spot",
                    interval="1h",
                    open_time=t,
                    open=level,
                    high=level * 1.001,
                    low=level * 0.999,
                    close=level,
                    volume=1000.0,
                    quote_volume=level * 1000,
                )
            )
            t += timedelta(hours=1)
        store.upsert_candles(bars)
        set_price(app, coin, level, NOW)
    store.open_stream_session("binance", NOW - timedelta(days=10))


def set_price(app: App, coin: str, price: float, at: datetime) -> None:
    ticker = Ticker(coin=coin, venue="binance", market="spot", price=price, ts=at)
    app.store.sync.upsert_tickers([ticker], at)


def liquidation(coin: str, usd: float, at: datetime, n: int, side: str = "long") -> Liquidation:
    return Liquidation(
        venue="binance",
        coin=coin,
        side=side,  # type: ignore[arg-type]
        price=100.0,
        qty=usd / 100.0,
        usd=usd,
        ts=at,
        event_id=f"{coin}-{n}-{at.timestamp()}",
    )


def seed_liquidation_baseline(app: App, coin: str = "ETH", usd_per_hour: float = 10_000.0) -> None:
    """A steady trickle: one liquidation an hour for the past 8 days."""
    events = [
        liquidation(coin, usd_per_hour, NOW - timedelta(hours=h, minutes=30), h) for h in range(1, 8 * 24)
    ]
    app.store.sync.insert_liquidations(events)


# -- the selloff scenario --------------------------------------------------------------------------


@pytest.fixture(scope="package")
def selloff() -> Iterator[App]:
    settings = load_settings(providers=every_venue_at("http://127.0.0.1:9"))
    with tempfile.TemporaryDirectory() as workdir:
        app = scenario_app(settings, Path(bundled()["selloff"]), Path(workdir))
        try:
            yield app
        finally:
            app.close()


def clear_alerts(app: App) -> None:
    store = app.store.sync
    with store.lock, store.conn:
        for table in ("alert_subscriptions", "alert_state", "alert_briefs"):
            store.conn.execute(f"DELETE FROM {table}")
