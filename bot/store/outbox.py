"""The alert outbox (schema migration 12), mixed into :class:`bot.store.Store`.

A message the alerts engine decided on is queued in the same transaction as the state that
decided it (:meth:`save_alert_states`, :meth:`record_large_liq_posts`, :meth:`advance_alert_brief`
take the rows to queue), so a process killed between deciding and posting loses nothing: the
row waits for a poster. Posters claim rows with one statement (``UPDATE … WHERE id IN (SELECT …
LIMIT n) RETURNING``; on PostgreSQL the inner select takes ``FOR UPDATE SKIP LOCKED``, so two
processes claiming at once take different rows and neither waits), post them, and settle them
with the subscription's counters in one transaction. A claim lasts until ``next_ms``: a poster
that dies mid-post leaves its rows to be claimed again after that, and the message's nonce keeps
the second post from landing twice.

These writes are guild state that no answer reads, so they do not move the data version the
answer cache is keyed by (``quiet``: see :mod:`bot.store.version`).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any, Literal, TypedDict

from bot.clock import from_ms, to_ms

OutboxKind = Literal["alerts", "large", "brief"]
Outcome = Literal["sent", "gone", "forbidden", "expired", "retry"]
# a guild's gateway shard, as Discord assigns it: (guild_id >> 22) % shard_count
SHARD_OF = "((guild_id >> 22) % ?)"
POSTER_MARK = "outbox-poster:"  # + "count:shard": a process posting for that shard is alive


class OutboxRow(TypedDict):
    """A formatted message to post (``body``: JSON), queued with the state that decided it."""

    guild_id: int
    channel_id: int
    kind: OutboxKind
    nonce: str
    body: str
    alerts: int  # how many alerts it carries (the subscription's counter)
    created_at: datetime
    expires_at: datetime  # not posted after this: by then it is not news


class ClaimedRow(OutboxRow):
    id: int
    attempts: int  # this claim included


class Settled(TypedDict):
    id: int
    outcome: Outcome
    detail: str | None
    message_id: int | None
    retry_at: datetime | None  # outcome "retry": not tried again before this


_QUEUE = (
    "INSERT INTO alert_outbox (guild_id, channel_id, kind, nonce, body, alerts, created_ms, expires_ms, "
    "next_ms) VALUES (?,?,?,?,?,?,?,?,?)"
)


class OutboxTables:
    """The outbox over the writer connection (the store's attributes it uses, declared)."""

    conn: Any
    lock: threading.RLock
    backend: str

    @contextmanager
    def _quiet_tx(self) -> Iterator[None]:
        """One transaction that does not count as data for the answers' cache key."""
        with self.lock:
            self.conn.quiet = True
            try:
                with self.conn:
                    yield
            finally:
                self.conn.quiet = False

    def _queue_rows(self, rows: Sequence[OutboxRow]) -> None:
        """Queue inside the caller's transaction."""
        if rows:
            self.conn.executemany(
                _QUEUE,
                [
                    (
                        r["guild_id"],
                        r["channel_id"],
                        r["kind"],
                        r["nonce"],
                        r["body"],
                        r["alerts"],
                        to_ms(r["created_at"]),
                        to_ms(r["expires_at"]),
                        to_ms(r["created_at"]),
                    )
                    for r in rows
                ],
            )

    def queue_outbox(self, rows: Sequence[OutboxRow]) -> None:
        """Queue messages no state goes with (in their own transaction)."""
        with self._quiet_tx():
            self._queue_rows(rows)

    def claim_outbox(
        self,
        owner: str,
        now: datetime,
        until: datetime,
        limit: int,
        *,
        shards: tuple[int, Sequence[int]] | None = None,
    ) -> list[ClaimedRow]:
        """Take up to ``limit`` waiting rows, oldest first, for ``owner`` until ``until``.
        ``shards`` (count, ids): only rows of guilds on those gateway shards."""
        where = ["done_ms IS NULL", "next_ms <= ?"]
        params: list[Any] = [to_ms(now)]
        if shards is not None:
            count, ids = shards
            if not ids:
                return []
            where.append(f"{SHARD_OF} IN ({','.join('?' * len(ids))})")
            params += [count, *ids]
        lock = " FOR UPDATE SKIP LOCKED" if self.backend == "postgresql" else ""
        sql = (
            "UPDATE alert_outbox SET claimed_by = ?, next_ms = ?, attempts = attempts + 1 "  # noqa: S608
            f"WHERE id IN (SELECT id FROM alert_outbox WHERE {' AND '.join(where)} ORDER BY id LIMIT ?{lock}) "
            "RETURNING id, guild_id, channel_id, kind, nonce, body, alerts, created_ms, expires_ms, attempts"
        )
        with self._quiet_tx():
            rows = self.conn.execute(sql, [owner, to_ms(until), *params, limit]).fetchall()
        out = [
            ClaimedRow(
                id=int(r[0]),
                guild_id=int(r[1]),
                channel_id=int(r[2]),
                kind=r[3],
                nonce=str(r[4]),
                body=str(r[5]),
                alerts=int(r[6]),
                created_at=from_ms(int(r[7])),
                expires_at=from_ms(int(r[8])),
                attempts=int(r[9]),
            )
            for r in rows
        ]
        return sorted(out, key=lambda r: r["id"])

    def settle_outbox(self, owner: str, at: datetime, results: Sequence[tuple[ClaimedRow, Settled]]) -> int:
        """Record what became of claimed rows, and their subscriptions' counters or their
        channel's end (gone, forbidden), in one transaction. A row another poster claimed
        meanwhile (this claim ran out) is left to it. Returns the rows settled."""
        settled = 0
        with self._quiet_tx():
            for row, s in results:
                if s["outcome"] == "retry":
                    retry = s["retry_at"] or at
                    self.conn.execute(
                        "UPDATE alert_outbox SET next_ms = ?, claimed_by = NULL, detail = ? "
                        "WHERE id = ? AND claimed_by = ? AND done_ms IS NULL",
                        (to_ms(retry), s["detail"], row["id"], owner),
                    )
                    continue
                n = self.conn.execute(
                    # the body is not needed once done (a fan-out's 10,000 bodies would sit for
                    # the week done rows are kept): what became of it stays
                    "UPDATE alert_outbox SET done_ms = ?, outcome = ?, detail = ?, message_id = ?, body = '' "
                    "WHERE id = ? AND claimed_by = ? AND done_ms IS NULL",
                    (to_ms(at), s["outcome"], s["detail"], s["message_id"], row["id"], owner),
                ).rowcount
                if n:
                    settled += 1
                    self._settle_channel(row, s, at)
        return settled

    def _settle_channel(self, row: ClaimedRow, s: Settled, at: datetime) -> None:
        key = (row["guild_id"], row["channel_id"])
        if s["outcome"] == "sent" and row["kind"] != "brief":
            self.conn.execute(
                "UPDATE alert_subscriptions SET last_alert_ms = ?, alerts_sent = alerts_sent + ? "
                "WHERE guild_id = ? AND channel_id = ?",
                (to_ms(at), row["alerts"], *key),
            )
        elif s["outcome"] in ("gone", "forbidden"):
            table = "alert_briefs" if row["kind"] == "brief" else "alert_subscriptions"
            self.conn.execute(
                f"UPDATE {table} SET disabled_reason = ?, disabled_ms = ? "  # noqa: S608
                "WHERE guild_id = ? AND channel_id = ? AND disabled_reason IS NULL",
                ((s["detail"] or s["outcome"])[:300], to_ms(at), *key),
            )

    def beat_posters(self, count: int, ids: Sequence[int], at: datetime) -> None:
        """Say that a process posts for gateway shards ``ids`` of ``count`` (alive at ``at``)."""
        with self._quiet_tx():
            self.conn.executemany(
                "INSERT INTO marks (name, ts_ms, detail) VALUES (?, ?, '') "
                "ON CONFLICT(name) DO UPDATE SET ts_ms = excluded.ts_ms",
                [(f"{POSTER_MARK}{count}:{k}", to_ms(at)) for k in ids],
            )

    def live_posters(self, count: int, since: datetime) -> set[int]:
        """The shards (of ``count``) whose posting process beat at or after ``since``."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT name FROM marks WHERE name >= ? AND name < ? AND ts_ms >= ?",
                (f"{POSTER_MARK}{count}:", f"{POSTER_MARK}{count};", to_ms(since)),
            ).fetchall()
        return {int(str(r[0]).rsplit(":", 1)[1]) for r in rows}

    def outbox_waiting(self, now: datetime) -> tuple[int, datetime | None]:
        """Rows not yet done, and when the oldest of them was queued (for /status and health)."""
        with self.lock:
            row = self.conn.execute(
                "SELECT COUNT(*), MIN(created_ms) FROM alert_outbox WHERE done_ms IS NULL AND expires_ms > ?",
                (to_ms(now),),
            ).fetchone()
        count, oldest = (int(row[0] or 0), row[1]) if row else (0, None)
        return count, None if oldest is None else from_ms(int(oldest))

    def outbox_rows(self, guild_id: int | None = None) -> list[dict[str, Any]]:
        """Every row (of one guild), oldest first: what tests and the fan-out bench check."""
        sql = "SELECT * FROM alert_outbox"
        params: tuple[Any, ...] = ()
        if guild_id is not None:
            sql, params = sql + " WHERE guild_id = ?", (guild_id,)
        with self.lock:
            cur = self.conn.execute(sql + " ORDER BY id", params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
