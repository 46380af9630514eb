"""Child process for the crash-consistency test: forks ingesting workers that the parent kills.

Run as ``python -m tests.reliability._child_ingest DB SEED`` from the repository root. The
process imports the store once, prints ``ready`` and then obeys stdin, one command a line:

``start N``  fork a worker that opens the store (prints ``opened PID``), then forever builds
             batch N, calls :meth:`Store.insert_liquidations` and prints ``committed PID N``
             only after that call returned, then N + 1, ...
``wait PID`` reap that worker once the parent has SIGKILLed it (prints ``exited PID SIGNAL``);
             every line the worker wrote is in the pipe before this one.

Forking from an already-imported process keeps each kill/restart cycle at a few milliseconds
instead of an interpreter start-up; the worker is still a separate process with its own SQLite
connection, killed with SIGKILL. No SQLite connection exists in this process before a fork.

:func:`batch` is deterministic in ``(seed, batch_id)``, so the parent rebuilds exactly what each
batch held. Batches overlap in time (same minutes and hours, several coins and venues), so a
roll-up refresh always has to merge events of earlier batches.
"""

from __future__ import annotations

import os
import random
import sys
import traceback
from datetime import UTC, datetime, timedelta

from bot.models import Liquidation
from bot.store import Store

BASE = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
SPAN_MS = 3 * 3600 * 1000  # three hours: batches share minutes and hours
VENUES = ("binance", "bybit", "okx")
COINS = ("BTC", "ETH", "SOL")
SIDES = ("long", "short")
MAX_BATCH = 150


def batch(seed: int, batch_id: int) -> list[Liquidation]:
    """The events of one batch. USD values are whole dollars so roll-up sums are exact."""
    rng = random.Random(f"{seed}:{batch_id}")
    events = []
    for i in range(rng.randint(1, MAX_BATCH)):
        qty = rng.randint(1, 50)
        price = rng.randint(1, 90_000)
        events.append(
            Liquidation(
                venue=rng.choice(VENUES),
                coin=rng.choice(COINS),
                side=rng.choice(SIDES),
                price=float(price),
                qty=float(qty),
                usd=float(price * qty),
                ts=BASE + timedelta(milliseconds=rng.randrange(SPAN_MS)),
                event_id=f"b{batch_id}-e{i}",
            )
        )
    return events


def say(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def worker(db: str, seed: int, batch_id: int) -> None:
    """Runs in the forked child until SIGKILL."""
    store = Store(db)
    pid = os.getpid()
    say(f"opened {pid}")
    while True:
        store.insert_liquidations(batch(seed, batch_id))
        say(f"committed {pid} {batch_id}")
        batch_id += 1


def main(argv: list[str]) -> int:
    db, seed = argv[0], int(argv[1])
    say("ready")
    for line in sys.stdin:
        command, _, arg = line.strip().partition(" ")
        if command == "start":
            pid = os.fork()
            if pid == 0:
                try:
                    worker(db, seed, int(arg))
                except BaseException:
                    traceback.print_exc()
                    sys.stderr.flush()
                finally:
                    os._exit(1)  # only reached on an error: never return into this loop
            say(f"started {pid}")
        elif command == "wait":
            pid, status = os.waitpid(int(arg), 0)
            say(f"exited {pid} {os.WTERMSIG(status) if os.WIFSIGNALED(status) else -1}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
