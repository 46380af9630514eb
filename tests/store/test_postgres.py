"""What only the PostgreSQL backend has to prove: opening (concurrent first opens, a foreign or
newer database refused untouched, one line without the password when the server is not
there), the schema migrated from the one list, and the sqlite3 error classes kept."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from bot.store import Store
from bot.store.alerts import SubscriptionRow
from bot.store.open import StoreError
from bot.store.pg import redact
from bot.store.pg_schema import META, SCHEMA_ROW
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION
from tests.helpers import subscription_row

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

pytestmark = pytest.mark.parametrize("store_backend", ["postgresql"])


def test_concurrent_first_opens_all_succeed(new_db: Callable[[], str]) -> None:
    """Processes opening the same new database at the same instant all succeed; the advisory
    lock lets one create the schema and the others find it made."""
    url = new_db()
    start = time.time() + 2.0
    code = (
        "import sys, time\n"
        "from bot.store import Store\n"
        "time.sleep(max(0, float(sys.argv[2]) - time.time()))\n"
        "Store(sys.argv[1]).close()\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, url, str(start)], cwd=ROOT, stderr=subprocess.PIPE, text=True
        )
        for _ in range(8)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), errors
    with psycopg.connect(url) as conn:
        assert conn.execute(f"SELECT n FROM {META} WHERE name = %s", (SCHEMA_ROW,)).fetchone() == (
            SCHEMA_VERSION,
        )


def test_a_foreign_database_is_refused_untouched(new_db: Callable[[], str]) -> None:
    url = new_db()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE notes (body text)")
    with pytest.raises(StoreError, match="not a Tapewatch store"):
        Store(url)
    with psycopg.connect(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert [r[0] for r in tables] == ["notes"]


def test_a_newer_schema_is_refused(new_db: Callable[[], str]) -> None:
    url = new_db()
    Store(url).close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"UPDATE {META} SET n = n + 1 WHERE name = %s", (SCHEMA_ROW,))
    with pytest.raises(StoreError, match="newer than this build"):
        Store(url)


def test_no_server_is_one_line_without_the_password(new_db: Callable[[], str]) -> None:
    with pytest.raises(StoreError) as refused:
        Store("postgresql://bot:hunter2@127.0.0.1:1/tapewatch")
    message = str(refused.value)
    assert "hunter2" not in message
    assert "\n" not in message
    assert message.startswith("store postgresql://bot:***@127.0.0.1:1/tapewatch: cannot connect")
    assert redact("postgresql://h/db?password=hunter2&sslmode=require") == (
        "postgresql://h/db?password=***&sslmode=require"
    )


def test_the_schema_is_every_migration_translated(new_db: Callable[[], str]) -> None:
    """Tables with their keys, as SQLite's: a table per CREATE TABLE of the one list."""
    store = Store(new_db())
    created = {
        word.split("(")[0].strip().split()[-1]
        for script in MIGRATIONS
        for word in script.split("CREATE TABLE")[1:]
    }
    catalog = store._pg.translate.catalog if store._pg else None
    assert catalog is not None
    assert created <= set(catalog.columns)
    assert catalog.primary_keys["liq_minute"] == ["coin", "minute_ms", "side", "venue"]
    assert catalog.identity == {"watches": "id", "alert_outbox": "id"}
    store.close()


def test_a_channel_another_guild_holds_is_an_integrity_error(db: str) -> None:
    store = Store(db)

    def sub(guild: int) -> SubscriptionRow:
        return subscription_row(guild, 99, T0)

    store.save_alert_subscription(sub(1))
    with pytest.raises(sqlite3.IntegrityError):
        store.save_alert_subscription(sub(2))
    assert [s["guild_id"] for s in store.active_alert_subscriptions()] == [1]  # nothing changed
    store.close()


def test_a_dropped_connection_fails_one_write_then_reconnects(new_db: Callable[[], str]) -> None:
    """The server dropping the writer (a restart, a failover): the write that finds out fails
    as an ``sqlite3.OperationalError`` (what the collectors already catch), the next one
    reconnects; reads come from the pool and never notice."""
    url = new_db()
    store = Store(url)
    store.record_success("okx", T0)
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    with pytest.raises(sqlite3.OperationalError):
        store.record_failure("okx", T0, "timeout")
    store.record_failure("okx", T0, "timeout")
    store.insert_liquidations([])
    [health] = store.source_health()
    assert health.consecutive_failures == 1
    store.close()
