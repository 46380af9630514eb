"""The store under misuse: a file that is not a Tapewatch store is refused in one line and left
untouched, a new store survives many processes opening it at once, export never destroys, and
import is all-or-nothing even under SIGKILL."""

from __future__ import annotations

import gzip
import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from bot.scenarios import bundled, load_scenario
from bot.scenarios.load import MAX_JSON_BYTES, ScenarioError
from bot.store import Store
from bot.store.open import StoreError
from bot.store.schema import SCHEMA_VERSION
from tests.reliability.conftest import BuiltScenario, copy_store

ROOT = Path(__file__).resolve().parents[2]
SELLOFF = bundled()["selloff"]


def _fingerprint(path: Path) -> tuple[str, int, list[str]]:
    siblings = sorted(p.name for p in path.parent.iterdir())
    return hashlib.sha256(path.read_bytes()).hexdigest(), path.stat().st_mtime_ns, siblings


def _notes(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.execute("INSERT INTO notes VALUES ('keep me')")
        conn.commit()


def _future(path: Path) -> None:
    Store(path).close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 90}")
        conn.commit()


def _truncated(path: Path) -> None:
    Store(path).close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.execute("CREATE TABLE filler (x)")
        conn.executemany("INSERT INTO filler VALUES (?)", [("x" * 1000,)] * 200)
        conn.commit()
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


@pytest.mark.parametrize(
    ("make", "expect"),
    [
        (_notes, "not a Tapewatch store"),
        (_future, "newer than this build"),
        (_truncated, "truncated"),
        (lambda p: p.write_bytes(os.urandom(5000)), "not an SQLite database"),
        (lambda p: p.write_bytes(b"SQLite format 3\x00" + b"\x00" * 10), "damaged"),
    ],
    ids=["other-app", "future-version", "truncated", "random-bytes", "header-only"],
)
def test_not_a_store_is_refused_untouched(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], make: object, expect: str
) -> None:
    path = tmp_path / "x.db"
    make(path)  # type: ignore[operator]
    before = _fingerprint(path)
    time.sleep(0.01)
    assert main(["--db", str(path), "ask", "/status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    assert expect in err[0]
    after = _fingerprint(path)
    assert after[:2] == before[:2]  # bytes and mtime
    if expect != "newer than this build":  # (a newer store is in WAL mode: reading it maps its -shm)
        assert after == before  # and no -wal/-shm created beside another app's file


@pytest.mark.parametrize("target", ["dir", "/dev/null", ""])
def test_unusable_paths_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str) -> None:
    path = str(tmp_path) if target == "dir" else target
    assert main(["--db", path, "ask", "/status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "Traceback" not in err[0]


def test_store_error_is_raised_before_any_write(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    _notes(path)
    with pytest.raises(StoreError, match="not a Tapewatch store"):
        Store(path)
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"


def test_concurrent_first_opens_all_succeed(tmp_path: Path) -> None:
    """N processes open the same new store at the same instant: every one succeeds and the
    schema is created once."""
    path = tmp_path / "new.db"
    start = time.time() + 1.5
    code = (
        "import sys, time\n"
        "from bot.store import Store\n"
        "time.sleep(max(0, float(sys.argv[2]) - time.time()))\n"
        "Store(sys.argv[1]).close()\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(path), str(start)],
            cwd=ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(12)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * len(procs), errors
    with closing(sqlite3.connect(path)) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


# -- export ----------------------------------------------------------------------------------


def test_export_refuses_the_store_and_existing_files(
    tmp_path: Path, selloff_db: BuiltScenario, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    copy_store(selloff_db.path, db)
    Store(db).close()
    before = db.read_bytes()
    for target in (db, Path(str(db) + "-wal"), tmp_path):
        assert main(["--db", str(db), "export", str(target)]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1
    link = tmp_path / "link.json"
    link.symlink_to(db)
    assert main(["--db", str(db), "export", str(link), "--force"]) == 2
    assert "store itself" in capsys.readouterr().err
    assert db.read_bytes() == before
    out = tmp_path / "out.json.gz"
    out.write_bytes(b"previous")
    assert main(["--db", str(db), "export", str(out)]) == 2
    assert out.read_bytes() == b"previous"
    assert main(["--db", str(db), "export", str(out), "--force"]) == 0
    exported = load_scenario(out)
    assert exported.sample_data is True  # filled from a sample: the label travels
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_export_write_failure_leaves_the_previous_file_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.scenarios import export as export_module

    scenario = load_scenario(SELLOFF)
    target = tmp_path / "keep.json"
    target.write_text("previous good export")

    def full(fd: int) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(export_module.os, "fsync", full)
    with pytest.raises(OSError, match="No space"):
        export_module.write_scenario(scenario, target)
    assert target.read_text() == "previous good export"
    assert [p.name for p in tmp_path.iterdir()] == ["keep.json"]


# -- import ----------------------------------------------------------------------------------


def _counts(db: Path) -> dict[str, int]:
    with closing(sqlite3.connect(db)) as conn:
        return {
            t: conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in ("candles", "open_interest")
        }


def test_import_twice_is_refused_and_replace_never_doubles(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "x.db"
    assert main(["--db", str(db), "import", SELLOFF]) == 0
    once = _counts(db)
    assert main(["--db", str(db), "import", SELLOFF]) == 2
    assert "already holds market data" in capsys.readouterr().err
    assert _counts(db) == once
    time.sleep(1.1)  # a second later: a plain append would shift every key and double the rows
    assert main(["--db", str(db), "import", "--replace", SELLOFF]) == 0
    assert _counts(db) == once


def test_import_is_all_or_nothing_under_sigkill(tmp_path: Path, selloff_db: BuiltScenario) -> None:
    """Kill an import at several points: the store holds either nothing or the whole scenario."""
    full = _counts(selloff_db.path)
    for delay in (0.3, 0.8, 1.3, 1.8, 2.5):
        db = tmp_path / f"k{delay}.db"
        Store(db).close()
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "--db", str(db), "import", SELLOFF],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        with closing(sqlite3.connect(db)) as conn:
            assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        counts = _counts(db)
        assert counts in ({"candles": 0, "open_interest": 0}, full), (delay, counts)


# -- scenario files --------------------------------------------------------------------------


def test_gzip_bomb_is_refused_within_bounded_memory(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.json.gz"
    with gzip.open(bomb, "wb", compresslevel=9) as fh:
        chunk = b" " * (16 << 20)
        for _ in range(MAX_JSON_BYTES // len(chunk) + 4):
            fh.write(chunk)
    code = (
        "import resource, sys\n"
        "from bot.scenarios import load_scenario, ScenarioError\n"
        "try:\n"
        "    load_scenario(sys.argv[1])\n"
        "except ScenarioError as exc:\n"
        "    print(exc)\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(bomb)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.splitlines()
    assert "inflates to more than" in out[0]
    assert int(out[1]) < 2 * MAX_JSON_BYTES // 1024 + 200_000  # kB: the cap, not the bomb


def test_deep_nesting_and_corrupt_gzip_are_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text("[" * 200_000 + "]" * 200_000)
    with pytest.raises(ScenarioError, match="nested too deeply"):
        load_scenario(deep)
    corrupt = tmp_path / "c.json.gz"
    corrupt.write_bytes(gzip.compress(b'{"a": 1}')[:-6] + b"garbage")
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(corrupt)


# -- disk full and a held lock ----------------------------------------------------------------


def test_disk_full_during_import_is_one_line_and_changes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A full disk, simulated with SQLite's page cap (a tmpfs mount needs privileges the test
    machines lack): one line, and the store holds what it held before."""
    import bot.store.db as db_module
    from bot.store.open import connect_store

    db = tmp_path / "full.db"
    Store(db).close()

    def capped(path: str, factory: type[sqlite3.Connection] = sqlite3.Connection) -> sqlite3.Connection:
        conn = connect_store(path, factory=factory)
        (pages,) = conn.execute("PRAGMA page_count").fetchone()
        conn.execute(f"PRAGMA max_page_count = {pages + 20}")
        return conn

    monkeypatch.setattr(db_module, "connect_store", capped)
    assert main(["--db", str(db), "import", SELLOFF]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "disk is full" in err[0]
    monkeypatch.undo()
    assert _counts(db) == {"candles": 0, "open_interest": 0}


def test_a_held_write_lock_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.store.open as open_module

    db = tmp_path / "locked.db"
    Store(db).close()
    monkeypatch.setattr(open_module, "BUSY_TIMEOUT_S", 0.3)
    with closing(sqlite3.connect(db)) as holder:
        holder.execute("BEGIN IMMEDIATE")
        assert main(["--db", str(db), "import", SELLOFF]) != 0
        holder.rollback()
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "locked by another process" in err[0]
