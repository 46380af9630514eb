"""Per-server settings (schema migration 9): one ``guild_settings`` row per guild, mixed into
:class:`bot.store.Store`. Every method is keyed by ``guild_id``: one server never reads or
changes another's row. A column left NULL means the bot's default."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import datetime
from typing import Any, TypedDict

from bot.clock import from_ms, to_ms

COLUMNS = ("shortlist", "default_window", "alert_thresholds")


class GuildSettingsRow(TypedDict):
    guild_id: int
    shortlist: list[str] | None
    default_window: str | None
    alert_thresholds: dict[str, float] | None
    updated_at: datetime
    updated_by: int | None


def _loads(text: str | None) -> Any:
    return None if text is None else json.loads(text)


class GuildSettingsTables:
    conn: sqlite3.Connection
    lock: threading.RLock

    def guild_settings(self, guild_id: int) -> GuildSettingsRow | None:
        with self.lock:
            row = self.conn.execute(
                "SELECT shortlist, default_window, alert_thresholds, updated_ms, updated_by "
                "FROM guild_settings WHERE guild_id = ?",
                (guild_id,),
            ).fetchone()
        if row is None:
            return None
        return GuildSettingsRow(
            guild_id=guild_id,
            shortlist=_loads(row[0]),
            default_window=row[1],
            alert_thresholds=_loads(row[2]),
            updated_at=from_ms(row[3]),
            updated_by=row[4],
        )

    def set_guild_settings(self, guild_id: int, values: dict[str, Any], at: datetime, by: int | None) -> None:
        """Set the given columns (``None`` back to the default), leaving the others as they are."""
        unknown = set(values) - set(COLUMNS)
        if unknown:
            raise ValueError(f"unknown guild setting(s): {', '.join(sorted(unknown))}")
        names = list(values)
        params: list[Any] = [guild_id, to_ms(at), by]
        for name in names:
            value = values[name]
            params.append(
                value if value is None or isinstance(value, str) else json.dumps(value, sort_keys=True)
            )
        cols = "".join(f", {n}" for n in names)
        marks = "".join(", ?" for _ in names)
        updates = "".join(f", {n} = excluded.{n}" for n in names)
        with self.lock, self.conn:
            self.conn.execute(
                f"INSERT INTO guild_settings (guild_id, updated_ms, updated_by{cols}) VALUES (?, ?, ?{marks}) "  # noqa: S608 (names from COLUMNS)
                f"ON CONFLICT (guild_id) DO UPDATE SET updated_ms = excluded.updated_ms, "
                f"updated_by = excluded.updated_by{updates}",
                params,
            )

    def delete_guild_settings(self, guild_id: int) -> bool:
        with self.lock, self.conn:
            cur = self.conn.execute("DELETE FROM guild_settings WHERE guild_id = ?", (guild_id,))
        return cur.rowcount > 0
