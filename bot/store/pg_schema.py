"""The PostgreSQL store's schema: the one list of migrations (:mod:`bot.store.schema`), each
statement translated (:mod:`bot.store.dialect`), applied under an advisory lock; the schema
version and the data-version counters kept in a table of their own (``tapewatch_meta``) instead
of SQLite's PRAGMAs; and the catalog the translation reads (keys, columns, identities)."""

from __future__ import annotations

from typing import Any

import psycopg

from bot.store.dialect import Catalog, Translator, split_statements
from bot.store.schema import MIGRATIONS, SCHEMA_VERSION

META = "tapewatch_meta"
SCHEMA_ROW = "schema"
OTHER_ROW = "data:other"
LIQ_ROW = "data:liquidations"
# pg_advisory_xact_lock key held around each migration step (any 64-bit number unique to us)
MIGRATE_LOCK = 0x7461_7065_7761_7463  # "tapewatc"


class StoreOpenError(Exception):
    """A PostgreSQL store that cannot be opened; the message is one line, password hidden."""


def load_catalog(conn: psycopg.Connection[Any]) -> Catalog:
    catalog = Catalog()
    for table, column, nullable, identity in conn.execute(
        "SELECT table_name, column_name, is_nullable, is_identity FROM information_schema.columns "
        "WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position"
    ):
        catalog.columns.setdefault(table, []).append(column)
        if nullable == "YES":
            catalog.nullable.add(column)
        if identity == "YES":
            catalog.identity[table] = column
    for table, column in conn.execute(
        "SELECT tc.table_name, k.column_name FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage k ON k.constraint_schema = tc.constraint_schema "
        "AND k.constraint_name = tc.constraint_name AND k.table_name = tc.table_name "
        "WHERE tc.constraint_type = 'PRIMARY KEY' AND tc.table_schema = current_schema() "
        "ORDER BY tc.table_name, k.ordinal_position"
    ):
        catalog.primary_keys.setdefault(table, []).append(column)
    return catalog


def _tables(conn: psycopg.Connection[Any]) -> set[str]:
    return {
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
        )
    }


def _schema_version(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute(f"SELECT n FROM {META} WHERE name = %s", (SCHEMA_ROW,)).fetchone()  # noqa: S608
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection[Any], where: str) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION` with the same migrations as SQLite, each
    translated; returns the version found before. Each step holds a transaction-scoped
    advisory lock and re-reads the version inside it, so processes opening a new database at
    once never both create the tables."""
    tables = _tables(conn)
    if META not in tables and tables:
        raise StoreOpenError(
            f"store {where}: a PostgreSQL database that is not a Tapewatch store "
            f"({len(tables)} tables); refusing to change it"
        )
    found = _schema_version(conn) if META in tables else 0
    if found > SCHEMA_VERSION:
        raise StoreOpenError(
            f"store {where}: schema v{found} is newer than this build knows (v{SCHEMA_VERSION}); "
            "upgrade tapewatch or point --db elsewhere"
        )
    version = found
    translate = Translator(load_catalog(conn))
    while version < SCHEMA_VERSION:
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
            conn.execute(f"CREATE TABLE IF NOT EXISTS {META} (name TEXT PRIMARY KEY, n BIGINT NOT NULL)")
            conn.execute(
                f"INSERT INTO {META} (name, n) VALUES (%s, 0), (%s, 0), (%s, 0) "  # noqa: S608
                "ON CONFLICT DO NOTHING",
                (SCHEMA_ROW, OTHER_ROW, LIQ_ROW),
            )
            version = _schema_version(conn)
            if version >= SCHEMA_VERSION:
                break
            for statement in split_statements(MIGRATIONS[version]):
                conn.execute(translate(statement, returning=False), ())
            conn.execute(f"UPDATE {META} SET n = %s WHERE name = %s", (version + 1, SCHEMA_ROW))  # noqa: S608
            translate.reset(load_catalog(conn))  # later steps may alter what this one made
        version += 1
    return found
