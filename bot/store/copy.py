"""Moving a whole store to another backend (``tapewatch migrate-store``): every table's rows,
as they are, in one transaction of the target.

Both stores are opened by this build, so both are at the same schema version with the same
tables; rows are streamed table by table in chunks (a store of millions of liquidations never
sits in memory at once). A target that already holds anything is refused unless ``replace``,
which empties it in the same transaction: a failure part-way leaves the target as it was.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from typing import Any

from bot.store.db import Store
from bot.store.pg_schema import META

CHUNK = 5_000


class TargetNotEmpty(Exception):
    """The target store holds rows and ``replace`` was not asked for."""


@dataclass
class CopyReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def total(self) -> int:
        return sum(self.rows.values())


def store_tables(store: Store) -> list[str]:
    """The store's own tables (the schema's; bookkeeping of either backend left out)."""
    if store.backend == "postgresql":
        rows = store._rows(
            "SELECT table_name AS name FROM information_schema.tables "
            "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name"
        )
    else:
        rows = store._rows(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    return [r["name"] for r in rows if r["name"] != META]


def _columns(store: Store, table: str) -> list[str]:
    with store.lock:
        cur = store.conn.execute(f"SELECT * FROM {table} LIMIT 0")  # noqa: S608
        return [d[0] for d in cur.description or ()]


def iter_rows(store: Store, table: str, columns: list[str]) -> Iterator[list[tuple[Any, ...]]]:
    """The table's rows in chunks, read on a connection of their own (one consistent read)."""
    select = f"SELECT {', '.join(columns)} FROM {table}"  # noqa: S608
    if store._pg is None:
        with closing(sqlite3.connect(f"file:{store.path}?mode=ro", uri=True)) as conn:
            cur = conn.execute(select)
            while chunk := cur.fetchmany(CHUNK):
                yield chunk
        return
    with store._pg.raw_reader() as pg, pg.transaction(), pg.cursor(name=f"copy_{table}") as named:
        named.execute(store._pg.translate(select), ())
        while rows := named.fetchmany(CHUNK):
            yield rows


def copy_store(source: Store, target: Store, *, replace: bool = False) -> CopyReport:
    """Every row of ``source`` into ``target``, in one transaction of the target."""
    started = time.monotonic()
    report = CopyReport()
    tables = store_tables(source)
    missing = sorted(set(tables) - set(store_tables(target)))
    if missing:
        raise ValueError(f"the target store has no table {', '.join(missing)}")
    with target.batch():
        held = [t for t in tables if target._rows(f"SELECT 1 FROM {t} LIMIT 1")]  # noqa: S608
        if held and not replace:
            raise TargetNotEmpty(
                f"store {target.where} already holds data ({', '.join(held)}): "
                "pass --replace to empty it first (in the same transaction), or choose another target"
            )
        for table in tables:
            target.conn.execute(f"DELETE FROM {table}")  # noqa: S608
        for table in tables:
            columns = _columns(source, table)
            insert = (
                f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608
                f"VALUES ({', '.join('?' * len(columns))})"
            )
            count = 0
            for chunk in iter_rows(source, table, columns):
                if target._pg is not None:
                    target._pg.writer.copy_rows(table, columns, chunk)
                else:
                    target.conn.executemany(insert, chunk)
                count += len(chunk)
            report.rows[table] = count
        if target._pg is not None:
            target._pg.writer.sync_identities()
    if target._pg is not None:
        target.conn.execute("ANALYZE")  # planner statistics for the rows just copied in
    report.seconds = time.monotonic() - started
    return report
