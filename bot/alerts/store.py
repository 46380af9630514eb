"""Alert subscriptions, alert states and daily briefs in the store: the alerts' models to and
from the typed rows of :class:`bot.store.alerts.AlertTables` (the SQL lives there).

Every function a command reaches is keyed by ``guild_id``: one server never reads or changes
another's rows. The engine's functions (``active_subscriptions``, ``load_states``…) work across
guilds by design, and write back only rows they read.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import cast

from bot.alerts.config import RULES, RuleName
from bot.alerts.models import AlertState, Brief, ChannelTaken, StateKey, StateName, Subscription
from bot.store import Store
from bot.store.alerts import AlertStateRow, BriefRow, SubscriptionRow
from bot.store.outbox import OutboxRow

# -- subscriptions -----------------------------------------------------------------------------


def _subscription(r: SubscriptionRow) -> Subscription:
    return Subscription(
        guild_id=r["guild_id"],
        channel_id=r["channel_id"],
        coins=tuple(r["coins"]),
        rules=tuple(x for x in RULES if x in r["rules"]),
        thresholds=r["thresholds"],
        role_id=r["role_id"],
        created_by=r["created_by"],
        created_at=r["created_at"],
        updated_at=r["updated_at"],
        muted_until=r["muted_until"],
        disabled_reason=r["disabled_reason"],
        disabled_at=r["disabled_at"],
        last_alert_at=r["last_alert_at"],
        alerts_sent=r["alerts_sent"],
    )


def save_subscription(store: Store, sub: Subscription) -> None:
    """Create the channel's subscription or replace its settings (re-enabling it if it was
    disabled; mute and delivery counters are kept)."""
    row = SubscriptionRow(
        guild_id=sub.guild_id,
        channel_id=sub.channel_id,
        coins=list(sub.coins),
        rules=list(sub.rules),
        thresholds=sub.thresholds,
        role_id=sub.role_id,
        created_by=sub.created_by,
        created_at=sub.created_at,
        updated_at=sub.updated_at,
        muted_until=sub.muted_until,
        disabled_reason=sub.disabled_reason,
        disabled_at=sub.disabled_at,
        last_alert_at=sub.last_alert_at,
        alerts_sent=sub.alerts_sent,
    )
    try:
        store.save_alert_subscription(row)
    except sqlite3.IntegrityError:
        raise ChannelTaken(f"channel {sub.channel_id} is subscribed by another server") from None


def guild_subscriptions(store: Store, guild_id: int) -> list[Subscription]:
    return [_subscription(r) for r in store.guild_alert_subscriptions(guild_id)]


def guild_subscription(store: Store, guild_id: int, channel_id: int) -> Subscription | None:
    row = store.guild_alert_subscription(guild_id, channel_id)
    return _subscription(row) if row is not None else None


def delete_subscription(store: Store, guild_id: int, channel_id: int) -> bool:
    """Remove the channel's subscription and its alert states."""
    return store.delete_alert_subscription(guild_id, channel_id)


def set_muted(store: Store, guild_id: int, channel_id: int | None, until: datetime | None) -> int:
    """Mute one channel's subscription (or all of the guild's) until ``until`` (None: unmute)."""
    return store.set_alerts_muted(guild_id, channel_id, until)


def active_subscriptions(store: Store) -> list[Subscription]:
    """Every guild's enabled subscriptions (the engine's view; muted ones included)."""
    return [_subscription(r) for r in store.active_alert_subscriptions()]


def all_subscriptions(store: Store) -> list[Subscription]:
    """Every guild's subscriptions, disabled ones too (for the backtest)."""
    return [_subscription(r) for r in store.all_alert_subscriptions()]


def disable_subscription(store: Store, guild_id: int, channel_id: int, reason: str, at: datetime) -> None:
    store.disable_alert_subscription(guild_id, channel_id, reason, at)


def record_delivery(store: Store, guild_id: int, channel_id: int, at: datetime, alerts: int) -> None:
    store.record_alert_delivery(guild_id, channel_id, at, alerts)


# -- alert states ------------------------------------------------------------------------------


def load_states(store: Store, channel_ids: Iterable[int]) -> dict[StateKey, AlertState]:
    return {
        (r["channel_id"], r["coin"], cast(RuleName, r["rule"])): AlertState(
            state=cast(StateName, r["state"]),
            fired_at=r["fired_at"],
            rearmed=r["rearmed"],
            score=r["score"],
            updated_at=r["updated_at"],
        )
        for r in store.load_alert_states(channel_ids)
    }


def save_states(
    store: Store, rows: Iterable[tuple[int, StateKey, AlertState]], outbox: Sequence[OutboxRow] = ()
) -> int:
    """Upsert ``(guild_id, (channel, coin, rule), state)`` rows, and queue the messages they
    decided on, in one transaction."""
    return store.save_alert_states(
        [
            AlertStateRow(
                guild_id=guild_id,
                channel_id=channel_id,
                coin=coin,
                rule=rule,
                state=s.state,
                fired_at=s.fired_at,
                rearmed=s.rearmed,
                score=s.score,
                updated_at=s.updated_at,
            )
            for guild_id, (channel_id, coin, rule), s in rows
        ],
        outbox,
    )


# -- briefs ------------------------------------------------------------------------------------


def _brief(r: BriefRow) -> Brief:
    return Brief(**r)


def save_brief(store: Store, brief: Brief) -> None:
    try:
        store.save_alert_brief(
            BriefRow(
                guild_id=brief.guild_id,
                channel_id=brief.channel_id,
                local_time=brief.local_time,
                timezone=brief.timezone,
                next_due=brief.next_due,
                last_sent=brief.last_sent,
                created_by=brief.created_by,
                disabled_reason=brief.disabled_reason,
                disabled_at=brief.disabled_at,
            )
        )
    except sqlite3.IntegrityError:
        raise ChannelTaken(f"channel {brief.channel_id} is used by another server") from None


def guild_briefs(store: Store, guild_id: int) -> list[Brief]:
    return [_brief(r) for r in store.guild_alert_briefs(guild_id)]


def delete_brief(store: Store, guild_id: int, channel_id: int) -> bool:
    return store.delete_alert_brief(guild_id, channel_id)


def due_briefs(store: Store, now: datetime) -> list[Brief]:
    return [_brief(r) for r in store.due_alert_briefs(now)]


def advance_brief(
    store: Store,
    guild_id: int,
    channel_id: int,
    next_due: datetime,
    sent: datetime | None,
    outbox: OutboxRow | None = None,
) -> None:
    store.advance_alert_brief(guild_id, channel_id, next_due, sent, [outbox] if outbox else [])


def disable_brief(store: Store, guild_id: int, channel_id: int, reason: str, at: datetime) -> None:
    store.disable_alert_brief(guild_id, channel_id, reason, at)
