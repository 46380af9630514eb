"""Personal price watches (``/watch``): reads and writes of the ``watches`` and ``watch_users``
tables, mixed into :class:`bot.store.Store`."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from bot.clock import from_ms, to_ms
from bot.models import Watch, WatchPause

Direction = Literal["above", "below"]


def _watch(r: dict[str, Any]) -> Watch:
    return Watch(
        id=r["id"],
        user_id=r["user_id"],
        coin=r["coin"],
        direction=r["direction"],
        price=r["price"],
        note=r["note"],
        armed=bool(r["armed"]),
        created_at=from_ms(r["created_ms"]),
        fired_at=from_ms(r["fired_ms"]) if r["fired_ms"] is not None else None,
        fired_count=r["fired_count"],
    )


class WatchStore:
    lock: threading.RLock
    conn: sqlite3.Connection

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        raise NotImplementedError  # provided by the store

    def add_watch(
        self,
        user_id: int,
        coin: str,
        direction: Direction,
        price: float,
        note: str,
        armed: bool,
        at: datetime,
    ) -> Watch:
        with self.lock, self.conn:
            cur = self.conn.execute(
                "INSERT INTO watches (user_id, coin, direction, price, note, armed, created_ms) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (user_id, coin, direction, price, note, int(armed), to_ms(at)),
            )
        return Watch(
            id=int(cur.lastrowid or 0),
            user_id=user_id,
            coin=coin,
            direction=direction,
            price=price,
            note=note,
            armed=armed,
            created_at=at,
        )

    def watches_of(self, user_id: int) -> list[Watch]:
        return [
            _watch(r) for r in self._rows("SELECT * FROM watches WHERE user_id = ? ORDER BY id", (user_id,))
        ]

    def remove_watch(self, user_id: int, watch_id: int) -> bool:
        """Remove one of the user's own watches; False when they have none with that id."""
        with self.lock, self.conn:
            cur = self.conn.execute("DELETE FROM watches WHERE id = ? AND user_id = ?", (watch_id, user_id))
        return cur.rowcount > 0

    def active_watches(self) -> list[Watch]:
        """Every watch of a user who is not paused."""
        rows = self._rows(
            "SELECT * FROM watches WHERE user_id NOT IN (SELECT user_id FROM watch_users) ORDER BY id"
        )
        return [_watch(r) for r in rows]

    def set_watch_armed(self, watch_id: int, armed: bool, fired_at: datetime | None = None) -> bool:
        """Move a watch from ``not armed`` to ``armed`` (recording a firing at ``fired_at``);
        False when it already was (another process on the store moved it first: only the
        process whose update landed sends the crossing)."""
        with self.lock, self.conn:
            if fired_at is None:
                cur = self.conn.execute(
                    "UPDATE watches SET armed = ? WHERE id = ? AND armed = ?",
                    (int(armed), watch_id, int(not armed)),
                )
            else:
                cur = self.conn.execute(
                    "UPDATE watches SET armed = ?, fired_ms = ?, fired_count = fired_count + 1 "
                    "WHERE id = ? AND armed = ?",
                    (int(armed), to_ms(fired_at), watch_id, int(not armed)),
                )
            return bool(cur.rowcount == 1)

    def pause_watches(self, user_id: int, at: datetime, reason: str) -> None:
        with self.lock, self.conn:
            self.conn.execute(
                "INSERT OR IGNORE INTO watch_users (user_id, paused_ms, reason) VALUES (?, ?, ?)",
                (user_id, to_ms(at), reason),
            )

    def resume_watches(self, user_id: int) -> bool:
        with self.lock, self.conn:
            cur = self.conn.execute("DELETE FROM watch_users WHERE user_id = ?", (user_id,))
        return cur.rowcount > 0

    def watch_pause(self, user_id: int) -> WatchPause | None:
        rows = self._rows("SELECT * FROM watch_users WHERE user_id = ?", (user_id,))
        if not rows:
            return None
        return WatchPause(user_id=user_id, since=from_ms(rows[0]["paused_ms"]), reason=rows[0]["reason"])
