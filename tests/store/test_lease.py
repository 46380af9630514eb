"""Leases: one process at a time holds a role among the processes on one store, and another
takes it over when the holder dies — on both backends, with real processes killed."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from bot.store.lease import Lease

ROOT = Path(__file__).resolve().parents[2]
HOLDER = (
    "import sys, time\n"
    "from bot.store.lease import Lease\n"
    "lease = Lease(sys.argv[1], 'alerts')\n"
    "print('held' if lease.held() else 'refused', flush=True)\n"
    "time.sleep(600)\n"
)


def wait_for(condition: object, seconds: float = 20.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.05)
    return False


def test_one_holder_at_a_time_and_a_takeover_when_it_dies(db: str) -> None:
    target = db
    if not target.startswith("postgresql"):
        Path(target).touch()
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, target], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        mine = Lease(target, "alerts")
        other_role = Lease(target, "something-else")
        assert not mine.held()  # the other process holds it
        assert other_role.held()  # another role is another lease
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        assert wait_for(mine.held), "the lease was not taken over after its holder died"
        assert mine.held()  # and stays ours
        again = Lease(target, "alerts")
        assert not again.held()  # one holder: this process's other lease object waits too
        mine.release()
        assert wait_for(again.held)
        again.release()
        other_role.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()


def test_an_in_memory_store_always_leads() -> None:
    assert Lease(":memory:", "alerts").held()


@pytest.mark.parametrize("store_backend", ["postgresql"])
def test_a_holder_the_server_dropped_knows_it_lost_the_lease(new_db: Callable[[], str]) -> None:
    url = new_db()
    lease = Lease(url, "alerts")
    assert lease.held()
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
    assert not lease.held()  # found out: it may have been taken over meanwhile
    assert lease.held()  # free again: taken back on a new connection
    lease.release()
