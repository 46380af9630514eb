"""The PostgreSQL backend: a writer connection that behaves like the ``sqlite3`` one the store
is written against, a pool of autocommit readers and the data version (the schema and its
migrations: :mod:`bot.store.pg_schema`).

The store's SQL is SQLite's; every statement goes through :mod:`bot.store.dialect` on its way
to the server. The writer mimics ``sqlite3``'s transaction handling (a transaction opens
implicitly before INSERT/UPDATE/DELETE, ``with conn:`` commits or rolls back, ``BEGIN
IMMEDIATE`` opens one explicitly) so the store's methods run unchanged on both backends; errors
come out as ``sqlite3``'s classes (subclassed here, with the server's message), which is the
store's interface for both.

The data version is a row per kind in ``tapewatch_meta``, bumped inside each write transaction
just before its COMMIT: a reader in any process sees the new count exactly when it sees the
data (a sequence would move before the commit and let a cache keep a stale answer).
"""

from __future__ import annotations

import re
import sqlite3
import threading
import weakref
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.adapt import Loader
from psycopg_pool import ConnectionPool

from bot.settings import is_database_url, redact_url
from bot.store.dialect import Translator, split_statements
from bot.store.pg_schema import LIQ_ROW, META, OTHER_ROW, StoreOpenError, load_catalog, migrate
from bot.store.version import CommitCounts

POOL_MAX = 8
CONNECT_TIMEOUT_S = 10
_DML = frozenset({"INSERT", "UPDATE", "DELETE", "REPLACE"})

# The liquidation ingest's staging (see Store.insert_liquidations), PostgreSQL's own: a batch
# arrives by COPY (no per-row statement), numbered, and the first occurrence of each id is
# kept. ON COMMIT DELETE ROWS empties both at every commit in place: no DELETE, no dead rows in
# tables autovacuum never visits.
_STAGE_COLUMNS = ("venue", "event_id", "coin", "side", "price", "qty", "usd", "ts_ms", "minute_ms")
_PG_STAGE = (
    'CREATE TEMP TABLE IF NOT EXISTS liq_stage (venue TEXT COLLATE "C" NOT NULL, '
    'event_id TEXT COLLATE "C" NOT NULL, coin TEXT COLLATE "C" NOT NULL, side TEXT COLLATE "C" NOT NULL, '
    "price DOUBLE PRECISION NOT NULL, qty DOUBLE PRECISION NOT NULL, usd DOUBLE PRECISION NOT NULL, "
    "ts_ms BIGINT NOT NULL, minute_ms BIGINT NOT NULL, PRIMARY KEY (venue, event_id)) ON COMMIT DELETE ROWS",
    'CREATE TEMP TABLE IF NOT EXISTS liq_stage_in (n INTEGER NOT NULL, venue TEXT COLLATE "C" NOT NULL, '
    'event_id TEXT COLLATE "C" NOT NULL, coin TEXT NOT NULL, side TEXT NOT NULL, price DOUBLE PRECISION NOT NULL, '
    "qty DOUBLE PRECISION NOT NULL, usd DOUBLE PRECISION NOT NULL, ts_ms BIGINT NOT NULL, "
    "minute_ms BIGINT NOT NULL) ON COMMIT DELETE ROWS",
)
_PG_STAGE_KEEP_FIRST = (
    f"INSERT INTO liq_stage ({', '.join(_STAGE_COLUMNS)}) SELECT DISTINCT ON (venue, event_id) "  # noqa: S608
    f"{', '.join(_STAGE_COLUMNS)} FROM liq_stage_in ORDER BY venue, event_id, n"
)


class PgIntegrityError(sqlite3.IntegrityError):
    """A constraint refused the write (PostgreSQL's message)."""


class PgOperationalError(sqlite3.OperationalError):
    """Any other server error (PostgreSQL's message)."""


def is_postgres(target: object) -> bool:
    return is_database_url(target)


def redact(url: str) -> str:
    """The URL without its password (``user:***@``, ``password=***``): safe to log or print."""
    return redact_url(url)


def _mapped(exc: psycopg.Error) -> sqlite3.Error:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, psycopg.IntegrityError):
        return PgIntegrityError(text)
    return PgOperationalError(text)


class _Numeric(Loader):
    """NUMERIC (what PostgreSQL makes of SUM/AVG over BIGINT) as SQLite answers it: an int when
    whole, else a float, never a Decimal."""

    def load(self, data: Any) -> int | float:
        raw = bytes(data)
        try:
            return int(raw)
        except ValueError:
            return float(raw)


def configure_connection(conn: psycopg.Connection[Any]) -> None:
    """Every connection of the store: NUMERIC read as SQLite answers it."""
    conn.adapters.register_loader("numeric", _Numeric)


class PgCursor:
    """What the store reads from a ``sqlite3`` cursor: rows, description, rowcount, lastrowid."""

    def __init__(self, cur: psycopg.Cursor[Any] | None, lastrowid: int | None = None) -> None:
        self._cur = cur
        self.rowcount = cur.rowcount if cur is not None else -1
        self.lastrowid = lastrowid
        self.description = cur.description if cur is not None and cur.description else None

    def fetchone(self) -> Any:
        return self._cur.fetchone() if self._cur is not None and self.description else None

    def fetchall(self) -> list[Any]:
        return self._cur.fetchall() if self._cur is not None and self.description else []

    def __iter__(self) -> Iterator[Any]:
        return iter(self.fetchall())


def _first_word(sql: str) -> str:
    m = re.match(r"\s*([A-Za-z]+)", sql)
    return m.group(1).upper() if m else ""


class PgConnection(CommitCounts):
    """The writer: ``sqlite3.Connection``'s surface over one autocommit psycopg connection."""

    def __init__(
        self,
        raw: psycopg.Connection[Any],
        translate: Translator,
        reconnect: Callable[[], psycopg.Connection[Any]] | None = None,
    ) -> None:
        self.raw = raw
        self._reconnect = reconnect
        self.translate = translate
        self.in_transaction = False
        self.total_changes = 0
        CommitCounts.__init__(self)  # this process's commits, as store.version counts them

    # -- transactions, as sqlite3 does them ----------------------------------------------------

    def _alive(self) -> None:
        """A connection the server dropped (a restart, a failover) is replaced before the next
        statement outside a transaction; the write that found it broken failed, as it would
        on SQLite's full disk, and the caller's next cycle retries."""
        if self.raw.broken and not self.in_transaction and self._reconnect is not None:
            self.raw.close()
            self.raw = self._reconnect()
            self.create_stage()

    def _begin(self) -> None:
        self._alive()
        try:
            self.raw.execute("BEGIN")
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        self.in_transaction = True

    def commit(self) -> None:
        if not self.in_transaction:
            return
        row = LIQ_ROW if self.liquidations else OTHER_ROW
        try:
            if not self.quiet:
                self.raw.execute(f"UPDATE {META} SET n = n + 1 WHERE name = %s", (row,))  # noqa: S608
            self.raw.execute("COMMIT")
        except psycopg.Error as exc:
            self.rollback()
            raise _mapped(exc) from exc
        self.in_transaction = False
        self._count()

    def rollback(self) -> None:
        if self.in_transaction:
            self.in_transaction = False
            if not self.raw.broken:
                self.raw.execute("ROLLBACK")

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.rollback()

    # -- statements ----------------------------------------------------------------------------

    def execute(self, sql: str, params: Sequence[Any] = ()) -> PgCursor:
        word = _first_word(sql)
        if word == "BEGIN":
            if not self.in_transaction:
                self._begin()
            return PgCursor(None)
        if word in ("COMMIT", "END"):
            self.commit()
            return PgCursor(None)
        if word == "ROLLBACK":
            self.rollback()
            return PgCursor(None)
        if word == "PRAGMA":
            raise PgOperationalError(f"{sql.strip()}: a SQLite PRAGMA (the PostgreSQL store has none)")
        if word in _DML and not self.in_transaction:
            self._begin()
        self._alive()
        try:
            cur = self.raw.execute(self.translate(sql), tuple(params))
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        if cur.rowcount > 0 and word in _DML:
            self.total_changes += cur.rowcount
        lastrowid = None
        if word == "INSERT" and cur.description:
            row = cur.fetchone()
            lastrowid = int(row[0]) if row and isinstance(row[0], int) else None
        return PgCursor(cur, lastrowid)

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> PgCursor:
        word = _first_word(sql)
        if word in _DML and not self.in_transaction:
            self._begin()
        try:
            with self.raw.cursor() as cur:
                cur.executemany(self.translate(sql, returning=False), [tuple(r) for r in rows])
                count = cur.rowcount
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        if count > 0 and word in _DML:
            self.total_changes += count
        out = PgCursor(None)
        out.rowcount = count
        return out

    def executescript(self, script: str) -> None:
        for statement in split_statements(script):
            self.execute(statement)

    def set_trace_callback(self, trace: Any) -> None:
        """Statement tracing is the SQLite bench's; nothing to do here."""

    def set_progress_handler(self, handler: Any, n: int) -> None:
        """Interrupting long statements is the SQLite bench's; nothing to do here."""

    def close(self) -> None:
        self.raw.close()

    # -- the data version ----------------------------------------------------------------------

    def copy_rows(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Bulk rows into ``table`` with COPY (inside the open transaction): what moving a whole
        store needs, several times faster than INSERTs."""
        if not self.in_transaction:
            self._begin()
        count = 0
        try:
            with (
                self.raw.cursor() as cur,
                cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for row in rows:
                    copy.write_row(row)
                    count += 1
        except psycopg.Error as exc:
            raise _mapped(exc) from exc
        self.total_changes += count
        return count

    def create_stage(self) -> None:
        for statement in _PG_STAGE:
            self.raw.execute(statement)

    def stage_liquidations(self, rows: Sequence[Sequence[Any]]) -> None:
        """The batch into ``liq_stage``, first occurrence of an id kept (what SQLite's
        ``INSERT OR IGNORE`` into its staging table does), inside the open transaction."""
        self.copy_rows("liq_stage_in", ("n", *_STAGE_COLUMNS), ((n, *row) for n, row in enumerate(rows)))
        try:
            self.raw.execute(_PG_STAGE_KEEP_FIRST)
        except psycopg.Error as exc:
            raise _mapped(exc) from exc

    def sync_identities(self) -> None:
        """After rows were copied in with their ids: each identity continues past the largest."""
        for table, column in self.translate.catalog.identity.items():
            self.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "  # noqa: S608
                f"COALESCE((SELECT MAX({column}) FROM {table}), 0) + 1, false)"
            )


def _connect(url: str, where: str) -> psycopg.Connection[Any]:
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
    except psycopg.Error as exc:
        raise StoreOpenError(f"store {where}: cannot connect ({_mapped(exc)})") from None
    configure_connection(conn)
    return conn


class PgBackend:
    """What :class:`bot.store.Store` holds for a PostgreSQL store: the writer and the pool."""

    def __init__(self, url: str) -> None:
        self.where = redact(url)
        raw = _connect(url, self.where)
        try:
            migrate(raw, self.where)
            catalog = load_catalog(raw)
        except psycopg.Error as exc:
            raw.close()
            raise StoreOpenError(f"store {self.where}: {_mapped(exc)}") from None
        except BaseException:
            raw.close()
            raise
        self.translate = Translator(catalog)
        self.writer = PgConnection(raw, self.translate, reconnect=lambda: _connect(url, self.where))
        self.pool: ConnectionPool[Any] = ConnectionPool(
            url,
            min_size=1,
            max_size=POOL_MAX,
            kwargs={"autocommit": True},
            configure=configure_connection,
            open=True,
            name="tapewatch-readers",
        )
        self._closed = threading.Event()
        self.poller: threading.Thread | None = None
        # a store dropped without close(): its pool is closed by whoever drops it (the pool's
        # own reference cycle would otherwise leave it to a garbage collection on any thread,
        # one of its workers included, which cannot join itself)
        self._finalizer = weakref.finalize(self, _close_quietly, self.pool, raw)

    def start_poller(
        self,
        publish: Callable[[tuple[int, int], tuple[int, int]], None],
        own: Callable[[], tuple[int, int]],
        every: float,
    ) -> None:
        """Read the data-version counter rows every ``every`` seconds on a pooled connection
        and ``publish(counts, own commits taken just before the read)``; a failed read (the
        server restarting) keeps the last counts and tries again."""

        def read() -> None:
            before = own()
            try:
                with self.pool.connection(timeout=every * 10) as conn:
                    found = dict(
                        conn.execute(
                            f"SELECT name, n FROM {META} WHERE name IN (%s, %s)",  # noqa: S608
                            (OTHER_ROW, LIQ_ROW),
                        ).fetchall()
                    )
            except Exception:  # the next round retries
                return
            publish((int(found.get(OTHER_ROW, 0)), int(found.get(LIQ_ROW, 0))), before)

        def poll() -> None:
            while not self._closed.wait(every):
                read()

        read()  # the first version is the database's, not (0, 0)
        self.poller = threading.Thread(target=poll, name="tapewatch-data-version", daemon=True)
        self.poller.start()

    def rows(self, sql: str, params: Sequence[Any], *, dicts: bool) -> list[Any]:
        """One read on a pooled autocommit connection: it sees every committed write."""
        if self._closed.is_set():
            raise sqlite3.ProgrammingError("the store is closed")
        for attempt in (1, 2):
            try:
                with self.pool.connection() as conn:
                    try:
                        cur = conn.execute(self.translate(sql), tuple(params))
                    except psycopg.OperationalError:
                        if conn.broken and attempt == 1:
                            continue  # dropped by the server: the pool discards it, try another
                        raise
                    rows: list[Any] = cur.fetchall()
                    if not dicts:
                        return rows
                    names = [d.name for d in cur.description or ()]
                    return [dict(zip(names, row, strict=True)) for row in rows]
            except psycopg.Error as exc:
                raise _mapped(exc) from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def raw_reader(self) -> Iterator[psycopg.Connection[Any]]:
        with self.pool.connection() as conn:
            yield conn

    def close(self) -> None:
        self._closed.set()
        if self.poller is not None and self.poller is not threading.current_thread():
            self.poller.join(timeout=5)
        self._finalizer()


def _close_quietly(pool: ConnectionPool[Any], writer: psycopg.Connection[Any]) -> None:
    pool.close()
    writer.close()
