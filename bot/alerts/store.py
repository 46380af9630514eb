"""Persistence of alert subscriptions, alert states and daily briefs, over the store's own
connection and lock (tables from schema migration 4).

Every function a command reaches is keyed by ``guild_id``: one server never reads or changes
another's rows. The engine's functions (``active_subscriptions``, ``load_states``…) work across
guilds by design, and write back only rows they read.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from bot.alerts.config import RULES
from bot.alerts.models import (
    AlertState,
    Brief,
    ChannelTaken,
    StateKey,
    Subscription,
)
from bot.clock import from_ms, to_ms
from bot.store import Store


def _opt_ms(dt: datetime | None) -> int | None:
    return None if dt is None else to_ms(dt)


def _opt_dt(ms: int | None) -> datetime | None:
    return None if ms is None else from_ms(ms)


def _rows(store: Store, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    with store.lock:
        cur = store.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def _write(store: Store, sql: str, params: Sequence[Any] = ()) -> int:
    with store.lock, store.conn:
        return store.conn.execute(sql, params).rowcount


# -- subscriptions -----------------------------------------------------------------------------


def _subscription(r: dict[str, Any]) -> Subscription:
    return Subscription(
        guild_id=r["guild_id"],
        channel_id=r["channel_id"],
        coins=tuple(json.loads(r["coins"])),
        rules=tuple(x for x in RULES if x in json.loads(r["rules"])),
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


def save_subscription(store: Store, sub: Subscription) -> None:
    """Create the channel's subscription or replace its settings (re-enabling it if it was
    disabled; mute and delivery counters are kept)."""
    try:
        _write(
            store,
            "INSERT INTO alert_subscriptions (guild_id, channel_id, coins, rules, thresholds, role_id, "
            "created_by, created_ms, updated_ms) VALUES (?,?,?,?,?,?,?,?,?) "
            "ON CONFLICT (guild_id, channel_id) DO UPDATE SET coins = excluded.coins, "
            "rules = excluded.rules, thresholds = excluded.thresholds, role_id = excluded.role_id, "
            "updated_ms = excluded.updated_ms, disabled_reason = NULL, disabled_ms = NULL",
            (
                sub.guild_id,
                sub.channel_id,
                json.dumps(list(sub.coins)),
                json.dumps(list(sub.rules)),
                json.dumps(sub.thresholds, sort_keys=True),
                sub.role_id,
                sub.created_by,
                to_ms(sub.created_at),
                to_ms(sub.updated_at),
            ),
        )
    except sqlite3.IntegrityError:
        raise ChannelTaken(f"channel {sub.channel_id} is subscribed by another server") from None


def guild_subscriptions(store: Store, guild_id: int) -> list[Subscription]:
    rows = _rows(
        store,
        "SELECT * FROM alert_subscriptions WHERE guild_id = ? ORDER BY created_ms, channel_id",
        (guild_id,),
    )
    return [_subscription(r) for r in rows]


def guild_subscription(store: Store, guild_id: int, channel_id: int) -> Subscription | None:
    rows = _rows(
        store,
        "SELECT * FROM alert_subscriptions WHERE guild_id = ? AND channel_id = ?",
        (guild_id, channel_id),
    )
    return _subscription(rows[0]) if rows else None


def delete_subscription(store: Store, guild_id: int, channel_id: int) -> bool:
    """Remove the channel's subscription and its alert states."""
    with store.lock, store.conn:
        gone = store.conn.execute(
            "DELETE FROM alert_subscriptions WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
        ).rowcount
        store.conn.execute(
            "DELETE FROM alert_state WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
        )
    return gone > 0


def set_muted(store: Store, guild_id: int, channel_id: int | None, until: datetime | None) -> int:
    """Mute one channel's subscription (or all of the guild's) until ``until`` (None: unmute)."""
    if channel_id is None:
        return _write(
            store,
            "UPDATE alert_subscriptions SET muted_until_ms = ? WHERE guild_id = ?",
            (_opt_ms(until), guild_id),
        )
    return _write(
        store,
        "UPDATE alert_subscriptions SET muted_until_ms = ? WHERE guild_id = ? AND channel_id = ?",
        (_opt_ms(until), guild_id, channel_id),
    )


def active_subscriptions(store: Store) -> list[Subscription]:
    """Every guild's enabled subscriptions (the engine's view; muted ones included)."""
    rows = _rows(
        store, "SELECT * FROM alert_subscriptions WHERE disabled_reason IS NULL ORDER BY guild_id, channel_id"
    )
    return [_subscription(r) for r in rows]


def all_subscriptions(store: Store) -> list[Subscription]:
    """Every guild's subscriptions, disabled ones too (for the backtest)."""
    rows = _rows(store, "SELECT * FROM alert_subscriptions ORDER BY guild_id, created_ms, channel_id")
    return [_subscription(r) for r in rows]


def disable_subscription(store: Store, guild_id: int, channel_id: int, reason: str, at: datetime) -> None:
    _write(
        store,
        "UPDATE alert_subscriptions SET disabled_reason = ?, disabled_ms = ? WHERE guild_id = ? AND channel_id = ?",
        (reason[:300], to_ms(at), guild_id, channel_id),
    )


def record_delivery(store: Store, guild_id: int, channel_id: int, at: datetime, alerts: int) -> None:
    _write(
        store,
        "UPDATE alert_subscriptions SET last_alert_ms = ?, alerts_sent = alerts_sent + ? "
        "WHERE guild_id = ? AND channel_id = ?",
        (to_ms(at), alerts, guild_id, channel_id),
    )


# -- alert states ------------------------------------------------------------------------------


def load_states(store: Store, channel_ids: Iterable[int]) -> dict[StateKey, AlertState]:
    ids = sorted(set(channel_ids))
    out: dict[StateKey, AlertState] = {}
    for k in range(0, len(ids), 500):
        chunk = ids[k : k + 500]
        marks = ",".join("?" * len(chunk))
        rows = _rows(store, f"SELECT * FROM alert_state WHERE channel_id IN ({marks})", chunk)  # noqa: S608
        for r in rows:
            out[(r["channel_id"], r["coin"], r["rule"])] = AlertState(
                state=r["state"],
                fired_at=_opt_dt(r["fired_ms"]),
                rearmed=bool(r["rearmed"]),
                score=r["score"],
                updated_at=from_ms(r["updated_ms"]),
            )
    return out


def save_states(store: Store, rows: Iterable[tuple[int, StateKey, AlertState]]) -> int:
    """Upsert ``(guild_id, (channel, coin, rule), state)`` rows in one transaction."""
    params = [
        (
            guild_id,
            channel_id,
            coin,
            rule,
            s.state,
            _opt_ms(s.fired_at),
            int(s.rearmed),
            s.score,
            to_ms(s.updated_at) if s.updated_at else 0,
        )
        for guild_id, (channel_id, coin, rule), s in rows
    ]
    if not params:
        return 0
    with store.lock, store.conn:
        store.conn.executemany(
            "INSERT INTO alert_state (guild_id, channel_id, coin, rule, state, fired_ms, rearmed, score, "
            "updated_ms) VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (channel_id, coin, rule) DO UPDATE SET "
            "state = excluded.state, fired_ms = excluded.fired_ms, rearmed = excluded.rearmed, "
            "score = excluded.score, updated_ms = excluded.updated_ms",
            params,
        )
    return len(params)


# -- briefs ------------------------------------------------------------------------------------


def _brief(r: dict[str, Any]) -> Brief:
    return Brief(
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


def save_brief(store: Store, brief: Brief) -> None:
    try:
        _write(
            store,
            "INSERT INTO alert_briefs (guild_id, channel_id, local_time, timezone, next_due_ms, created_by) "
            "VALUES (?,?,?,?,?,?) ON CONFLICT (guild_id, channel_id) DO UPDATE SET "
            "local_time = excluded.local_time, timezone = excluded.timezone, "
            "next_due_ms = excluded.next_due_ms, disabled_reason = NULL, disabled_ms = NULL",
            (
                brief.guild_id,
                brief.channel_id,
                brief.local_time,
                brief.timezone,
                to_ms(brief.next_due),
                brief.created_by,
            ),
        )
    except sqlite3.IntegrityError:
        raise ChannelTaken(f"channel {brief.channel_id} is used by another server") from None


def guild_briefs(store: Store, guild_id: int) -> list[Brief]:
    rows = _rows(store, "SELECT * FROM alert_briefs WHERE guild_id = ? ORDER BY channel_id", (guild_id,))
    return [_brief(r) for r in rows]


def delete_brief(store: Store, guild_id: int, channel_id: int) -> bool:
    return (
        _write(
            store, "DELETE FROM alert_briefs WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
        )
        > 0
    )


def due_briefs(store: Store, now: datetime) -> list[Brief]:
    rows = _rows(
        store,
        "SELECT * FROM alert_briefs WHERE disabled_reason IS NULL AND next_due_ms <= ? ORDER BY next_due_ms",
        (to_ms(now),),
    )
    return [_brief(r) for r in rows]


def advance_brief(
    store: Store, guild_id: int, channel_id: int, next_due: datetime, sent: datetime | None
) -> None:
    _write(
        store,
        "UPDATE alert_briefs SET next_due_ms = ?, last_sent_ms = COALESCE(?, last_sent_ms) "
        "WHERE guild_id = ? AND channel_id = ?",
        (to_ms(next_due), _opt_ms(sent), guild_id, channel_id),
    )


def disable_brief(store: Store, guild_id: int, channel_id: int, reason: str, at: datetime) -> None:
    _write(
        store,
        "UPDATE alert_briefs SET disabled_reason = ?, disabled_ms = ? WHERE guild_id = ? AND channel_id = ?",
        (reason[:300], to_ms(at), guild_id, channel_id),
    )
