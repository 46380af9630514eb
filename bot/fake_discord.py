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

from bot.discord_limits import invalid_form
from bot.discord_limits import message_problems as message_problems

APP_ID = 1_300_000_000_000_000_001
BOT_USER_ID = APP_ID
OWNER_ID = 1_300_000_000_000_000_002
GUILD_ID = 1_300_000_000_000_000_100
CHANNEL_ID = 1_300_000_000_000_000_200
USER_ID = 1_300_000_000_000_000_300

# What real Discord refuses, so a test fails where production would.
ACK_DEADLINE = timedelta(seconds=3)  # an interaction not acknowledged by then is gone (10062)
FOLLOWUP_LIFETIME = timedelta(minutes=15)  # an interaction token's follow-ups


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
        # every message that exists (id -> payload) and each interaction token's "@original":
        # the reply it created, or for a button press the message the button is on
        self.stored: dict[str, dict[str, Any]] = {}
        self._originals: dict[str, str] = {}
        self._loading: set[str] = set()  # "thinking…" placeholders their first follow-up replaces
        # the command payloads synced (None: global, else the guild id)
        self.synced: dict[int | None, list[dict[str, Any]]] = {}

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
            (r"PATCH /webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>[^/]+)", self._edit),
            (r"DELETE /webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>[^/]+)", self._delete),
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
        message_id = None
        if kind in (4, 5):  # a new message: the reply (or its "thinking…" placeholder)
            message = self._message(CHANNEL_ID, data)
            message_id = message["id"]
            self.stored[message_id] = message
            self._originals[token] = message_id
            if kind == 5:
                self._loading.add(message_id)
        elif kind == 7:  # the message the button is on, updated
            self._update(token, "@original", data)
        return 200, {
            "interaction": {
                "id": iid,
                "type": 2,
                "response_message_id": message_id,
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

    def _token_alive(self, token: str) -> bool:
        acked = self._acknowledged.get(token)
        return acked is not None and self.now() - acked <= FOLLOWUP_LIFETIME

    def _message_from_body(self, body: Any, token: str = "", **_: str) -> tuple[int, Any]:
        if not self._token_alive(token):
            return 404, {"message": "Unknown Webhook", "code": 10015}
        problems = message_problems(body)
        if problems:
            return invalid_form(problems)
        original = self._originals.get(token, "")
        if original in self._loading:  # the first follow-up of a deferral replaces "thinking…"
            self._loading.discard(original)
            placeholder = self.stored[original]
            message = {**self._message(CHANNEL_ID, body), "id": original, "flags": placeholder["flags"]}
        else:
            message = self._message(CHANNEL_ID, body)
        self.stored[message["id"]] = message
        return 200, message

    def pressed_on(self, token: str, message: dict[str, Any]) -> None:
        """A button press's interaction (``token``) concerns ``message``: its ``@original``."""
        self.stored.setdefault(str(message["id"]), message)
        self._originals[token] = str(message["id"])

    def _update(self, token: str, mid: str, body: Any) -> dict[str, Any] | None:
        message_id = self._originals.get(token) if mid == "@original" else mid
        old = self.stored.get(message_id or "")
        if old is None:
            return None
        body = body if isinstance(body, dict) else {}
        new = {**old, **{k: v for k, v in body.items() if k in ("content", "embeds", "components")}}
        new["edited_timestamp"] = datetime.now(UTC).isoformat()
        self.stored[old["id"]] = new
        return new

    def _edit(self, body: Any, token: str, mid: str, **_: str) -> tuple[int, Any]:
        if not self._token_alive(token):
            return 404, {"message": "Unknown Webhook", "code": 10015}
        problems = message_problems(body)
        if problems:
            return invalid_form(problems)
        edited = self._update(token, mid, body)
        if edited is None:  # a message this fake never saw: answer as if it existed
            return 200, self._message(CHANNEL_ID, body)
        return 200, edited

    def _delete(self, body: Any, token: str, mid: str, **_: str) -> tuple[int, Any]:
        if not self._token_alive(token):
            return 404, {"message": "Unknown Webhook", "code": 10015}
        message_id = self._originals.get(token) if mid == "@original" else mid
        if self.stored.pop(message_id or "", None) is None:
            return 404, {"message": "Unknown Message", "code": 10008}
        return 204, None

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
        self.synced[int(gid) if gid else None] = list(commands)
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

    def offered(self, name: str, *, context: int, install: int) -> bool:
        """Whether Discord's client offers synced command ``name`` in an interaction context
        (0 guild, 1 bot DM, 2 private channel) under an installation (0 guild, 1 user). Unset
        ``contexts`` means every context; unset ``integration_types`` means the guild install
        (Discord's defaults)."""
        for commands in self.synced.values():
            for cmd in commands:
                if cmd.get("name") != name:
                    continue
                contexts = cmd.get("contexts") or [0, 1, 2]
                installs = cmd.get("integration_types") or [0]
                if context in contexts and install in installs:
                    return True
        return False

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
        return web.Response(
            status=status, body=json.dumps(data).encode(), headers={"Content-Type": "application/json"}
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
