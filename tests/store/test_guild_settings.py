"""The guild_settings table (migration 9): per guild, partial updates, NULL = the default."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.store import Store
from bot.store.schema import MIGRATIONS, migrate

T0 = datetime(2026, 12, 5, 12, 0, tzinfo=UTC)
A, B = 111, 222


def test_each_guild_reads_and_writes_only_its_row(db: str) -> None:
    store = Store(db)
    assert store.guild_settings(A) is None
    store.set_guild_settings(A, {"shortlist": ["ETH", "SOL"], "default_window": "4h"}, T0, 7)
    store.set_guild_settings(B, {"alert_thresholds": {"move_24h_pct": 8.0}}, T0, 8)
    store.set_guild_settings(A, {"default_window": "7d"}, T0 + timedelta(minutes=1), 9)  # partial update
    a, b = store.guild_settings(A), store.guild_settings(B)
    assert a is not None
    assert b is not None
    assert (a["shortlist"], a["default_window"], a["alert_thresholds"]) == (["ETH", "SOL"], "7d", None)
    assert (a["updated_at"], a["updated_by"]) == (T0 + timedelta(minutes=1), 9)
    assert (b["shortlist"], b["default_window"], b["alert_thresholds"]) == (None, None, {"move_24h_pct": 8.0})
    store.set_guild_settings(A, {"shortlist": None}, T0, 9)  # back to the default
    again = store.guild_settings(A)
    assert again is not None
    assert again["shortlist"] is None
    assert store.delete_guild_settings(B)
    assert store.guild_settings(B) is None
    assert store.guild_settings(A) is not None
    store.close()


def test_only_known_settings_can_be_written(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.db")
    with pytest.raises(ValueError, match="unknown guild setting"):
        store.set_guild_settings(A, {"guild_id = 0; --": "x"}, T0, None)
    store.close()


def test_a_store_of_the_previous_version_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    for statement in ";".join(MIGRATIONS[:8]).split(";"):
        if statement.strip():
            conn.execute(statement)
    conn.execute("PRAGMA user_version = 8")
    conn.commit()
    assert migrate(conn) == 8
    conn.execute("INSERT INTO guild_settings (guild_id, updated_ms) VALUES (1, 0)")
    conn.close()
