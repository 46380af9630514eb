"""Leases: one process at a time holds a named role among every process on the same store
(alert evaluation, say), and another takes it over when the holder dies.

On PostgreSQL a lease is a session-level advisory lock on a connection of its own: the server
releases it the moment that connection ends (the process exits, is killed, or loses the
network), so a waiting process's next :meth:`Lease.held` takes it over. On SQLite (processes
on one machine) it is an exclusive ``flock`` on a file beside the store, which the kernel
releases when the holder dies. Neither needs a timeout or a heartbeat of ours.

What a lease cannot do is make two holders impossible during a network partition (the old
holder may not know yet that the server dropped it): work done under a lease must be safe to
repeat, as alert evaluation is with its persisted armed/fired/cooldown state.
"""

from __future__ import annotations

import fcntl
import hashlib
from typing import IO, Any

import psycopg

from bot.settings import is_database_url

CONNECT_TIMEOUT_S = 5


def lease_key(name: str) -> int:
    """A stable signed 64-bit advisory-lock key for ``name`` (the same in every process)."""
    return int.from_bytes(
        hashlib.blake2b(f"tapewatch:{name}".encode(), digest_size=8).digest(), "big", signed=True
    )


class Lease:
    """``held()`` tries to take the role (or checks it is still ours); ``release()`` gives it up."""

    def __init__(self, target: str, name: str) -> None:
        self.target = target
        self.name = name
        self._held = False
        self._conn: psycopg.Connection[Any] | None = None
        self._file: IO[bytes] | None = None

    def held(self) -> bool:
        """Whether this process holds the role now (blocking for a round trip at most: call it
        off the event loop)."""
        if self.target == ":memory:":
            return True  # a store no other process can open
        if is_database_url(self.target):
            return self._held_pg()
        return self._held_file()

    def _held_pg(self) -> bool:
        conn = self._conn
        if conn is not None and (conn.closed or conn.broken):
            self._drop()
            conn = None
        try:
            if conn is None:
                conn = self._conn = psycopg.connect(
                    self.target, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
                )
            if self._held:
                conn.execute("SELECT 1")  # still connected: the lock is still ours
                return True
            row = conn.execute("SELECT pg_try_advisory_lock(%s)", (lease_key(self.name),)).fetchone()
        except psycopg.Error:
            self._drop()  # the server is gone or dropped us: whatever we held is released
            return False
        self._held = bool(row and row[0])
        return self._held

    def _held_file(self) -> bool:
        if self._held:
            return True
        if self._file is None:
            try:
                self._file = open(f"{self.target}.lease-{self.name}", "ab")  # noqa: SIM115 - held open
            except OSError:
                return True  # nowhere to coordinate (a read-only folder): lead, as before leases
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        self._held = True
        return True

    def _drop(self) -> None:
        self._held = False
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def release(self) -> None:
        self._drop()
        if self._file is not None:
            # closing releases the flock; the file stays (removing it would let two processes
            # lock two different inodes of the same name)
            self._file.close()
            self._file = None
