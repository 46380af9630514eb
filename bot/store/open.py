"""The one way a store file is opened: look before touching.

A path is opened as a store only when it is a Tapewatch store of a schema version this build
knows, or an empty/new file. Anything else (a directory, a device, random bytes, a truncated
file, another application's SQLite database, a store from a newer build, a file or folder this
user cannot write) is refused with one line, :class:`StoreError`, *before* anything is written:
no WAL conversion, no tables added, the bytes and mtime unchanged.

Schema creation is safe when several processes open a new file at once: the migration runs
under ``BEGIN IMMEDIATE`` and re-reads the version inside the write lock.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from contextlib import closing
from pathlib import Path

from bot.store.schema import SCHEMA_VERSION, migrate

SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables every Tapewatch store has had since migration 1: enough to tell it from another app's file.
MARKER_TABLES = frozenset({"tickers", "candles", "source_health", "liq_minute"})
BUSY_TIMEOUT_S = 30


class StoreError(Exception):
    """A store that cannot be opened or written; the message is one line naming the path."""


def describe_sqlite_error(exc: sqlite3.Error, path: str) -> str:
    """One line for an SQLite failure an operator can act on (disk full, lock held, …)."""
    text = str(exc)
    low = text.lower()
    if "disk is full" in low or "database or disk is full" in low:
        return f"store {path}: the disk is full (nothing was half-written: the last change was rolled back)"
    if "locked" in low or "busy" in low:
        return (
            f"store {path}: locked by another process for over {BUSY_TIMEOUT_S} s "
            "(another tapewatch import or a long write?); try again"
        )
    if "readonly" in low or "read-only" in low:
        return f"store {path}: read-only (check the file's and its folder's permissions)"
    if "malformed" in low or "not a database" in low:
        return f"store {path}: damaged ({text}); restore it from an export or start a new one"
    return f"store {path}: {text}"


def _header(path: Path) -> bytes:
    with path.open("rb") as fh:
        return fh.read(100)


def _check_file(path: Path) -> bool:
    """Refuse what is not a regular, writable file; True when the file holds nothing yet."""
    try:
        st = path.stat()
    except FileNotFoundError:
        parent = path.parent if str(path.parent) else Path(".")
        if parent.exists() and not parent.is_dir():
            raise StoreError(f"store {path}: {parent} is not a folder") from None
        if parent.exists() and not os.access(parent, os.W_OK | os.X_OK):
            raise StoreError(f"store {path}: cannot create it, folder {parent} is read-only") from None
        return True
    except OSError as exc:
        raise StoreError(f"store {path}: cannot read it ({exc.strerror or exc})") from None
    if stat.S_ISDIR(st.st_mode):
        raise StoreError(
            f"store {path}: is a folder, not a store file (give a file path, e.g. {path}/tapewatch.db)"
        )
    if not stat.S_ISREG(st.st_mode):
        raise StoreError(f"store {path}: not a regular file (a device or pipe cannot hold a store)")
    if not os.access(path, os.R_OK | os.W_OK) or not os.access(path.parent, os.W_OK | os.X_OK):
        raise StoreError(
            f"store {path}: read-only (the store and its folder must be writable: SQLite keeps its WAL beside it)"
        )
    return st.st_size == 0


def _check_sqlite(path: Path) -> None:
    """A non-empty file: an SQLite database holding a Tapewatch store of a known version, or
    an empty database. Read with a read-only connection, so nothing is written."""
    try:
        head = _header(path)
    except OSError as exc:
        raise StoreError(f"store {path}: cannot read it ({exc.strerror or exc})") from None
    if not head.startswith(SQLITE_MAGIC):
        raise StoreError(f"store {path}: not an SQLite database (refusing to overwrite it)")
    if len(head) == 100:
        page_size = int.from_bytes(head[16:18], "big")
        page_size = 65536 if page_size == 1 else page_size
        pages = int.from_bytes(head[28:32], "big")
        valid = head[92:96] == head[24:28]  # the in-header size is only trustworthy when valid
        if valid and page_size and pages and path.stat().st_size < page_size * pages:
            raise StoreError(
                f"store {path}: truncated ({path.stat().st_size} bytes, the header says "
                f"{page_size * pages}); restore it from an export or start a new one"
            )
    try:
        with closing(
            sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_S)
        ) as ro:
            # one read transaction: both from the same snapshot, never a version read before
            # another process's first migration committed and its tables read after
            ro.execute("BEGIN")
            tables = {r[0] for r in ro.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            (version,) = ro.execute("PRAGMA user_version").fetchone()
            ro.rollback()
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, str(path))) from None
    if version > SCHEMA_VERSION and (not tables or tables >= MARKER_TABLES):
        raise StoreError(
            f"store {path}: schema v{version} is newer than this build knows (v{SCHEMA_VERSION}); "
            "upgrade tapewatch or point --db elsewhere"
        )
    if not tables and version == 0:
        return  # an empty database: a new store
    if version < 1 or version > SCHEMA_VERSION or not tables >= MARKER_TABLES:
        raise StoreError(
            f"store {path}: an SQLite database that is not a Tapewatch store "
            f"({len(tables)} tables, user_version {version}); refusing to change it"
        )


def check_store_path(path: str) -> None:
    """Raise :class:`StoreError` unless ``path`` may be opened (and written) as a store."""
    if path == ":memory:":
        return
    if not path.strip():
        raise StoreError("store path is empty: set --db or TAPEWATCH_DB to a file path")
    p = Path(path)
    if not _check_file(p):
        _check_sqlite(p)


def connect_store(path: str, factory: type[sqlite3.Connection] = sqlite3.Connection) -> sqlite3.Connection:
    """Check ``path``, then open it read-write in WAL mode and bring its schema up to date
    (``factory``: the connection class, e.g. one that counts its commits)."""
    check_store_path(path)
    if path != ":memory:":
        try:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"store {path}: cannot create its folder ({exc.strerror or exc})") from None
    try:
        conn = sqlite3.connect(path, check_same_thread=False, timeout=BUSY_TIMEOUT_S, factory=factory)
    except sqlite3.Error as exc:
        raise StoreError(describe_sqlite_error(exc, path)) from None
    try:
        # a new file: incremental vacuum must be chosen before the first table exists
        if conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()[0] == 0:
            conn.execute("PRAGMA auto_vacuum=INCREMENTAL")
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        migrate(conn)
    except sqlite3.Error as exc:
        conn.close()
        raise StoreError(describe_sqlite_error(exc, path)) from None
    except BaseException:
        conn.close()
        raise
    return conn
