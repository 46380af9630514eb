"""A small stand-in for Discord's REST API on 127.0.0.1, answering the routes Tapewatch uses.

``tapewatch ask``/``console`` and the tests both run the real bot against it: discord.py does
its own serialisation and HTTP, so what is recorded here is the exact JSON Discord would get.
discord.py has no public switch for its API base; :func:`pointed_at` sets ``Route.BASE`` (also
used by the interaction webhooks) for the duration and restores it.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import WSMsgType, web
from discord.gateway import DiscordWebSocket
from discord.http import Route
from discord.utils import snowflake_time

APP_ID = 1_300_000_000_000_000_001
BOT_USER_ID = APP_ID
OWNER_ID = 1_300_000_000_000_000_002
GUILD_ID = 1_300_000_000_000_000_100
CHANNEL_ID = 1_300_000_000_000_000_200
USER_ID = 1_300_000_000_000_000_300

# What real Discord refuses, so a test fails where production would.
ACK_DEADLINE = timedelta(seconds=3)  # an interaction not acknowledged by then is gone (10062)
FOLLOWUP_LIFETIME = timedelta(minutes=15)  # an interaction token's follow-ups
LIMITS = {
    "content": 2000,
    "embeds": 10,
    "fields": 25,
    "title": 256,
    "description": 4096,
    "field_name": 256,
    "field_value": 1024,
    "footer": 2048,
    "author": 256,
    "embed_total": 6000,
    "choices": 25,
    "components": 5,
}


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _embed_problems(i: int, embed: dict[str, Any]) -> tuple[list[str], int]:
    problems: list[str] = []
    title = _text(embed.get("title"))
    description = _text(embed.get("description"))
    footer = _text((embed.get("footer") or {}).get("text"))
    author = _text((embed.get("author") or {}).get("name"))
    fields = embed.get("fields") or []
    total = len(title) + len(description) + len(footer) + len(author)
    for name, value, limit in (
        ("title", title, LIMITS["title"]),
        ("description", description, LIMITS["description"]),
        ("footer.text", footer, LIMITS["footer"]),
        ("author.name", author, LIMITS["author"]),
    ):
        if len(value) > limit:
            problems.append(f"embeds.{i}.{name}: must be {limit} or fewer in length")
    if len(fields) > LIMITS["fields"]:
        problems.append(f"embeds.{i}.fields: must be {LIMITS['fields']} or fewer in length")
    for j, f in enumerate(fields):
        name, value = _text(f.get("name")), _text(f.get("value"))
        total += len(name) + len(value)
        if not name.strip() or len(name) > LIMITS["field_name"]:
            problems.append(f"embeds.{i}.fields.{j}.name: must be 1-{LIMITS['field_name']} in length")
        if not value.strip() or len(value) > LIMITS["field_value"]:
            problems.append(f"embeds.{i}.fields.{j}.value: must be 1-{LIMITS['field_value']} in length")
    return problems, total


def message_problems(body: Any) -> list[str]:
    """Why Discord would refuse this message payload (400, code 50035), or nothing."""
    if not isinstance(body, dict):
        return []
    problems: list[str] = []
    if len(_text(body.get("content"))) > LIMITS["content"]:
        problems.append(f"content: must be {LIMITS['content']} or fewer in length")
    embeds = body.get("embeds") or []
    if len(embeds) > LIMITS["embeds"]:
        problems.append(f"embeds: must be {LIMITS['embeds']} or fewer in length")
    total = 0
    for i, embed in enumerate(embeds):
        found, size = _embed_problems(i, embed if isinstance(embed, dict) else {})
        problems += found
        total += size
    if total > LIMITS["embed_total"]:
        problems.append(f"embeds: {total} characters in all, more than {LIMITS['embed_total']}")
    if len(body.get("components") or []) > LIMITS["components"]:
        problems.append(f"components: must be {LIMITS['components']} or fewer in length")
    if len(body.get("choices") or []) > LIMITS["choices"]:
        problems.append(f"choices: must be {LIMITS['choices']} or fewer in length")
    return problems


def invalid_form(problems: list[str]) -> tuple[int, Any]:
    return 400, {"message": "Invalid Form Body", "code": 50035, "errors": problems}


@dataclass
class DiscordRequest:
    method: str
    path: str
    query: dict[str, str]
    json: Any
    files: dict[str, bytes] = field(default_factory=dict)


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {
        "id": str(user_id),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": None,
        "bot": bot,
        "flags": 0,
        "public_flags": 0,
    }


@dataclass
class Refusal:
    """A request the fake refused as Discord would, and why."""

    request: DiscordRequest
    status: int
    code: int
    reason: str


class FakeDiscord:
    """Records every request and answers it the way Discord would (for the routes we use),
    refusing what Discord refuses: a callback past the 3 s deadline (404, 10062) or a second one
    (400, 40060), a follow-up before the interaction was acknowledged or after its token expired
    (404, 10015), a message past Discord's limits (400, 50035)."""

    def __init__(self, *, deadline: timedelta | None = ACK_DEADLINE) -> None:
        self.requests: list[DiscordRequest] = []
        self.refused: list[Refusal] = []
        self.deadline = deadline
        self._ids = itertools.count(1_400_000_000_000_000_000)
        # channel id -> HTTP status to answer for posts there (403 forbidden, 404 gone)
        self.channel_errors: dict[int, int] = {}
        # interaction token -> when its interaction was acknowledged
        self._acknowledged: dict[str, datetime] = {}
        self._answered: set[str] = set()
        # DM channels opened (channel id -> user id), and users whose DMs are closed (50007)
        self.dm_channels: dict[int, int] = {}
        self.dms_closed: set[int] = set()

    def next_id(self) -> int:
        return next(self._ids)

    def respond(
        self, method: str, path: str, query: dict[str, str], body: Any, files: dict[str, bytes] | None = None
    ) -> tuple[int, Any]:
        path = path.split("/api/v10", 1)[-1]
        request = DiscordRequest(method, path, dict(query), body, dict(files or {}))
        self.requests.append(request)
        for pattern, handler in self._routes():
            match = re.fullmatch(pattern, f"{method} {path}")
            if match:
                answer: tuple[int, Any] = handler(body, **match.groupdict())
                status, data = answer
                if status >= 400 and isinstance(data, dict):
                    self.refused.append(Refusal(request, status, int(data.get("code", 0)), str(data)))
                return answer
        return 404, {"message": "Unknown route", "code": 0}

    def now(self) -> datetime:
        return datetime.now(UTC)

    def _routes(self) -> list[tuple[str, Any]]:
        return [
            (r"GET /users/@me", lambda _b: (200, user_payload(BOT_USER_ID, "Tapewatch", bot=True))),
            (r"GET /oauth2/applications/@me", lambda _b: (200, self._application())),
            (r"POST /interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback", self._callback),
            (r"POST /webhooks/(?P<app>\d+)/(?P<token>[^/]+)", self._message_from_body),
            (
                r"PATCH /webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>[^/]+)",
                self._message_from_body,
            ),
            (r"POST /users/@me/channels", self._open_dm),
            (r"POST /channels/(?P<cid>\d+)/messages", self._channel_message),
            (r"PUT /applications/(?P<app>\d+)(?:/guilds/(?P<gid>\d+))?/commands", self._sync),
            (r"GET /applications/(?P<app>\d+)(?:/guilds/(?P<gid>\d+))?/commands", lambda _b, **_: (200, [])),
        ]

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(APP_ID),
            "name": "Tapewatch",
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "owner": user_payload(OWNER_ID, "owner"),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "summary": "",
        }

    def _callback(self, body: Any, iid: str, token: str) -> tuple[int, Any]:
        kind = int(body.get("type", 4)) if isinstance(body, dict) else 4
        data = (body.get("data") or {}) if isinstance(body, dict) else {}
        flags = int(data.get("flags", 0) or 0)
        now = self.now()
        if self.deadline is not None and now - snowflake_time(int(iid)) > self.deadline:
            return 404, {"message": "Unknown interaction", "code": 10062}
        if iid in self._answered:
            return 400, {"message": "Interaction has already been acknowledged.", "code": 40060}
        problems = message_problems(data) if kind in (4, 7, 8) else []
        if problems:
            return invalid_form(problems)
        self._answered.add(iid)
        self._acknowledged[token] = now
        return 200, {
            "interaction": {
                "id": iid,
                "type": 2,
                "response_message_id": str(self.next_id()) if kind in (4, 5) else None,
                "response_message_loading": kind == 5,
                "response_message_ephemeral": bool(flags & 64),
            },
            "resource": {"type": kind},
        }

    def _message(self, channel_id: int, body: Any) -> dict[str, Any]:
        body = body if isinstance(body, dict) else {}
        return {
            "id": str(self.next_id()),
            "channel_id": str(channel_id),
            "author": user_payload(BOT_USER_ID, "Tapewatch", bot=True),
            "content": body.get("content") or "",
            "timestamp": datetime.now(UTC).isoformat(),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "pinned": False,
            "type": 0,
            "flags": int(body.get("flags", 0) or 0),
        }

    def _message_from_body(self, body: Any, token: str = "", **_: str) -> tuple[int, Any]:
        acked = self._acknowledged.get(token)
        if acked is None or self.now() - acked > FOLLOWUP_LIFETIME:
            return 404, {"message": "Unknown Webhook", "code": 10015}
        problems = message_problems(body)
        if problems:
            return invalid_form(problems)
        return 200, self._message(CHANNEL_ID, body)

    def _open_dm(self, body: Any) -> tuple[int, Any]:
        user = int((body or {}).get("recipient_id", 0))
        channel = next((c for c, u in self.dm_channels.items() if u == user), None) or self.next_id()
        self.dm_channels[channel] = user
        return 200, {
            "id": str(channel),
            "type": 1,
            "last_message_id": None,
            "recipients": [user_payload(user, "user")],
        }

    def dms_to(self, user_id: int) -> list[dict[str, Any]]:
        """The messages delivered to a user's DM channel (refused ones are not counted)."""
        refused = {id(r.request) for r in self.refused}
        channels = {c for c, u in self.dm_channels.items() if u == user_id}
        return [
            r.json
            for r in self.requests
            if r.method == "POST"
            and id(r) not in refused
            and (m := re.fullmatch(r"/channels/(\d+)/messages", r.path))
            and int(m.group(1)) in channels
        ]

    def _channel_message(self, body: Any, cid: str) -> tuple[int, Any]:
        if self.dm_channels.get(int(cid)) in self.dms_closed:
            return 403, {"message": "Cannot send messages to this user", "code": 50007}
        status = self.channel_errors.get(int(cid))
        if status == 404:
            return 404, {"message": "Unknown Channel", "code": 10003}
        if status == 403:
            return 403, {"message": "Missing Access", "code": 50001}
        problems = message_problems(body)
        if problems:
            return invalid_form(problems)
        return 200, self._message(int(cid), body)

    def _sync(self, body: Any, app: str, gid: str | None = None) -> tuple[int, Any]:
        commands = body if isinstance(body, list) else []
        out = []
        for cmd in commands:
            out.append(
                {
                    **cmd,
                    "id": str(self.next_id()),
                    "application_id": app,
                    "version": "1",
                    **({"guild_id": gid} if gid else {}),
                }
            )
        return 200, out

    # -- helpers for callers -----------------------------------------------------------

    def messages(self) -> list[DiscordRequest]:
        """Every request that carried a message payload (replies, follow-ups, channel posts)."""
        out = []
        for r in self.requests:
            if r.method == "POST" and "/callback" in r.path:
                if isinstance(r.json, dict) and r.json.get("type") in (4, 7):
                    out.append(r)
            elif (
                r.method == "POST" and (r.path.startswith("/webhooks/") or r.path.startswith("/channels/"))
            ) or (r.method == "PATCH" and r.path.startswith("/webhooks/")):
                out.append(r)
        return out


def message_payload(request: DiscordRequest) -> dict[str, Any]:
    """The message part of a recorded request (an interaction callback wraps it in ``data``)."""
    body = request.json if isinstance(request.json, dict) else {}
    if "/callback" in request.path:
        return dict(body.get("data") or {})
    return dict(body)


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


class FakeDiscordServer:
    """:class:`FakeDiscord` behind a loopback aiohttp server, with a minimal gateway at
    ``/gateway`` (HELLO, IDENTIFY → READY, heartbeats) so a real ``tapewatch run`` can log in and
    receive interactions as Discord would send them (:meth:`dispatch`)."""

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
        finally:
            self.sockets.discard(ws)
            self.shard_of.pop(ws, None)
        return ws

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
        # Exactly "application/json": with a charset suffix discord.py treats the body as text.
        return web.Response(
            status=status,
            body=b"" if data is None else json.dumps(data).encode(),
            headers={"Content-Type": "application/json"},
        )


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
