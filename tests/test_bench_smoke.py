"""A tiny run of the bench command (``python -m bench --quick``): it completes and prints every
row of the table with a status, plus the machine header. No timing is asserted: the figures
depend on the machine, and the bench itself marks missed goals."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tools.pg_cluster import find_bin

ROOT = Path(__file__).resolve().parent.parent
COINS = (2, 3)
DAYS = (1, 2)
YEAR_DAYS = 40  # --quick's simulated "year" (section 10): the raw retention window and 3 days
HANDLERS = (
    "/why coin:… 24h",
    "/why 24h (market)",
    "/liquidations coin:…",
    "/liquidations (market)",
    "/levels coin:…",
)
VENUES = ("binance", "bybit", "okx", "coingecko")
STATUSES = {"ok", "MISS", "—", "n/a"}


def expected_rows() -> list[str]:
    """Every row name the table must hold for ``--coins 2,3 --days 1,2``."""
    rows = [f"{h} · {c} coins · {d} d" for c in COINS for d in DAYS for h in HANDLERS]
    rows += [f"{h} · {c} coins · {DAYS[1]} d vs {DAYS[0]} d history" for c in COINS for h in HANDLERS]
    rows += [f"liquidation ingest · {COINS[-1]} coins · {d} d store" for d in DAYS]
    rows += [f"requests per refresh cycle · {v} · {COINS[-1]} coins" for v in VENUES]
    rows += [f"tracked set following the market · {v} · {COINS[-1]} coins" for v in VENUES]
    rows += [
        "10 concurrent interactions via discord.py: answered",
        "10 concurrent interactions via discord.py: latency",
        "event-loop lag during the burst (5 ms sleeper, max overshoot)",
    ]
    rows += [
        "chart render /levels",
        "chart render /liquidations",
        "chart cache: 50 identical /levels requests within 1 s",
        "event-loop lag during the chart burst",
    ]
    rows += [f"{h} at {DAYS[1]} d of events · {COINS[-1]} coins" for h in HANDLERS[2:4]]
    rows += [f"store size · {c} coins · {d} d" for c in COINS for d in DAYS]
    rows += [
        f"store growth per tracked coin per day ({COINS[-1]} coins, {DAYS[0]} → {DAYS[1]} d)",
        f"peak RSS, run-like process · {COINS[-1]} coins · {DAYS[1]} d store",
    ]
    rows += [
        "liquidation stream event → alert POST on the fake Discord",
        "alert fan-out to 50 subscribed channels (one evaluation)",
        "large-liquidation pass, 100 channels × a 10-min cascade (cold / warm / after a restart)",
    ]
    rows += [f"30 mixed at once: {what}" for what in ("acknowledged", "answer latency", "event-loop lag")]
    rows += ["100 identical /why coin:"] * 3  # acknowledged, latency, computations
    rows += [f"100 mixed at once: {what}" for what in ("acknowledged", "answer latency")]
    rows += ["sustained load: the knee (answer p99 passes 1 s)"]
    rows += ["twice the knee"] * 2 + ["sustained 50 mixed/s for 1 s"] * 2  # acknowledged, latency
    rows += [
        f"store size after a simulated year · {COINS[-1]} coins · {YEAR_DAYS} d",
        f"store growth per day at steady state · {COINS[-1]} coins",
    ]
    rows += ["alert fan-out to 200 subscriptions, 2 shard processes, Discord's global limit emulated"]
    if find_bin() is None:  # the PostgreSQL section says in one row why it did not run
        return [*rows, "PostgreSQL store beside SQLite"]
    shape = f"{COINS[-1]} coins · {DAYS[0]} d"
    rows += [f"migrate-store SQLite → PostgreSQL · {shape}"]
    rows += [f"{h} on PostgreSQL · {shape}" for h in HANDLERS]
    rows += [f"liquidation ingest on PostgreSQL · {shape}"]
    return rows


def test_quick_bench_prints_every_row(tmp_path: Path) -> None:
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--coins",
            ",".join(map(str, COINS)),
            "--days",
            ",".join(map(str, DAYS)),
            "--interactions",
            "10",
            "--json",
            str(out),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    stdout = done.stdout
    header = stdout.split("\n\n", 1)[0]
    for part in (" cores ", "CPU ", "Python 3.", "SQLite 3."):
        assert part in header

    data = json.loads(out.read_text())
    names = [r["name"] for r in data["rows"]]
    for expected in expected_rows():
        assert any(n.startswith(expected) for n in names), f"no row {expected!r}"
    assert len(names) == len(expected_rows())
    for row in data["rows"]:
        assert row["name"] in stdout  # printed, not only in the JSON
        assert row["status"] in STATUSES
        assert row["result"]
        assert row["goal"]
    assert {r["section"] for r in data["rows"]} == {*map(str, range(1, 13))}
    assert data["machine"]["cores"] >= 1
    [fan_out] = [r for r in data["rows"] if r["section"] == "12"]
    assert (fan_out["values"]["lost"], fan_out["values"]["doubled"]) == (0, 0)  # timing is not judged
    assert fan_out["values"]["rate_limited"] > 0  # the emulated global limit was met and waited out
