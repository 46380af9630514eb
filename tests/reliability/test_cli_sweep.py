"""Every CLI verb with hostile arguments: a non-zero exit, one line on stderr, never a traceback.

Run in-process through ``main(argv)`` (fast), plus a few as real subprocesses so the real stderr
(with the logging handler the command installs) is what is checked."""

from __future__ import annotations

import gzip
import os
import sqlite3
import subprocess
import sys
from contextlib import closing
from pathlib import Path

import pytest

from bot.cli import main
from bot.scenarios import bundled
from tests.reliability.conftest import BuiltScenario, copy_store

ROOT = Path(__file__).resolve().parents[2]
SELLOFF = bundled()["selloff"]


@pytest.fixture
def files(tmp_path: Path, selloff_db: BuiltScenario) -> dict[str, str]:
    db = tmp_path / "x.db"
    copy_store(selloff_db.path, db)
    notes = tmp_path / "notes.db"
    with closing(sqlite3.connect(notes)) as conn:
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
    (tmp_path / "rand.db").write_bytes(os.urandom(4096))
    (tmp_path / "deep.json").write_text("[" * 100_000 + "]" * 100_000)
    (tmp_path / "corrupt.json.gz").write_bytes(gzip.compress(b'{"format": 1}')[:-5] + b"xx")
    (tmp_path / "exists.json").write_text("keep")
    (tmp_path / "charts").write_text("a file where the charts folder would go")
    return {
        "db": str(db),
        "notes": str(notes),
        "rand": str(tmp_path / "rand.db"),
        "dir": str(tmp_path),
        "deep": str(tmp_path / "deep.json"),
        "corrupt": str(tmp_path / "corrupt.json.gz"),
        "exists": str(tmp_path / "exists.json"),
        "out": str(tmp_path / "out.json"),
        "missing": str(tmp_path / "missing.json"),
    }


# (argv with {placeholders}, whether stderr must be exactly one line: an answer Discord would
# show as a refusal is printed on stdout, with a non-zero exit)
CASES: list[tuple[list[str], bool]] = [
    (["--db", "{dir}", "ask", "/status"], True),
    (["--db", "/dev/null", "ask", "/status"], True),
    (["--db", "", "ask", "/status"], True),
    (["--db", "{rand}", "console", "--no-collect"], True),
    (["--db", "{notes}", "export", "{out}"], True),
    (["--db", "{notes}", "import", SELLOFF], True),
    (["--db", "{notes}", "health"], True),
    (["--db", "{db}", "export", "{db}"], True),
    (["--db", "{db}", "export", "{db}-wal", "--force"], True),
    (["--db", "{db}", "export", "{dir}"], True),
    (["--db", "{db}", "export", "{exists}"], True),
    (["--db", "{db}", "export", "{out}", "--since", "foo"], True),
    (["--db", "{db}", "export", "{out}", "--since", ""], True),
    (["--db", "{db}", "export", "{out}", "--since", "2026-01-01T00:00:00Z"], True),
    (["--db", "{db}", "export", "{out}", "--since", "99999999999999999999d"], True),
    (["--db", "{db}", "export", "{out}", "--name", "Bad Name!"], True),
    (["--db", "{db}", "export", ""], True),
    (["--db", "{db}", "import", "{missing}"], True),
    (["--db", "{db}", "import", "{dir}"], True),
    (["--db", "{db}", "import", "{deep}"], True),
    (["--db", "{db}", "import", "{corrupt}"], True),
    (["--db", "{db}", "import", SELLOFF], True),  # already holds market data
    (["--db", "{db}", "health", "--max-age", "99999999999999999999"], True),
    (["--db", "{db}", "health", "--max-age", "soon"], True),
    (["--db", "{db}", "health", "--gateway-max-age", "-1"], True),
    (["--db", "{db}", "ask", "/nope"], True),
    (["--db", "{db}", "ask", "/alerts unsubscribe number:0"], True),
    (["--db", "{db}", "ask", "/alerts unsubscribe number:99999999999999999999"], True),
    (["--db", "{db}", "ask", "/price coin:btc extra:1"], True),
    (["--db", "{db}", "ask", "--scenario", "{missing}", "/status"], True),
    (["--db", "{db}", "ask", "/alerts mute duration:99999999999999999999"], False),
    (["--db", "{db}", "ask", "/alerts brief time:08:00 timezone:Europe"], False),
    (["--db", "{db}", "console", "--scenario", "{deep}"], True),
    (["--db", "{db}", "alerts", "backtest", "--since", "foo"], True),
    (["--db", "{db}", "alerts", "backtest", "--since", "99999999999999999999d"], True),
    (["--config", "{missing}", "ask", "/status"], True),
    (["run"], True),  # no token: one line of help
    (["sync-commands"], True),
    (["collect", "--bogus"], True),
    (["nonsense"], True),
]


@pytest.mark.parametrize(("argv", "one_line"), CASES, ids=[" ".join(a)[:60] for a, _ in CASES])
def test_hostile_arguments_fail_in_one_line(
    argv: list[str],
    one_line: bool,
    files: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(files["dir"])  # where `ask` would write its charts: a file named charts
    args = [a.format(**files) for a in argv]
    try:
        status = main(args)
    except SystemExit as exc:  # argparse
        status = exc.code if isinstance(exc.code, int) else 2
    out, err = capsys.readouterr()
    assert status != 0, (args, out, err)
    assert "Traceback" not in out + err
    lines = err.strip().splitlines()
    if one_line:
        assert len(lines) == 1, (args, lines)
    else:
        assert len(lines) <= 1, (args, lines)


@pytest.mark.parametrize(
    "argv",
    [
        ["--db", "{notes}", "ask", "/status"],
        ["--db", "{db}", "export", "{out}", "--since", "huge"],
        ["--db", "{db}", "health", "--max-age", "1e99"],
    ],
)
def test_as_a_process_stderr_is_one_line(argv: list[str], files: dict[str, str]) -> None:
    args = [a.format(**files) for a in argv]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPEWATCH_") and k != "DISCORD_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr
