"""Rows, statistics and the printed table (plus its JSON twin)."""

from __future__ import annotations

import json
import math
import os
import platform
import sqlite3
import statistics
import sys
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

OK = "ok"
MISS = "MISS"
INFO = "—"  # a figure to report, without a goal
NA = "n/a"  # a goal that could not be judged (e.g. both sides timed out)

Value = float | int | str | bool | None | dict[str, int]


@dataclass
class Row:
    """One line of the table. ``result`` and ``peer`` are the printed figures, ``values`` the
    same numbers for the JSON (seconds, bytes, counts)."""

    section: str  # "1", "2", … as in the issue
    name: str
    result: str
    peer: str  # the same-run peer or floor, and the ratio to it
    goal: str
    status: str
    note: str = ""
    values: dict[str, Value] = field(default_factory=dict)


def percentile(samples: Sequence[float], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default); with fewer than 100
    samples p99 is close to the maximum."""
    if not samples:
        return math.nan
    ordered = sorted(samples)
    pos = (len(ordered) - 1) * q / 100.0
    lo = math.floor(pos)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (pos - lo)


def median(values: Sequence[float]) -> float:
    finite = [v for v in values if not math.isnan(v)]
    return statistics.median(finite) if finite else math.nan


def ms(seconds: float | None) -> str:
    if seconds is None or math.isnan(seconds):
        return "n/a"
    value = seconds * 1000
    if value >= 10_000:
        return f"{value / 1000:,.1f} s"
    if value >= 100:
        return f"{value:,.0f} ms"
    if value >= 10:
        return f"{value:.1f} ms"
    return f"{value:.2f} ms"


def ratio(value: float | None) -> str:
    if value is None or math.isnan(value):
        return "n/a"
    return f"{value:.2f}×" if value < 10 else f"{value:,.0f}×"


def size(n_bytes: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n_bytes >= scale:
            return f"{n_bytes / scale:,.1f} {unit}"
    return f"{n_bytes:,.0f} B"


def rate(per_s: float) -> str:
    return f"{per_s:,.0f}/s"


def status(*passed: bool | None) -> str:
    """MISS when any judged goal failed, n/a when none could be judged, else ok."""
    judged = [p for p in passed if p is not None]
    if any(p is False for p in judged):
        return MISS
    return OK if judged else NA


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def machine() -> dict[str, Value]:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        usable = os.cpu_count() or 0
    return {
        "cores": os.cpu_count() or 0,
        "usable_cores": usable,
        "cpu": cpu_model(),
        "python": sys.version.split()[0],
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "date_utc": datetime.now(UTC).strftime("%Y-%m-%d %H:%M"),
    }


def header(info: dict[str, Value], args: dict[str, Value]) -> str:
    lines = [
        "Tapewatch bench",
        f"machine: {info['cores']} cores ({info['usable_cores']} usable), CPU {info['cpu']}",
        f"         Python {info['python']}, SQLite {info['sqlite']}, {info['platform']}, {info['date_utc']} UTC",
        "run:     " + ", ".join(f"{k}={v}" for k, v in args.items()),
    ]
    return "\n".join(lines)


COLUMNS = (
    ("#", 2),
    ("benchmark", 0),
    ("result", 0),
    ("same-run peer / ratio", 0),
    ("goal", 0),
    ("status", 6),
)


def table(rows: Sequence[Row]) -> str:
    """A plain-text table; notes follow it, numbered [n] where a row refers to them."""
    notes: list[str] = []
    cells: list[list[str]] = []
    for row in rows:
        name = row.name
        if row.note:
            notes.append(row.note)
            name += f" [{len(notes)}]"
        cells.append([row.section, name, row.result, row.peer, row.goal, row.status])
    widths = [
        max(minimum, len(title), *(len(c[i]) for c in cells)) if cells else max(minimum, len(title))
        for i, (title, minimum) in enumerate(COLUMNS)
    ]

    def line(values: Sequence[str]) -> str:
        return " | ".join(v.ljust(w) for v, w in zip(values, widths, strict=True)).rstrip()

    out = [line([t for t, _ in COLUMNS]), "-+-".join("-" * w for w in widths)]
    previous = None
    for c in cells:
        if previous is not None and c[0] != previous:
            out.append("-+-".join("-" * w for w in widths))
        previous = c[0]
        out.append(line(c))
    if notes:
        out.append("")
        out.extend(f"[{i}] {n}" for i, n in enumerate(notes, 1))
    return "\n".join(out)


def write_json(path: Path, info: dict[str, Value], args: dict[str, Value], rows: Sequence[Row]) -> None:
    def clean(value: Any) -> Any:
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            return None
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    payload = {"machine": info, "args": args, "rows": [clean(asdict(r)) for r in rows]}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
