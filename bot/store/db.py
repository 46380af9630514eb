"""Store access. :class:`Store` is synchronous and thread-safe (one writer connection behind a
lock, readers of their own); :class:`AsyncStore` runs every call in a worker thread so the event
loop never waits on disk or network.

Two backends behind the one class: SQLite in WAL mode (a file path, the default: collectors
write while commands read; a single writer with a lock is plenty for one process, and keeps
every batch atomic) and PostgreSQL (a ``postgresql://`` URL, :mod:`bot.store.pg`: several
processes on several machines). The SQL is written once, in SQLite's dialect; the PostgreSQL
writer translates it (:mod:`bot.store.dialect`) and behaves like the ``sqlite3`` connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, ParamSpec, TypeVar, cast

from bot.clock import from_ms, to_ms
from bot.models import (
    Candle,
    Funding,
    GlobalStats,
    LongShortRatio,
    MacroPoint,
    MarketEntry,
    OpenInterest,
    SourceHealth,
    Ticker,
    TopTraderRatio,
)
from bot.store.alerts import AlertTables
from bot.store.glance import GlanceReads
from bot.store.guild_settings import GuildSettingsTables
from bot.store.ingest import _STAGE_TABLE, LiquidationIngest
from bot.store.lease import Lease
from bot.store.open import StoreError, connect_store
from bot.store.pg import PgBackend, is_postgres
from bot.store.pg_schema import StoreOpenError
from bot.store.scenario_io import ScenarioRows
from bot.store.signals import SignalTables
from bot.store.universe import UniverseTables
from bot.store.upkeep import Upkeep
from bot.store.version import PRAGMA_EVERY, CountingConnection, DataVersion
from bot.store.watches import WatchStore

P = ParamSpec("P")
T = TypeVar("T")


def _ms(dt: datetime | None) -> int | None:
    return None if dt is None else to_ms(dt)


class Store(
    LiquidationIngest,
    ScenarioRows,
    GlanceReads,
    WatchStore,
    AlertTables,
    GuildSettingsTables,
    UniverseTables,
    SignalTables,
    Upkeep,
):
    conn: CountingConnection

    def __init__(self, path: Path | str) -> None:
        self.path = str(path)
        self._pg: PgBackend | None = None
        if is_postgres(path):
            try:
                self._pg = PgBackend(self.path)
            except StoreOpenError as exc:
                raise StoreError(str(exc)) from None
            # the PostgreSQL writer has the surface of sqlite3.Connection the store uses
            self.conn = cast(CountingConnection, self._pg.writer)
        else:
            # checks what it opens (a store or an empty file) and refuses anything else
            # untouched; the writer counts its commits for the data version answers are cached under
            self.conn = cast(CountingConnection, connect_store(self.path, factory=CountingConnection))
        self.backend = "sqlite" if self._pg is None else "postgresql"
        self._version = DataVersion()
        self._batch_depth = 0
        self.lock = threading.RLock()
        self._local = threading.local()
        # each reader with its own lock: readers never wait for each other, but close() waits
        # for a reader that is mid-query instead of closing the connection under it
        self._readers: list[tuple[sqlite3.Connection, threading.Lock]] = []
        self._closed = False
        self._leases: dict[str, Lease] = {}
        self._trace: tuple[Callable[[str], object] | None, Callable[[], int] | None, int] = (None, None, 0)
        # the liquidation ingest's staging table: per connection, in memory, never on disk
        if self._pg is None:
            self.conn.execute("PRAGMA temp_store=MEMORY")
            self.conn.execute(_STAGE_TABLE)
        else:
            self._pg.writer.create_stage()

    @property
    def where(self) -> str:
        """The store's path or URL, password hidden: what messages may name."""
        return self.path if self._pg is None else self._pg.where

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """One write's transaction, or nothing inside :meth:`batch` (whose transaction it joins)."""
        if self._batch_depth:
            yield
            return
        with self.conn:
            yield

    @contextmanager
    def batch(self) -> Iterator[None]:
        """Every write inside is one transaction, taken with the write lock up front: all of it
        is committed or none of it (an exception, a SIGKILL, a full disk)."""
        with self.lock:
            if self._batch_depth:
                self._batch_depth += 1
                try:
                    yield
                finally:
                    self._batch_depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._batch_depth = 1
            try:
                yield
            except BaseException:
                self._batch_depth = 0
                self.conn.rollback()
                raise
            self._batch_depth = 0
            self.conn.commit()

    def lease(self, name: str) -> Lease:
        """The named role among every process on this store (see :mod:`bot.store.lease`): one
        lease per name and store handle, so everything in this process shares it."""
        with self.lock:
            lease = self._leases.get(name)
            if lease is None:
                lease = self._leases[name] = Lease(self.path, name)
            return lease

    def close(self) -> None:
        with self.lock:
            self._closed = True
            for lease in self._leases.values():
                lease.release()
            for reader, busy in self._readers:
                with busy:
                    reader.close()
            self._readers.clear()
            if self._pg is not None:
                self._pg.close()
                return
            self.conn.close()

    # -- writes -------------------------------------------------------------------------

    def upsert_tickers(self, tickers: Iterable[Ticker], fetched_at: datetime) -> int:
        rows = [
            {
                **t.model_dump(exclude={"ts"}),
                "ts_ms": to_ms(t.ts),
                "fetched_ms": to_ms(fetched_at),
            }
            for t in tickers
        ]
        return self._upsert("tickers", rows, ["coin", "venue", "market"])

    def upsert_candles(self, candles: Iterable[Candle]) -> int:
        rows = [{**c.model_dump(exclude={"open_time"}), "open_ms": to_ms(c.open_time)} for c in candles]
        return self._upsert("candles", rows, ["coin", "interval", "venue", "market", "open_ms"])

    def upsert_open_interest(self, points: Iterable[OpenInterest]) -> int:
        rows = [{**p.model_dump(exclude={"ts"}), "ts_ms": to_ms(p.ts)} for p in points]
        return self._upsert("open_interest", rows, ["coin", "venue", "ts_ms"])

    def upsert_funding(self, points: Iterable[Funding]) -> int:
        rows = [{**p.model_dump(exclude={"ts"}), "ts_ms": to_ms(p.ts)} for p in points]
        return self._upsert("funding", rows, ["coin", "venue", "ts_ms"])

    def upsert_long_short(self, points: Iterable[LongShortRatio]) -> int:
        rows = [{**p.model_dump(exclude={"ts"}), "ts_ms": to_ms(p.ts)} for p in points]
        return self._upsert("long_short", rows, ["coin", "venue", "ts_ms"])

    def upsert_top_traders(self, points: Iterable[TopTraderRatio]) -> int:
        rows = [{**p.model_dump(exclude={"ts"}), "ts_ms": to_ms(p.ts)} for p in points]
        return self._upsert("top_traders", rows, ["coin", "venue", "basis", "ts_ms"])

    def upsert_macro(self, points: Iterable[MacroPoint]) -> int:
        rows = [{**p.model_dump(exclude={"ts"}), "ts_ms": to_ms(p.ts)} for p in points]
        return self._upsert("macro", rows, ["series", "interval", "ts_ms"])

    def replace_breadth(self, entries: Iterable[MarketEntry], at: datetime) -> int:
        """The latest top-coins snapshot replaces the previous one (coins drop out of a top 100)."""
        rows = [(e.id, e.symbol, e.change_24h_pct, e.market_cap, to_ms(at)) for e in entries]
        if not rows:
            return 0
        with self.lock, self._tx():
            self.conn.execute("DELETE FROM market_breadth")
            self.conn.executemany(
                "INSERT INTO market_breadth (cg_id, symbol, change_24h_pct, market_cap, ts_ms) VALUES (?,?,?,?,?)",
                rows,
            )
        return len(rows)

    def upsert_global(self, stats: Iterable[GlobalStats]) -> int:
        rows = [{**s.model_dump(exclude={"ts"}), "ts_ms": to_ms(s.ts)} for s in stats]
        return self._upsert("global_stats", rows, ["source", "ts_ms"])

    def _upsert(self, table: str, rows: list[dict[str, Any]], pk: list[str]) -> int:
        """Insert or update on the natural key in one transaction, so a re-fetch never
        duplicates a row. (sqlite-utils' own upsert inserts the key columns first, which
        NOT NULL columns refuse.)"""
        if not rows:
            return 0
        cols = list(rows[0])
        updates = ", ".join(f"{c} = excluded.{c}" for c in cols if c not in pk)
        sql = (
            f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))}) "  # noqa: S608
            f"ON CONFLICT ({', '.join(pk)}) DO UPDATE SET {updates}"
        )
        with self.lock, self._tx():
            self.conn.executemany(sql, [tuple(r[c] for c in cols) for r in rows])
        return len(rows)

    def instrument(
        self,
        trace: Callable[[str], object] | None,
        progress: Callable[[], int] | None = None,
        every: int = 10_000,
    ) -> None:
        """Trace (and optionally interrupt) every statement on every connection, readers made
        later included: for the benchmark's raw-SQL peer and its time cap."""
        self._trace = (trace, progress, every)
        with self.lock:
            for conn in (self.conn, *(r for r, _ in self._readers)):
                self._apply_instruments(conn)

    def _apply_instruments(self, conn: sqlite3.Connection) -> None:
        trace, progress, every = self._trace
        conn.set_trace_callback(trace)
        conn.set_progress_handler(progress, every if progress else 0)

    def data_version(self) -> tuple[int, int]:
        """``(other data, liquidations)``: each part changes whenever that kind of data was
        committed, by this process or another (see :mod:`bot.store.version`). Called on the
        event loop for every answer: this process's commits are counted without SQLite, and
        another's are looked for at most every 0.1 s, skipped while a write holds the writer."""
        if self._pg is not None:
            return self._pg_data_version()
        pragma = None
        if self.path != ":memory:" and self._version.due() and self.lock.acquire(blocking=False):
            try:
                pragma = int(self.conn.execute("PRAGMA data_version").fetchone()[0])
            finally:
                self.lock.release()
        return self._version.read(self.conn, pragma)

    @property
    def counts_others_liquidations(self) -> bool:
        """Whether another process's liquidation commits change the data version's liquidation
        part: on PostgreSQL (a counter row per kind of data), not on SQLite, where ``PRAGMA
        data_version`` cannot tell what another process wrote and any of its commits changes
        the other part."""
        return self._pg is not None

    def _pg_data_version(self) -> tuple[int, int]:
        """PostgreSQL: every process's committed counts, read every 0.1 s by a thread of the
        backend (started here, on first use), plus this process's own commits since."""
        assert self._pg is not None
        if self._pg.poller is None:
            writer = self.conn
            self._pg.start_poller(
                lambda counts, own: self._version.set_counts(counts, own),
                lambda: (writer.other_commits, writer.liq_commits),
                PRAGMA_EVERY,
            )
        return self._version.read_counts(self.conn)

    def _reader(self) -> tuple[sqlite3.Connection, threading.Lock] | None:
        """This thread's read-only connection: in WAL mode readers never wait for each other
        or for the writer, so a slow answer does not queue the cheap ones behind it."""
        if self.path == ":memory:":
            return None  # a second connection would see another database
        reader: tuple[sqlite3.Connection, threading.Lock] | None = getattr(self._local, "reader", None)
        if reader is None:
            with self.lock:
                if self._closed:
                    raise sqlite3.ProgrammingError("the store is closed")
                conn = sqlite3.connect(
                    f"file:{self.path}?mode=ro", uri=True, check_same_thread=False, timeout=30
                )
                reader = (conn, threading.Lock())
                self._local.reader = reader
                self._readers.append(reader)
                self._apply_instruments(conn)
        return reader

    def _rows(self, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        # inside a batch, reads see the batch's own writes (and nobody else's in between)
        if self._pg is not None and not self._batch_depth:
            return cast(list[dict[str, Any]], self._pg.rows(sql, params, dicts=True))
        reader = None if self._batch_depth else self._reader()
        conn, lock = (self.conn, self.lock) if reader is None else reader
        with lock:
            cur = conn.execute(sql, params)
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One write statement, in its own transaction or the enclosing :meth:`batch`."""
        with self.lock, self._tx():
            return self.conn.execute(sql, params).rowcount

    def _tuples(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Rows as the cursor gives them, for columnar reads."""
        if self._pg is not None:
            return cast(list[tuple[Any, ...]], self._pg.rows(sql, params, dicts=False))
        reader = self._reader()
        conn, lock = (self.conn, self.lock) if reader is None else reader
        with lock:
            return conn.execute(sql, params).fetchall()

    def tickers(self, coin: str | None = None) -> list[Ticker]:
        where, params = ("WHERE coin = ?", [coin]) if coin else ("", [])
        rows = self._rows(f"SELECT * FROM tickers {where} ORDER BY coin, venue, market", params)  # noqa: S608
        # rows were validated on the way in; validating ~5 per coin again on every answer cost
        # more than the query
        return [
            Ticker.model_construct(
                **{k: v for k, v in r.items() if k not in ("ts_ms", "fetched_ms")}, ts=from_ms(r["ts_ms"])
            )
            for r in rows
        ]

    def ticker_fetched_at(self, coin: str, venue: str, market: str) -> datetime | None:
        rows = self._rows(
            "SELECT fetched_ms FROM tickers WHERE coin = ? AND venue = ? AND market = ?",
            (coin, venue, market),
        )
        return from_ms(rows[0]["fetched_ms"]) if rows else None

    def source_health(self) -> list[SourceHealth]:
        rows = self._rows("SELECT * FROM source_health ORDER BY source")
        return [
            SourceHealth(
                source=r["source"],
                last_success=from_ms(r["last_success_ms"]) if r["last_success_ms"] else None,
                last_error=r["last_error"],
                last_error_at=from_ms(r["last_error_ms"]) if r["last_error_ms"] else None,
                consecutive_failures=r["consecutive_failures"],
                disabled_reason=r["disabled_reason"],
            )
            for r in rows
        ]

    def count(self, table: str) -> int:
        if not table.isidentifier():
            raise ValueError(f"not a table name: {table!r}")
        with self.lock:
            return int(self.conn.execute(f"SELECT COUNT(*) FROM [{table}]").fetchone()[0])  # noqa: S608


class AsyncStore:
    """The same store for async code: each call runs in a worker thread."""

    def __init__(self, store: Store) -> None:
        self.sync = store

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        return await asyncio.to_thread(fn, *args, **kwargs)

    def close(self) -> None:
        self.sync.close()
