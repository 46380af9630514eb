"""The fake Discord on a loopback server: :class:`FakeDiscord`'s REST behind aiohttp, with a
minimal gateway (HELLO, IDENTIFY → READY, heartbeats, presence updates, shards) so a real
``tapewatch run`` logs in and receives interactions as Discord would send them; and
:func:`pointed_at`, which points discord.py at it for the duration.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp import WSMsgType, web
from discord.gateway import DiscordWebSocket
from discord.http import Route

from bot.discord_limits import message_problems as message_problems
from bot.fake_discord import APP_ID, BOT_USER_ID, FakeDiscord, user_payload


async def serve_loopback(handler: Any) -> tuple[web.AppRunner, int]:
    """An aiohttp server on 127.0.0.1 (a free port) routing every path to ``handler``; the
    caller cleans the runner up. Shared by this fake and the tests' fake exchanges."""
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port: int = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, port


PRESENCE_STATUSES = frozenset({"online", "dnd", "idle", "invisible", "offline"})
ACTIVITY_TYPES = frozenset({0, 1, 2, 3, 4, 5})
ACTIVITY_TEXT_MAX = 128


def presence_problems(d: Any) -> list[str]:
    """Why Discord would refuse a presence update (op 3), as the gateway's 4002 decode error."""
    if not isinstance(d, dict):
        return ["d: not an object"]
    problems = [f"d.{k}: missing" for k in ("since", "activities", "status", "afk") if k not in d]
    if d.get("status") not in PRESENCE_STATUSES:
        problems.append(f"d.status: {d.get('status')!r} is not a status")
    if not isinstance(d.get("afk"), bool):
        problems.append("d.afk: not a boolean")
    activities = d.get("activities")
    if not isinstance(activities, list):
        return [*problems, "d.activities: not a list"]
    for i, a in enumerate(activities):
        if not isinstance(a, dict) or a.get("type") not in ACTIVITY_TYPES:
            problems.append(f"d.activities.{i}.type: not an activity type")
            continue
        for key in ("name", "state"):
            text = a.get(key)
            if key == "name" and (not isinstance(text, str) or not text):
                problems.append(f"d.activities.{i}.name: required")
            elif isinstance(text, str) and len(text) > ACTIVITY_TEXT_MAX:
                problems.append(f"d.activities.{i}.{key}: longer than {ACTIVITY_TEXT_MAX}")
    return problems


class FakeDiscordServer:
    """:class:`FakeDiscord` behind a loopback aiohttp server, with a minimal gateway at
    ``/gateway`` (HELLO, IDENTIFY → READY, heartbeats, presence updates) so a real
    ``tapewatch run`` can log in and receive interactions as Discord would send them
    (:meth:`dispatch`). Presence updates (op 3) are recorded in :attr:`presences`; one Discord
    would refuse closes the connection with 4002, as Discord does."""

    def __init__(self, fake: FakeDiscord | None = None) -> None:
        self.fake = fake or FakeDiscord()
        self._runner: web.AppRunner | None = None
        self.base = ""
        self.sockets: set[web.WebSocketResponse] = set()
        self.identified = asyncio.Event()
        self._seq = 0
        # a sharded client's sockets: (shard id, shard count) from its IDENTIFY; guild events go
        # only to the shard that holds the guild, as Discord routes them
        self.shard_of: dict[web.WebSocketResponse, tuple[int, int]] = {}
        self.delivered: list[tuple[str, int | None]] = []  # (event, shard id) per frame sent
        self.presences: list[dict[str, Any]] = []  # each op 3's "d", in the order received
        self.presence_refusals: list[list[str]] = []
        self._presence_seen = asyncio.Event()

    async def start(self) -> str:
        self._runner, port = await serve_loopback(self._handle)
        self.base = f"http://127.0.0.1:{port}/api/v10"
        return self.base

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    @property
    def root(self) -> str:
        return self.base.removesuffix("/api/v10")

    @property
    def gateway(self) -> str:
        return gateway_url(self.root)

    async def dispatch(self, event: str, data: dict[str, Any]) -> None:
        """Send a gateway event (e.g. ``INTERACTION_CREATE``) to every connected client; one
        about a guild only to the shard holding it (``(guild_id >> 22) % shard_count``)."""
        self._seq += 1
        frame = json.dumps({"op": 0, "t": event, "s": self._seq, "d": data})
        guild = data.get("guild_id")
        for ws in list(self.sockets):
            shard = self.shard_of.get(ws)
            if shard is not None and guild is not None and (int(guild) >> 22) % shard[1] != shard[0]:
                continue
            await ws.send_str(frame)
            self.delivered.append((event, shard[0] if shard else None))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_str(json.dumps({"op": 10, "s": None, "t": None, "d": {"heartbeat_interval": 41250}}))
        self.sockets.add(ws)
        try:
            async for message in ws:
                frame = json.loads(message.data) if message.type == WSMsgType.TEXT else {}
                if frame.get("op") == 1:  # heartbeat
                    await ws.send_str(json.dumps({"op": 11, "s": None, "t": None, "d": None}))
                elif frame.get("op") == 2:  # identify (READY to this connection only)
                    shard = (frame.get("d") or {}).get("shard")
                    if shard:
                        self.shard_of[ws] = (int(shard[0]), int(shard[1]))
                    self._seq += 1
                    ready = {**self._ready(), **({"shard": shard} if shard else {})}
                    await ws.send_str(json.dumps({"op": 0, "t": "READY", "s": self._seq, "d": ready}))
                    self.identified.set()
                elif frame.get("op") == 3:  # presence update
                    problems = presence_problems(frame.get("d"))
                    if problems:
                        self.presence_refusals.append(problems)
                        await ws.close(code=4002, message=b"Error while decoding payload.")
                    else:
                        self.presences.append(frame["d"])
                    self._presence_seen.set()
        finally:
            self.sockets.discard(ws)
            self.shard_of.pop(ws, None)
        return ws

    async def wait_for_presences(self, count: int) -> list[dict[str, Any]]:
        """Wait until ``count`` presence updates arrived (or were refused); the updates."""
        while len(self.presences) + len(self.presence_refusals) < count:
            self._presence_seen.clear()
            await self._presence_seen.wait()
        return self.presences

    def _ready(self) -> dict[str, Any]:
        return {
            "v": 10,
            "user": user_payload(BOT_USER_ID, "Tapewatch", bot=True),
            "guilds": [],
            "session_id": "fake-session",
            "resume_gateway_url": self.gateway,
            "application": {"id": str(APP_ID), "flags": 0},
        }

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.endswith("/gateway") and request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._gateway(request)
        body: Any = None
        files: dict[str, bytes] = {}
        if request.content_type.startswith("multipart/"):
            reader = await request.multipart()
            async for part in reader:
                if part.filename:  # type: ignore[union-attr]
                    files[part.filename] = await part.read()  # type: ignore[union-attr]
                elif part.name == "payload_json":  # type: ignore[union-attr]
                    body = json.loads(await part.text())  # type: ignore[union-attr]
        elif request.can_read_body:
            raw = await request.read()
            body = json.loads(raw) if raw else None
        status, data = self.fake.respond(request.method, request.path, dict(request.query), body, files)
        if data is None:  # 204 No Content
            return web.Response(status=status)
        # Exactly "application/json": with a charset suffix discord.py treats the body as text.
        headers = {"Content-Type": "application/json"}
        if status == 429:  # discord.py takes a 429 without Via for Cloudflare's ban, not a limit
            headers |= {"Via": "1.1 google", "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
        return web.Response(status=status, body=json.dumps(data).encode(), headers=headers)


def gateway_url(root: str) -> str:
    """The stand-in's gateway: ``/gateway`` on the same server, over ws(s)."""
    return root.replace("https://", "wss://", 1).replace("http://", "ws://", 1) + "/gateway"


@contextmanager
def pointed_at(base: str, gateway: str | None = None) -> Iterator[None]:
    """Point discord.py's REST (and interaction webhook) calls at ``base`` for a while, and its
    gateway at ``gateway`` when given."""
    saved, saved_gateway = Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY
    Route.BASE = base
    if gateway:
        # the URL type discord.py uses (yarl's, through aiohttp)
        DiscordWebSocket.DEFAULT_GATEWAY = type(saved_gateway)(gateway)
    try:
        yield
    finally:
        Route.BASE, DiscordWebSocket.DEFAULT_GATEWAY = saved, saved_gateway
