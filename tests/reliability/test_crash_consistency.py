"""Crash consistency: a process ingesting liquidation batches through
``Store.insert_liquidations`` is SIGKILLed at seeded random points, many times, against one
store file. After every kill the store must pass ``PRAGMA integrity_check``; every batch the
process reported committed must be fully present with its exact values; no batch may be
half-written; nothing else may be stored; and the per-minute and per-hour roll-ups must equal
sums over the raw events.

Each ingesting process is forked by a helper child (``_child_ingest.py``) that imported the
store once, so a kill lands in ingest work instead of interpreter start-up. A new process
resumes at the batch after the last *reported* one: a batch committed just before the kill
(but not yet reported) is sent again, which also exercises the de-duplication path. A few kills
land while the store is being opened, the first one while the schema is being created.
"""

from __future__ import annotations

import functools
import os
import queue
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

import psycopg
import pytest

from bot.clock import to_ms
from bot.settings import is_database_url
from bot.store import Store
from bot.store.dialect import Translator
from bot.store.pg import PgConnection
from bot.store.pg import configure_connection as configure_pg
from bot.store.pg_schema import load_catalog
from tests.reliability._child_ingest import batch

pytestmark = pytest.mark.reliability

ROOT = Path(__file__).resolve().parents[2]
SEED = 20261126
KILLS = 20
KILLS_DURING_OPEN = 3  # plus the very first one, which lands in schema creation
RUN_SECONDS = (0.005, 0.2)  # how long a worker ingests before its SIGKILL


class Forker:
    """The helper child; forwards its output lines to a queue."""

    def __init__(self, db: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.reliability._child_ingest", str(db), str(SEED)],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        assert self.expect("ready", []) == "ready"

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line.strip())
        self.lines.put("<eof>")

    def send(self, command: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()

    def expect(self, prefix: str, seen: list[str]) -> str:
        """The first line starting with ``prefix``, looking at ``seen`` (lines read before)
        first; every line read goes to ``seen``. A worker may print before its parent does."""
        for line in seen:
            if line.startswith(prefix):
                return line
        deadline = time.monotonic() + 30
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"no {prefix!r} from the helper child within 30 s") from None
            if line == "<eof>":
                raise AssertionError(
                    f"helper child ended: {self.proc.stderr.read() if self.proc.stderr else ''}"
                )
            seen.append(line)
            if line.startswith(prefix):
                return line

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self._reader.join(10)
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


@functools.cache
def batch_rows(batch_id: int) -> dict[str, tuple[object, ...]]:
    return {
        e.event_id: (e.venue, e.event_id, e.coin, e.side, e.price, e.qty, e.usd, to_ms(e.ts))
        for e in batch(SEED, batch_id)
    }


def _reader(db: str) -> Any:
    """A connection to look at the store without opening it as one (which would create the
    schema): ``sqlite3``'s, or the PostgreSQL writer that speaks the same SQL."""
    if not is_database_url(db):
        return sqlite3.connect(db)
    raw = psycopg.connect(db, autocommit=True)
    configure_pg(raw)
    return PgConnection(raw, Translator(load_catalog(raw)))


def verify(db: str, committed: set[int], attempted: int, check_rollups: Callable[..., list[str]]) -> None:
    with closing(_reader(db)) as conn:
        if isinstance(conn, sqlite3.Connection):
            assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            has_schema = conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'liquidations'").fetchone()
        else:  # PostgreSQL checks its own pages; the schema is there when its migration committed
            has_schema = "liquidations" in conn.translate.catalog.columns
        if not has_schema:
            assert not committed, "batches reported committed but the schema is missing"
            return
        stored = {
            r[1]: r
            for r in conn.execute(
                "SELECT venue, event_id, coin, side, price, qty, usd, ts_ms FROM liquidations"
            ).fetchall()
        }
        expected = 0
        for batch_id in range(attempted):
            rows = batch_rows(batch_id)
            present = [stored[i] for i in rows if i in stored]
            assert len(present) in (0, len(rows)), (
                f"batch {batch_id} half-written: {len(present)}/{len(rows)}"
            )
            if batch_id in committed:
                assert present, f"batch {batch_id} was reported committed but is missing"
            assert all(rows[r[1]] == r for r in present), f"batch {batch_id} stored with other values"
            expected += len(present)
        assert len(stored) == expected, "events stored that no batch holds"
        assert check_rollups(conn) == []


def test_sigkill_never_loses_a_committed_batch_or_half_writes_one(
    db: str, check_rollups: Callable[..., list[str]]
) -> None:
    """On both backends: a SQLite file, or a PostgreSQL database the killed processes share."""
    rng = random.Random(SEED)
    committed: set[int] = set()
    next_batch = attempted = 0
    during_open = {0, *rng.sample(range(1, KILLS), KILLS_DURING_OPEN)}
    forker = Forker(db)
    try:
        for kill in range(KILLS):
            forker.send(f"start {next_batch}")
            output: list[str] = []
            pid = int(forker.expect("started ", output).split()[1])
            if kill in during_open:
                time.sleep(rng.uniform(0.0, 0.004))  # opening the store (creating the schema)
            else:
                forker.expect(f"opened {pid}", output)
                time.sleep(rng.uniform(*RUN_SECONDS))
            os.kill(pid, signal.SIGKILL)
            forker.send(f"wait {pid}")
            exited = forker.expect(f"exited {pid}", output)
            assert exited == f"exited {pid} {signal.SIGKILL.value}", output
            reported = [int(line.split()[2]) for line in output if line.startswith(f"committed {pid} ")]
            assert reported == list(range(next_batch, next_batch + len(reported)))
            committed.update(reported)
            # the batch in flight when the kill landed may or may not be in the store
            attempted = max(attempted, next_batch + len(reported) + 1)
            verify(db, committed, attempted, check_rollups)
            next_batch += len(reported)
    finally:
        forker.close()

    assert len(committed) >= KILLS, f"too few batches committed to mean anything: {len(committed)}"
    # The store still works after all that: the real class opens it and ingests again.
    store = Store(db)
    try:
        assert store.insert_liquidations(batch(SEED, attempted)) > 0
    finally:
        store.close()
    verify(db, committed | {attempted}, attempted + 1, check_rollups)
