"""A server's own settings (``/settings``) and where the commands resolve them.

A guild chooses its coin shortlist (the market answer's majors line and the order coins are
offered in autocomplete), its default window (``/why``, ``/liquidations``, ``/movers`` when the
user gives none) and the alert thresholds new ``/alerts`` subscriptions start from. Every read
and write is keyed by the guild: one server never sees or changes another's. Outside a guild
(DMs) or for a guild that chose nothing, the bot's defaults apply.

Reads are answered from memory for a short while (a command resolves its defaults on every
call); a write through this service replaces its own entry at once.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from bot.clock import Clock
from bot.coins import CoinRegistry
from bot.errors import UserFacingError
from bot.store import AsyncStore
from bot.store.guild_settings import GuildSettingsRow
from bot.views.settings import DEFAULT_WINDOW, MAX_SHORTLIST, WINDOWS, GuildPrefs

__all__ = ["DEFAULT_WINDOW", "MAX_SHORTLIST", "WINDOWS", "GuildPrefs", "GuildPrefsService"]

Part = Literal["shortlist", "window", "alerts"]
PARTS: tuple[Part, ...] = ("shortlist", "window", "alerts")
_COLUMN: dict[Part, str] = {
    "shortlist": "shortlist",
    "window": "default_window",
    "alerts": "alert_thresholds",
}


def parse_shortlist(text: str, registry: CoinRegistry, tracked: Sequence[str]) -> tuple[str, ...]:
    """``"btc eth sol"`` (spaces, commas) → tracked symbols in the order given; one error line
    naming every coin that is unknown or untracked, or saying there are too many."""
    words = [w for w in re.split(r"[\s,;]+", text.strip()) if w]
    if not words:
        raise UserFacingError("Give at least one coin, e.g. `btc eth sol`.")
    if len(words) > MAX_SHORTLIST:
        raise UserFacingError(f"A shortlist holds up to {MAX_SHORTLIST} coins; you gave {len(words)}.")
    found: list[str] = []
    unknown: list[str] = []
    untracked: list[str] = []
    for word in words:
        coin = registry.find(word)
        if coin is None:
            unknown.append(word[:20])
        elif coin.symbol not in tracked:
            untracked.append(coin.symbol)
        elif coin.symbol not in found:
            found.append(coin.symbol)
    if unknown or untracked:
        parts = []
        if unknown:
            parts.append(f"not a coin I know: {', '.join(unknown)}")
        if untracked:
            parts.append(f"not tracked on this bot: {', '.join(untracked)}")
        raise UserFacingError(f"Nothing saved — {'; '.join(parts)}. Tracked coins: {', '.join(tracked)}.")
    return tuple(found)


def parse_window(text: str) -> str:
    value = text.strip().lower()
    if value not in WINDOWS:
        raise UserFacingError(f"Nothing saved — the default window is one of {', '.join(WINDOWS)}.")
    return value


def _prefs(row: GuildSettingsRow | None, guild_id: int) -> GuildPrefs:
    if row is None:
        return GuildPrefs(guild_id=guild_id)
    return GuildPrefs(
        guild_id=guild_id,
        shortlist=tuple(row["shortlist"] or ()),
        window=row["default_window"],
        alert_thresholds=dict(row["alert_thresholds"] or {}),
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


@dataclass(frozen=True)
class _Cached:
    prefs: GuildPrefs
    at: datetime


class GuildPrefsService:
    def __init__(
        self, store: AsyncStore, clock: Clock, *, max_age: timedelta = timedelta(seconds=30)
    ) -> None:
        self.store = store
        self.clock = clock
        self.max_age = max_age
        self._cache: dict[int, _Cached] = {}
        self._loading: dict[int, asyncio.Future[GuildPrefs]] = {}  # one read per guild at a time

    async def get(self, guild_id: int | None) -> GuildPrefs:
        """The guild's settings (the defaults outside a guild)."""
        if guild_id is None:
            return GuildPrefs()
        hit = self._cache.get(guild_id)
        if hit is not None and timedelta(0) <= self.clock() - hit.at <= self.max_age:
            return hit.prefs
        pending = self._loading.get(guild_id)
        if pending is None:
            pending = asyncio.ensure_future(self._load(guild_id))
            self._loading[guild_id] = pending
            pending.add_done_callback(lambda done: self._forget(guild_id, done))
        return await asyncio.shield(pending)

    def _forget(self, guild_id: int, done: asyncio.Future[GuildPrefs]) -> None:
        if self._loading.get(guild_id) is done:
            del self._loading[guild_id]

    async def _load(self, guild_id: int) -> GuildPrefs:
        now = self.clock()
        prefs = _prefs(await self.store.run(self.store.sync.guild_settings, guild_id), guild_id)
        self._cache[guild_id] = _Cached(prefs, now)
        return prefs

    def cached(self, guild_id: int | None) -> GuildPrefs:
        """Without waiting on the store (autocomplete): what was last read, else the defaults."""
        hit = self._cache.get(guild_id) if guild_id is not None else None
        return hit.prefs if hit is not None else GuildPrefs(guild_id=guild_id)

    async def _write(self, guild_id: int, values: dict[str, object], by: int | None) -> GuildPrefs:
        await self.store.run(self.store.sync.set_guild_settings, guild_id, values, self.clock(), by)
        self._loading.pop(guild_id, None)  # a read begun before the write must not be served
        return await self._load(guild_id)

    async def set_shortlist(self, guild_id: int, coins: Sequence[str], by: int | None) -> GuildPrefs:
        return await self._write(guild_id, {"shortlist": list(coins)}, by)

    async def set_window(self, guild_id: int, window: str, by: int | None) -> GuildPrefs:
        return await self._write(guild_id, {"default_window": parse_window(window)}, by)

    async def set_alert_thresholds(
        self, guild_id: int, thresholds: dict[str, float], by: int | None
    ) -> GuildPrefs:
        """``thresholds``: overrides already validated against the alert config (by the caller,
        which owns the alert configuration); empty = the bot's defaults."""
        return await self._write(guild_id, {"alert_thresholds": dict(thresholds) or None}, by)

    async def reset(self, guild_id: int, part: Part | None, by: int | None) -> GuildPrefs:
        """One part back to the bot's default, or every part (``None``)."""
        if part is None:
            await self.store.run(self.store.sync.delete_guild_settings, guild_id)
            self._loading.pop(guild_id, None)
            return await self._load(guild_id)
        return await self._write(guild_id, {_COLUMN[part]: None}, by)

    # -- what commands resolve -------------------------------------------------------------

    async def window(
        self, guild_id: int | None, given: str | None, fallback: str | None = DEFAULT_WINDOW
    ) -> str | None:
        """The window a command answers for: the one given, else the server's default, else
        ``fallback`` (``None`` for /liquidations, whose default is several windows)."""
        if given is not None:
            return given
        chosen = (await self.get(guild_id)).window
        return chosen if chosen is not None else fallback

    async def majors(self, guild_id: int | None) -> tuple[str, ...]:
        return (await self.get(guild_id)).majors
