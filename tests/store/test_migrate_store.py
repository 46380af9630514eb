"""``tapewatch migrate-store``: a SQLite store moved to PostgreSQL (and back) answers every read
as before; a target holding data is refused unchanged without ``--replace``; ids continue."""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.store import Store
from tests.store.test_backends_agree import T0, fill, reads


@pytest.mark.parametrize("store_backend", ["postgresql"])
def test_a_store_moves_to_postgresql_and_back(
    new_db: Callable[[], str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "old.db"
    store = Store(source)
    fill(store, 7)
    want = reads(store, random.Random(7))
    store.close()
    url = new_db()

    assert main(["migrate-store", "--from", str(source), "--to", url]) == 0
    assert "moved" in capsys.readouterr().out
    moved = Store(url)
    assert reads(moved, random.Random(7)) == want
    watch = moved.add_watch(5, "SOL", "above", 1.0, "", True, T0)  # the identity continues
    assert watch.id > max(w.id for w in want["watches"][0])
    moved.close()

    # a target holding data: refused in one line, nothing changed
    assert main(["migrate-store", "--from", str(source), "--to", url]) == 2
    err = capsys.readouterr().err
    assert "already holds data" in err
    assert "--replace" in err
    again = Store(url)
    assert len(again.watches_of(5)) == 3
    again.close()
    assert main(["migrate-store", "--from", str(source), "--to", url, "--replace"]) == 0
    replaced = Store(url)
    assert len(replaced.watches_of(5)) == 2
    replaced.close()

    back = tmp_path / "back.db"
    assert main(["migrate-store", "--from", url, "--to", str(back)]) == 0
    returned = Store(back)
    assert reads(returned, random.Random(7)) == want
    returned.prune(T0 + timedelta(days=40), timedelta(days=35))
    returned.close()


def test_a_missing_source_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["migrate-store", "--from", str(tmp_path / "none.db"), "--to", str(tmp_path / "x.db")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()
