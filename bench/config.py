"""Bench configuration that must exist before any ``bot`` module is imported.

The bench tracks up to a few hundred coins, more than ``config/coins.toml`` lists, so it writes
its own settings directory — the project's ``tapewatch.toml`` and a ``coins.toml`` holding the
real registry followed by synthetic coins — and points ``TAPEWATCH_CONFIG`` at it. The registry
sits beside the settings file (``bot.coins.DEFAULT_REGISTRY``), so every real code path —
``build_app``, ``tests.fake_venues.venue_routes``, a child ``tapewatch``-like process — sees the
same coins without any patching. Nothing here imports ``bot``.
"""

from __future__ import annotations

import json
import os
import shutil
import tomllib
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent
REAL_CONFIG = PROJECT_ROOT / "config" / "tapewatch.toml"
REAL_REGISTRY = PROJECT_ROOT / "config" / "coins.toml"
SYNTHETIC_PREFIX = "SYN"


def real_coin_rows() -> list[dict[str, Any]]:
    with REAL_REGISTRY.open("rb") as fh:
        rows: list[dict[str, Any]] = tomllib.load(fh)["coin"]
    return rows


def synthetic_row(index: int) -> dict[str, Any]:
    """A made-up coin listed on every venue under the usual id patterns."""
    symbol = f"{SYNTHETIC_PREFIX}{index:03d}"
    return {"symbol": symbol, "name": f"Synthetic {index:03d}", "coingecko": f"synthetic-{index:03d}"}


def coin_rows(count: int) -> list[dict[str, Any]]:
    """The real registry's coins in file order, then synthetic ones up to ``count``."""
    rows = real_coin_rows()
    if count <= len(rows):
        return rows[:count]
    return rows + [synthetic_row(i) for i in range(len(rows) + 1, count + 1)]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)  # a TOML basic string


def write_registry(path: Path, rows: list[dict[str, Any]]) -> None:
    lines = ["# written by the bench: config/coins.toml plus synthetic coins", "coin = ["]
    for row in rows:
        body = ", ".join(f"{key} = {_toml_value(value)}" for key, value in row.items())
        lines.append(f"  {{ {body} }},")
    lines.append("]")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def prepare_config(workdir: Path, max_coins: int) -> tuple[Path, list[str]]:
    """Write ``workdir/config/{tapewatch,coins}.toml``, point ``TAPEWATCH_CONFIG`` at it (for
    this process and its children) and return the settings path and every symbol, in order.

    Clears the caller's ``TAPEWATCH_*`` overrides and ``DISCORD_TOKEN``: the bench must not
    measure, or reach, whatever the developer's shell points at."""
    for key in list(os.environ):
        if key.startswith("TAPEWATCH_") or key == "DISCORD_TOKEN":
            del os.environ[key]
    config_dir = workdir / "config"
    config_dir.mkdir(parents=True, exist_ok=True)
    settings_path = config_dir / "tapewatch.toml"
    shutil.copyfile(REAL_CONFIG, settings_path)
    rows = coin_rows(max_coins)
    write_registry(config_dir / "coins.toml", rows)
    os.environ["TAPEWATCH_CONFIG"] = str(settings_path)
    return settings_path, [str(r["symbol"]) for r in rows]
