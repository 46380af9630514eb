"""A small stand-in for Discord's REST API on 127.0.0.1, answering the routes Tapewatch uses.

``tapewatch ask``/``console`` and the tests both run the real bot against it: discord.py does
its own serialisation and HTTP, so what is recorded here is the exact JSON Discord would get.
discord.py has no public switch for its API base; ``bot.fake_gateway.pointed_at`` sets
``Route.BASE`` (also used by the interaction webhooks) for the duration and restores it, and
``bot.fake_gateway.FakeDiscordServer`` serves this fake on loopback with a minimal gateway.
"""

from __future__ import annotations

import itertools
import re
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

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
# A channel post with ``enforce_nonce`` whose nonce this channel saw within "the past few
# minutes" (Discord's words) gets the message that nonce created, and no new one. The fake
# holds the nonce for two minutes: less than Discord is likely to, so a re-post it dedupes is
# one Discord dedupes too.
NONCE_WINDOW_S = 120.0


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
    (404, 10015), a message past Discord's limits (400, 50035); and like Discord it answers a
    channel post carrying the nonce of a recent one (``enforce_nonce``) with that message
    instead of creating another. With ``global_per_s`` set (off by
    default) it also keeps Discord's global rate limit: past that many requests in any second it
    answers 429 with ``retry_after`` and ``global: true``, as Discord does per bot token (the fake
    serves one bot, so every request counts)."""

    def __init__(self, *, deadline: timedelta | None = ACK_DEADLINE, global_per_s: int | None = None) -> None:
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
        self.global_per_s = global_per_s
        # (channel, nonce) -> when, and the message it created (enforce_nonce), and the posts
        # answered with an existing message instead of a new one
        self._nonces: dict[tuple[int, str], tuple[float, dict[str, Any]]] = {}
        self.deduplicated: list[DiscordRequest] = []
        self._recent: deque[float] = deque()  # when the requests of the last second were let in

    def next_id(self) -> int:
        return next(self._ids)

    def respond(
        self, method: str, path: str, query: dict[str, str], body: Any, files: dict[str, bytes] | None = None
    ) -> tuple[int, Any]:
        path = path.split("/api/v10", 1)[-1]
        request = DiscordRequest(method, path, dict(query), body, dict(files or {}))
        self.requests.append(request)
        limited = self._over_global_limit()
        if limited is not None:
            self.refused.append(Refusal(request, 429, 0, str(limited)))
            return 429, limited
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

    def _over_global_limit(self) -> dict[str, Any] | None:
        """Discord's global 429 when this request would be past ``global_per_s`` in the last
        second (a sliding window), else None and the request counts."""
        if self.global_per_s is None:
            return None
        now = time.monotonic()
        while self._recent and now - self._recent[0] >= 1.0:
            self._recent.popleft()
        if len(self._recent) >= self.global_per_s:
            wait = max(0.001, 1.0 - (now - self._recent[0]))
            return {"message": "You are being rate limited.", "retry_after": round(wait, 3), "global": True}
        self._recent.append(now)
        return None

    def accepted_posts(self) -> dict[int, int]:
        """Channel id → how many messages the fake created there (refused posts and posts
        answered with an existing message of the same nonce not counted)."""
        refused = {id(r.request) for r in self.refused} | {id(r) for r in self.deduplicated}
        counts: dict[int, int] = {}
        for r in self.requests:
            match = re.fullmatch(r"/channels/(\d+)/messages", r.path)
            if r.method == "POST" and match and id(r) not in refused:
                counts[int(match.group(1))] = counts.get(int(match.group(1)), 0) + 1
        return counts

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
        nonce = body.get("nonce") if isinstance(body, dict) and body.get("enforce_nonce") else None
        if nonce is not None:
            seen = self._nonces.get((int(cid), str(nonce)))
            if seen is not None and time.monotonic() - seen[0] < NONCE_WINDOW_S:
                self.deduplicated.append(self.requests[-1])
                return 200, seen[1]  # Discord returns the message it has; none is created
        message = self._message(int(cid), body)
        if nonce is not None:
            self._nonces[(int(cid), str(nonce))] = (time.monotonic(), message)
        return 200, message

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
