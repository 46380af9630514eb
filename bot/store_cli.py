"""``tapewatch migrate-store --from A --to B``: move a whole store to another backend (a SQLite
file to PostgreSQL when one machine is outgrown, or back), in one transaction of the target."""

from __future__ import annotations

import argparse
from pathlib import Path

from bot.settings import is_database_url, redact_url
from bot.store import Store
from bot.store.copy import TargetNotEmpty, copy_store
from bot.store.open import StoreError


def add_store_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    move = sub.add_parser(
        "migrate-store",
        help="copy every table of one store into another (e.g. tapewatch.db → postgresql://…), one transaction",
    )
    move.add_argument("--from", dest="source", required=True, help="the store to read (file or URL)")
    move.add_argument("--to", dest="target", required=True, help="the store to fill (file or URL)")
    move.add_argument(
        "--replace", action="store_true", help="empty a target that holds data first (same transaction)"
    )


def cmd_migrate_store(source: str, target: str, *, replace: bool = False) -> int:
    if not is_database_url(source) and not Path(source).is_file():
        raise StoreError(f"store {source}: no such file: nothing to migrate")
    if source == target:
        raise StoreError(f"store {redact_url(source)}: --from and --to are the same store")
    src = Store(source)
    try:
        dst = Store(target)
        try:
            report = copy_store(src, dst, replace=replace)
        except TargetNotEmpty as exc:
            raise StoreError(str(exc)) from None
        finally:
            dst.close()
    finally:
        src.close()
    print(
        f"moved {report.total} rows in {len(report.rows)} tables from {redact_url(source)} "
        f"to {redact_url(target)} in {report.seconds:.1f} s"
    )
    return 0
