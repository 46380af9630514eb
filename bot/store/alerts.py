"""The alert tables (schema migration 4): subscriptions, alert states and daily briefs.

Typed rows in and out; the SQL stays here. :mod:`bot.alerts.store` turns the rows into the
alerts' models. Every method a command reaches is keyed by ``guild_id``: one server never reads
or changes another's rows; the engine's methods (``active_alert_subscriptions``,
``load_alert_states``…) work across guilds by design and write back only rows they read.
A channel that another guild holds raises ``sqlite3.IntegrityError``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TypedDict

from bot.clock import from_ms, to_ms
from bot.store.outbox import OutboxRow, OutboxTables


class SubscriptionRow(TypedDict):
    guild_id: int
    channel_id: int
    coins: list[str]
    rules: list[str]
    thresholds: dict[str, float]
    role_id: int | None
    created_by: int | None
    created_at: datetime
    updated_at: datetime
    muted_until: datetime | None
    disabled_reason: str | None
    disabled_at: datetime | None
    last_alert_at: datetime | None
    alerts_sent: int


class AlertStateRow(TypedDict):
    guild_id: int
    channel_id: int
    coin: str
    rule: str
    state: str
    fired_at: datetime | None
    rearmed: bool
    score: float | None
    updated_at: datetime | None


class BriefRow(TypedDict):
    guild_id: int
    channel_id: int
    local_time: str
    timezone: str
    next_due: datetime
    last_sent: datetime | None
    created_by: int | None
    disabled_reason: str | None
    disabled_at: datetime | None


def _opt_ms(dt: datetime | None) -> int | None:
    return None if dt is None else to_ms(dt)


def _opt_dt(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)


def _subscription(r: dict[str, Any]) -> SubscriptionRow:
    return SubscriptionRow(
        guild_id=r["guild_id"],
        channel_id=r["channel_id"],
        coins=json.loads(r["coins"]),
        rules=json.loads(r["rules"]),
        thresholds=json.loads(r["thresholds"]),
        role_id=r["role_id"],
        created_by=r["created_by"],
        created_at=from_ms(r["created_ms"]),
        updated_at=from_ms(r["updated_ms"]),
        muted_until=_opt_dt(r["muted_until_ms"]),
        disabled_reason=r["disabled_reason"],
        disabled_at=_opt_dt(r["disabled_ms"]),
        last_alert_at=_opt_dt(r["last_alert_ms"]),
        alerts_sent=r["alerts_sent"],
    )


def _brief(r: dict[str, Any]) -> BriefRow:
    return BriefRow(
        guild_id=r["guild_id"],
        channel_id=r["channel_id"],
        local_time=r["local_time"],
        timezone=r["timezone"],
        next_due=from_ms(r["next_due_ms"]),
        last_sent=_opt_dt(r["last_sent_ms"]),
        created_by=r["created_by"],
        disabled_reason=r["disabled_reason"],
        disabled_at=_opt_dt(r["disabled_ms"]),
    )


class AlertTables(OutboxTables):
    """Mixed into :class:`bot.store.Store`: the alert tables over the writer connection."""

    conn: sqlite3.Connection
    lock: threading.RLock

    def _alert_rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        with self.lock:
            cur = self.conn.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _alert_write(self, sql: str, params: Sequence[Any] = ()) -> int:
        with self.lock, self.conn:
            return self.conn.execute(sql, params).rowcount

    # -- subscriptions -------------------------------------------------------------------------

    def save_alert_subscription(self, row: SubscriptionRow) -> None:
        """Create the channel's subscription or replace its settings (re-enabling it if it was
        disabled; mute and delivery counters are kept)."""
        self._alert_write(
            "INSERT INTO alert_subscriptions (guild_id, channel_id, coins, rules, thresholds, role_id, "
            "created_by, created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (guild_id, channel_id) DO UPDATE SET coins = excluded.coins, "
            "rules = excluded.rules, thresholds = excluded.thresholds, role_id = excluded.role_id, "
            "updated_ms = excluded.updated_ms, disabled_reason = NULL, disabled_ms = NULL",
            (
                row["guild_id"],
                row["channel_id"],
                json.dumps(row["coins"]),
                json.dumps(row["rules"]),
                json.dumps(row["thresholds"], sort_keys=True),
                row["role_id"],
                row["created_by"],
                to_ms(row["created_at"]),
                to_ms(row["updated_at"]),
            ),
        )

    def guild_alert_subscriptions(self, guild_id: int) -> list[SubscriptionRow]:
        rows = self._alert_rows(
            "SELECT * FROM alert_subscriptions WHERE guild_id = ? ORDER BY created_ms, channel_id",
            (guild_id,),
        )
        return [_subscription(r) for r in rows]

    def guild_alert_subscription(self, guild_id: int, channel_id: int) -> SubscriptionRow | None:
        rows = self._alert_rows(
            "SELECT * FROM alert_subscriptions WHERE guild_id = ? AND channel_id = ?",
            (guild_id, channel_id),
        )
        return _subscription(rows[0]) if rows else None

    def delete_alert_subscription(self, guild_id: int, channel_id: int) -> bool:
        """Remove the channel's subscription and its alert states."""
        with self.lock, self.conn:
            gone = self.conn.execute(
                "DELETE FROM alert_subscriptions WHERE guild_id = ? AND channel_id = ?",
                (guild_id, channel_id),
            ).rowcount
            self.conn.execute(
                "DELETE FROM alert_state WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
            )
        return gone > 0

    def set_alerts_muted(self, guild_id: int, channel_id: int | None, until: datetime | None) -> int:
        """Mute one channel's subscription (or all of the guild's) until ``until`` (None: unmute)."""
        if channel_id is None:
            return self._alert_write(
                "UPDATE alert_subscriptions SET muted_until_ms = ? WHERE guild_id = ?",
                (_opt_ms(until), guild_id),
            )
        return self._alert_write(
            "UPDATE alert_subscriptions SET muted_until_ms = ? WHERE guild_id = ? AND channel_id = ?",
            (_opt_ms(until), guild_id, channel_id),
        )

    def active_alert_subscriptions(self) -> list[SubscriptionRow]:
        """Every guild's enabled subscriptions (the engine's view; muted ones included)."""
        rows = self._alert_rows(
            "SELECT * FROM alert_subscriptions WHERE disabled_reason IS NULL ORDER BY guild_id, channel_id"
        )
        return [_subscription(r) for r in rows]

    def all_alert_subscriptions(self) -> list[SubscriptionRow]:
        """Every guild's subscriptions, disabled ones too (for the backtest)."""
        rows = self._alert_rows("SELECT * FROM alert_subscriptions ORDER BY guild_id, created_ms, channel_id")
        return [_subscription(r) for r in rows]

    def disable_alert_subscription(self, guild_id: int, channel_id: int, reason: str, at: datetime) -> None:
        self._alert_write(
            "UPDATE alert_subscriptions SET disabled_reason = ?, disabled_ms = ? "
            "WHERE guild_id = ? AND channel_id = ?",
            (reason[:300], to_ms(at), guild_id, channel_id),
        )

    def record_alert_delivery(self, guild_id: int, channel_id: int, at: datetime, alerts: int) -> None:
        self._alert_write(
            "UPDATE alert_subscriptions SET last_alert_ms = ?, alerts_sent = alerts_sent + ? "
            "WHERE guild_id = ? AND channel_id = ?",
            (to_ms(at), alerts, guild_id, channel_id),
        )

    # -- alert states --------------------------------------------------------------------------

    def load_alert_states(self, channel_ids: Iterable[int]) -> list[AlertStateRow]:
        ids = sorted(set(channel_ids))
        out: list[AlertStateRow] = []
        for k in range(0, len(ids), 500):
            chunk = ids[k : k + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._alert_rows(f"SELECT * FROM alert_state WHERE channel_id IN ({marks})", chunk)  # noqa: S608
            out.extend(
                AlertStateRow(
                    guild_id=r["guild_id"],
                    channel_id=r["channel_id"],
                    coin=r["coin"],
                    rule=r["rule"],
                    state=r["state"],
                    fired_at=_opt_dt(r["fired_ms"]),
                    rearmed=bool(r["rearmed"]),
                    score=r["score"],
                    updated_at=from_ms(r["updated_ms"]),
                )
                for r in rows
            )
        return out

    def save_alert_states(self, rows: Iterable[AlertStateRow], outbox: Sequence[OutboxRow] = ()) -> int:
        """Upsert alert states, and queue the messages they decided on, in one transaction."""
        params = [
            (
                r["guild_id"],
                r["channel_id"],
                r["coin"],
                r["rule"],
                r["state"],
                _opt_ms(r["fired_at"]),
                int(r["rearmed"]),
                r["score"],
                to_ms(r["updated_at"]) if r["updated_at"] else 0,
            )
            for r in rows
        ]
        if not params and not outbox:
            return 0
        with self.lock, self.conn:
            self._queue_rows(outbox)
            self.conn.executemany(
                "INSERT INTO alert_state (guild_id, channel_id, coin, rule, state, fired_ms, rearmed, score, "
                "updated_ms) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (channel_id, coin, rule) DO UPDATE SET "
                "state = excluded.state, fired_ms = excluded.fired_ms, rearmed = excluded.rearmed, "
                "score = excluded.score, updated_ms = excluded.updated_ms",
                params,
            )
        return len(params)

    # -- briefs --------------------------------------------------------------------------------

    def save_alert_brief(self, row: BriefRow) -> None:
        self._alert_write(
            "INSERT INTO alert_briefs (guild_id, channel_id, local_time, timezone, next_due_ms, created_by) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT (guild_id, channel_id) DO UPDATE SET "
            "local_time = excluded.local_time, timezone = excluded.timezone, "
            "next_due_ms = excluded.next_due_ms, disabled_reason = NULL, disabled_ms = NULL",
            (
                row["guild_id"],
                row["channel_id"],
                row["local_time"],
                row["timezone"],
                to_ms(row["next_due"]),
                row["created_by"],
            ),
        )

    def guild_alert_briefs(self, guild_id: int) -> list[BriefRow]:
        rows = self._alert_rows(
            "SELECT * FROM alert_briefs WHERE guild_id = ? ORDER BY channel_id", (guild_id,)
        )
        return [_brief(r) for r in rows]

    def delete_alert_brief(self, guild_id: int, channel_id: int) -> bool:
        return (
            self._alert_write(
                "DELETE FROM alert_briefs WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
            )
            > 0
        )

    def due_alert_briefs(self, now: datetime) -> list[BriefRow]:
        rows = self._alert_rows(
            "SELECT * FROM alert_briefs WHERE disabled_reason IS NULL AND next_due_ms <= ? ORDER BY next_due_ms",
            (to_ms(now),),
        )
        return [_brief(r) for r in rows]

    def advance_alert_brief(
        self,
        guild_id: int,
        channel_id: int,
        next_due: datetime,
        sent: datetime | None,
        outbox: Sequence[OutboxRow] = (),
    ) -> None:
        """Move the brief's next due time on, queueing its message (if sent) in the same
        transaction: a restart never posts it twice nor loses it."""
        with self.lock, self.conn:
            self._queue_rows(outbox)
            self.conn.execute(
                "UPDATE alert_briefs SET next_due_ms = ?, last_sent_ms = COALESCE(?, last_sent_ms) "
                "WHERE guild_id = ? AND channel_id = ?",
                (to_ms(next_due), _opt_ms(sent), guild_id, channel_id),
            )

    def disable_alert_brief(self, guild_id: int, channel_id: int, reason: str, at: datetime) -> None:
        self._alert_write(
            "UPDATE alert_briefs SET disabled_reason = ?, disabled_ms = ? WHERE guild_id = ? AND channel_id = ?",
            (reason[:300], to_ms(at), guild_id, channel_id),
        )
