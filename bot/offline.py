"""Run slash commands through the real discord.py code path with no Discord.

The bot is the same :class:`TapewatchBot` with the same cogs and the same HTTP client; only
the API base points at :class:`FakeDiscordServer` on 127.0.0.1. So ``tapewatch ask --json``
prints exactly the payload discord.py would have sent.
"""

from __future__ import annotations

import asyncio
import itertools
import shlex
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import discord
from discord import app_commands

from bot.client import TapewatchBot
from bot.fake_discord import (
    APP_ID,
    CHANNEL_ID,
    GUILD_ID,
    USER_ID,
    DiscordRequest,
    message_payload,
    user_payload,
)
from bot.fake_gateway import FakeDiscordServer, pointed_at


class InvocationError(ValueError):
    """The typed command line is not a valid invocation (unknown command or option)."""


Where = Literal["guild", "dm", "private"]
Install = Literal["guild", "user"]
CONTEXTS: dict[Where, int] = {"guild": 0, "dm": 1, "private": 2}  # Discord's interaction contexts
INSTALLS: dict[Install, int] = {"guild": 0, "user": 1}
DM_CHANNEL_ID = CHANNEL_ID + 1


@dataclass
class Invocation:
    name: str
    path: list[str]
    options: list[dict[str, Any]] = field(default_factory=list)
    resolved: dict[str, Any] = field(default_factory=dict)


_BOOL = {
    "true": True,
    "yes": True,
    "1": True,
    "on": True,
    "false": False,
    "no": False,
    "0": False,
    "off": False,
}


def parse_invocation(text: str, tree: app_commands.CommandTree[Any], *, partial: bool = False) -> Invocation:
    """``/alerts subscribe channel:123 coins:"BTC, ETH"`` → the interaction's ``data`` options,
    typed by the command's own parameters so conversion runs as it would for Discord."""
    try:
        tokens = shlex.split(text.strip())
    except ValueError as exc:
        raise InvocationError(f"cannot parse: {exc}") from None
    if not tokens:
        raise InvocationError("empty command")
    name = tokens[0].lstrip("/").lower()
    command: Any = tree.get_command(name)
    if command is None:
        known = ", ".join(sorted("/" + c.name for c in tree.get_commands()))
        raise InvocationError(f"unknown command /{name}; commands: {known}")
    path = [name]
    rest = tokens[1:]
    while isinstance(command, app_commands.Group):
        if not rest or ":" in rest[0]:
            subs = ", ".join(c.name for c in command.commands)
            raise InvocationError(f"/{' '.join(path)} needs a subcommand: {subs}")
        sub = command.get_command(rest[0].lower())
        if sub is None:
            subs = ", ".join(c.name for c in command.commands)
            raise InvocationError(f"unknown subcommand {rest[0]!r} of /{' '.join(path)}; choose from {subs}")
        path.append(sub.name)
        command = sub
        rest = rest[1:]
    params = {p.name: p for p in command.parameters}
    options: list[dict[str, Any]] = []
    resolved: dict[str, Any] = {}
    for token in rest:
        key, sep, raw = token.partition(":")
        if not sep:
            raise InvocationError(f"expected option:value, got {token!r}")
        param = params.get(key.lower())
        if param is None:
            raise InvocationError(
                f"/{' '.join(path)} has no option {key!r}; options: {', '.join(params) or 'none'}"
            )
        options.append(
            {
                "name": param.name,
                "type": param.type.value,
                "value": _convert(param, raw, resolved, partial=partial),
            }
        )
    given = {o["name"] for o in options}
    missing = [p.name for p in command.parameters if p.required and p.name not in given]
    if missing:
        raise InvocationError(f"/{' '.join(path)} needs {', '.join(m + ':…' for m in missing)}")
    for sub_name in reversed(path[1:]):
        options = [{"name": sub_name, "type": 1, "options": options}]
    # a subcommand group wraps its subcommand with type 2
    if len(path) == 3:
        options = [{"name": path[1], "type": 2, "options": options[0]["options"]}]
    return Invocation(name=name, path=path, options=options, resolved=resolved)


DISCORD_MAX_INTEGER = 2**53  # Discord refuses integer options beyond ±2^53


def _number(param: app_commands.Parameter, raw: str, *, partial: bool) -> int | float:
    """An integer or number option, within its ``min_value``/``max_value`` (``Range``) and
    Discord's own bounds, as Discord's client refuses it before the bot sees it."""
    try:
        value: int | float = int(raw) if param.type is discord.AppCommandOptionType.integer else float(raw)
    except ValueError:
        raise InvocationError(f"option {param.name} expects a {param.type.name}, got {raw!r}") from None
    if partial:
        return value
    if value != value or abs(value) > DISCORD_MAX_INTEGER:
        raise InvocationError(f"option {param.name}: {raw!r} is out of range")
    low, high = param.min_value, param.max_value
    if (low is not None and value < low) or (high is not None and value > high):
        raise InvocationError(
            f"option {param.name} must be between {low if low is not None else '-∞'} and "
            f"{high if high is not None else '∞'}, got {raw}"
        )
    return value


def _convert(
    param: app_commands.Parameter, raw: str, resolved: dict[str, Any], *, partial: bool = False
) -> Any:
    """Type the value as Discord would, and refuse what Discord's client would refuse
    (a value outside the choices, a string outside the length bounds)."""
    kind = param.type
    if partial:  # autocomplete: the user is still typing, nothing is checked yet
        pass
    elif param.choices and raw not in {str(c.value) for c in param.choices}:
        allowed = ", ".join(str(c.value) for c in param.choices)
        raise InvocationError(f"option {param.name} must be one of {allowed}, got {raw!r}")
    if kind is discord.AppCommandOptionType.string and not partial:
        low, high = param.min_value, param.max_value
        if (low is not None and len(raw) < low) or (high is not None and len(raw) > high):
            raise InvocationError(f"option {param.name} must be {low or 0}–{high or '∞'} characters long")
    if kind in (discord.AppCommandOptionType.integer, discord.AppCommandOptionType.number):
        return _number(param, raw, partial=partial)
    try:
        if kind is discord.AppCommandOptionType.boolean:
            return _BOOL[raw.lower()]
    except (ValueError, KeyError):
        raise InvocationError(f"option {param.name} expects a {kind.name}, got {raw!r}") from None
    if kind is discord.AppCommandOptionType.channel:
        channel_id = raw.strip("<#>") if raw.strip("<#>").isdigit() else str(CHANNEL_ID)
        name = "console" if not raw.strip("<#>").isdigit() else f"channel-{channel_id[-4:]}"
        resolved.setdefault("channels", {})[channel_id] = {
            "id": channel_id,
            "type": 0,
            "name": raw.lstrip("#") if not raw.strip("<#>").isdigit() else name,
            "guild_id": str(GUILD_ID),
            "permissions": str(discord.Permissions.all().value),
        }
        return channel_id
    return raw


class OfflineSession:
    """A logged-in bot answering typed commands without Discord."""

    def __init__(
        self, bot: TapewatchBot, *, admin: bool = True, server: FakeDiscordServer | None = None
    ) -> None:
        self.bot = bot
        self.server = server or FakeDiscordServer()
        self.fake = self.server.fake
        self.admin = admin
        self._ids = itertools.count(1)
        self._stack = ExitStack()

    async def __aenter__(self) -> OfflineSession:
        base = await self.server.start()
        self._stack.enter_context(pointed_at(base))
        await self.bot.login("offline-session-token")
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            await self.bot.close()
        finally:
            await self.server.close()
            self._stack.close()

    def _interaction(
        self,
        kind: int,
        invocation: Invocation,
        *,
        where: Where = "guild",
        install: Install = "guild",
        user: int = USER_ID,
    ) -> dict[str, Any]:
        """The payload Discord sends for ``invocation``: in this server's channel, or in a DM with
        the bot (``dm``) or a group DM (``private``), authorised by the server's installation or
        by the user's own (``install="user"``)."""
        perms = (
            discord.Permissions.all()
            if self.admin
            else discord.Permissions(
                view_channel=True,
                send_messages=True,
                read_message_history=True,
                use_application_commands=True,
            )
        )
        data: dict[str, Any] = {
            "id": str(APP_ID + 10 + len(invocation.path)),
            "name": invocation.name,
            "type": 1,
            "options": invocation.options,
        }
        if invocation.resolved:
            data["resolved"] = invocation.resolved
        snowflake = discord.utils.time_snowflake(discord.utils.utcnow()) + next(self._ids)
        payload: dict[str, Any] = {
            "id": str(snowflake),
            "application_id": str(APP_ID),
            "type": kind,
            "token": f"offline-{snowflake}",
            "version": 1,
            "attachment_size_limit": 8 * 1024 * 1024,
            "app_permissions": str(discord.Permissions.all().value),
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": (
                {"0": str(GUILD_ID)} if install == "guild" and where == "guild" else {"1": str(user)}
            ),
            "context": CONTEXTS[where],
            "data": data,
        }
        if where != "guild":
            payload["channel_id"] = str(DM_CHANNEL_ID)
            payload["channel"] = {
                "id": str(DM_CHANNEL_ID),
                "type": 1 if where == "dm" else 3,
                "last_message_id": None,
                "recipients": [user_payload(user, "you")],
            }
            payload["user"] = user_payload(user, "you")
            return payload
        payload |= {
            "guild_id": str(GUILD_ID),
            "guild_locale": "en-US",
            "channel_id": str(CHANNEL_ID),
            "channel": {
                "id": str(CHANNEL_ID),
                "type": 0,
                "guild_id": str(GUILD_ID),
                "name": "console",
                "position": 0,
                "permission_overwrites": [],
                "nsfw": False,
                "parent_id": None,
                "topic": None,
                "last_message_id": None,
                "rate_limit_per_user": 0,
            },
            "member": {
                "user": user_payload(user, "you"),
                "roles": [],
                "joined_at": "2024-01-01T00:00:00+00:00",
                "deaf": False,
                "mute": False,
                "flags": 0,
                "permissions": str(perms.value),
            },
        }
        return payload

    async def invoke(
        self, text: str, *, where: Where = "guild", install: Install = "guild", user: int = USER_ID
    ) -> list[DiscordRequest]:
        """Run one typed command; returns the requests the bot sent in answer. Once commands were
        synced to the fake, a command Discord would not offer there is refused, as its client
        would."""
        invocation = parse_invocation(text, self.bot.tree)
        if self.fake.synced and not self.fake.offered(
            invocation.name, context=CONTEXTS[where], install=INSTALLS[install]
        ):
            raise InvocationError(
                f"Discord does not offer /{invocation.name} here ({where}, {install} install)"
            )
        return await self._dispatch(self._interaction(2, invocation, where=where, install=install, user=user))

    async def click(
        self,
        message: dict[str, Any],
        custom_id: str,
        *,
        user: int = USER_ID,
        where: Where = "guild",
        install: Install = "guild",
    ) -> list[DiscordRequest]:
        """Press a button of ``message`` (a component interaction, as Discord sends it); returns
        the requests the bot sent in answer."""
        payload = self.press_payload(message, custom_id, user=user, where=where, install=install)
        self.fake.pressed_on(payload["token"], message)
        start = len(self.fake.requests)
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        await drain_tasks("discord-ui-")
        return self.fake.requests[start:]

    def press_payload(
        self,
        message: dict[str, Any],
        custom_id: str,
        *,
        user: int = USER_ID,
        where: Where = "guild",
        install: Install = "guild",
    ) -> dict[str, Any]:
        """The component interaction Discord sends when ``user`` presses button ``custom_id``."""
        payload = self._interaction(2, Invocation(name="", path=[]), where=where, install=install, user=user)
        payload["type"] = 3
        payload["data"] = {"custom_id": custom_id, "component_type": 2}
        payload["message"] = message
        return payload

    async def autocomplete(self, text: str, option: str) -> list[dict[str, Any]]:
        """The choices Discord would show while the user types ``option`` of ``text``."""
        invocation = parse_invocation(text, self.bot.tree, partial=True)
        target = invocation.options
        while target and target[0].get("type") in (1, 2):
            target = target[0]["options"]
        for opt in target:
            if opt["name"] == option:
                opt["focused"] = True
        requests = await self._dispatch(self._interaction(4, invocation))
        for r in requests:
            if isinstance(r.json, dict) and r.json.get("type") == 8:
                return list(r.json["data"]["choices"])
        return []

    async def _dispatch(self, payload: dict[str, Any]) -> list[DiscordRequest]:
        start = len(self.fake.requests)
        self.bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        await drain_command_tasks()
        return self.fake.requests[start:]


async def drain_command_tasks() -> None:
    """Wait for the tasks discord.py spawned to run the command (named ``CommandTree-invoker``)."""
    await drain_tasks("CommandTree-invoker")


async def drain_tasks(prefix: str) -> None:
    """Wait for the tasks discord.py spawned whose names start with ``prefix`` (a command's
    ``CommandTree-invoker``, a button's ``discord-ui-…``)."""
    for _ in range(100):
        pending = [
            t
            for t in asyncio.all_tasks()
            if t is not asyncio.current_task() and t.get_name().startswith(prefix) and not t.done()
        ]
        if not pending:
            return
        await asyncio.gather(*pending, return_exceptions=True)


def save_attachments(requests: list[DiscordRequest], directory: Path) -> dict[str, Path]:
    """Write the files the bot attached (charts) to ``directory``; returns name → path."""
    saved: dict[str, Path] = {}
    for r in requests:
        for name, blob in r.files.items():
            directory.mkdir(parents=True, exist_ok=True)
            stem = f"{Path(name).stem}-{len(list(directory.glob('*'))) + 1}{Path(name).suffix}"
            path = directory / stem
            path.write_bytes(blob)
            saved[name] = path
    return saved


__all__ = ["InvocationError", "OfflineSession", "message_payload", "parse_invocation", "save_attachments"]
