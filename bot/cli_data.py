"""The commands on the store itself: health (the container's check), import and export of
scenario files."""

from __future__ import annotations

import json
import os
import re
import socket
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from bot.settings import Settings

if TYPE_CHECKING:
    from bot.store import Store


class UsageError(Exception):
    """A command-line argument that cannot be used; the message is one line naming it."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


GATEWAY = "gateway"  # the heartbeat the bot writes while its Discord gateway is connected


def gateway_mark(host: str | None = None) -> str:
    """This host's gateway heartbeat: each bot process beats under its host's name, so the
    health check of one shard's container is not satisfied by another shard's beat."""
    return f"{GATEWAY}:{host or socket.gethostname()}"


# An alert message queued longer than this has not found a poster (every bot process down, or
# Discord refusing every post): the outbox retries for 15 minutes, then drops it.
OUTBOX_MAX_WAIT = timedelta(minutes=5)


def cmd_health(
    settings: Settings,
    max_age: int | None,
    *,
    as_json: bool = False,
    require_gateway: bool = False,
    gateway_max_age: int = 300,
) -> int:
    """For the container's health check. Unhealthy when the scheduler stalled (no job ran,
    success or failure, within ``max_age``), when every source is failing (no job *succeeded*
    within it), when the bot's gateway heartbeat is older than ``gateway_max_age`` (or
    missing, with ``require_gateway``), or when an alert message has waited in the outbox for
    more than :data:`OUTBOX_MAX_WAIT`."""
    from bot.clock import system_clock
    from bot.store import Store

    limit = timedelta(seconds=max_age if max_age is not None else 3 * settings.jobs.tickers_seconds + 60)
    if settings.db_file is not None and not settings.db_file.is_file():
        return _health_verdict([f"no store at {settings.db_file}"], [], as_json=as_json)
    now = system_clock()
    store = Store(settings.db)
    try:
        health = store.source_health()
        beats = store.heartbeats()
        waiting, oldest = store.outbox_waiting(now)
    finally:
        store.close()
    problems: list[str] = []
    notes: list[str] = []
    runs = [t for h in health for t in (h.last_success, h.last_error_at) if t is not None]
    successes = [h.last_success for h in health if h.last_success is not None]
    if not runs:
        problems.append("no collector has run yet")
    elif now - max(runs) > limit:
        problems.append(f"last collector run {_secs(now - max(runs))} s ago (limit {_secs(limit)} s)")
    elif not successes or now - max(successes) > limit:
        ago = f"{_secs(now - max(successes))} s ago" if successes else "ever"
        problems.append(
            f"every source is failing: no collector job succeeded within {_secs(limit)} s (last {ago})"
        )
    else:
        notes.append(f"last collector run {_secs(now - max(runs))} s ago")
    # this host's bot (the container the check runs in); without --require-gateway, any host's
    gateway = beats.get(gateway_mark())
    if gateway is None and not require_gateway:
        gateway = max((t for name, t in beats.items() if name.split(":")[0] == GATEWAY), default=None)
    if gateway is not None and now - gateway > timedelta(seconds=gateway_max_age):
        problems.append(f"Discord gateway heartbeat {_secs(now - gateway)} s old (limit {gateway_max_age} s)")
    elif gateway is None and require_gateway:
        problems.append(
            f"no Discord gateway heartbeat from this host ({socket.gethostname()}) yet (is the bot connected?)"
        )
    elif gateway is not None:
        notes.append(f"gateway heartbeat {_secs(now - gateway)} s ago")
    if oldest is not None:
        said = f"{waiting} alert message{'s' if waiting != 1 else ''} waiting to be posted, the oldest {_secs(now - oldest)} s"
        if now - oldest > OUTBOX_MAX_WAIT:
            problems.append(f"{said} (is a bot process connected and posting?)")
        else:
            notes.append(said)
    return _health_verdict(problems, notes, as_json=as_json)


def _secs(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _health_verdict(problems: list[str], notes: list[str], *, as_json: bool) -> int:
    healthy = not problems
    if as_json:
        print(json.dumps({"healthy": healthy, "problems": problems, "checks": notes}))
    elif healthy:
        print("healthy: " + "; ".join(notes))
    else:
        print("unhealthy: " + "; ".join(problems))
    return 0 if healthy else 1


def cmd_import(settings: Settings, file: Path, *, replace: bool = False) -> int:
    from bot.clock import system_clock
    from bot.scenarios import apply_scenario, load_scenario
    from bot.store import Store

    scenario = load_scenario(file)
    store = Store(settings.db)
    try:
        now = apply_scenario(scenario, store, now=system_clock(), replace=replace)
    finally:
        store.close()
    print(f"imported {scenario.label} into {settings.db_label}, moved to now ({now:%Y-%m-%d %H:%M} UTC)")
    return 0


MAX_SINCE_DAYS = 3650
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def parse_since(text: str) -> timedelta:
    """``--since``: a positive duration like 90m, 24h or 7d, at most ten years."""
    from bot.timeparse import parse_span

    body = text.strip().lstrip("-")
    try:
        span = parse_span(body) if len(body) <= 32 else None
    except (ValueError, OverflowError):
        span = None
    if span is None:
        raise UsageError(f"error: --since {text!r}: use a duration like 90m, 24h or 7d")
    if not timedelta(0) < span <= timedelta(days=MAX_SINCE_DAYS):
        raise UsageError(f"error: --since {text!r}: between 1s and {MAX_SINCE_DAYS}d")
    return span


def _check_export_target(settings: Settings, file: Path, *, force: bool) -> None:
    """Refuse a target that is the store itself (or its WAL files), a folder, or an existing
    file without ``--force``."""
    if not str(file).strip():
        raise UsageError("error: export needs a file path")
    if file.is_dir():
        raise UsageError(f"error: {file} is a folder: give a file path, e.g. {file}/export.json.gz")
    if settings.db_file is None:
        if file.exists() and not force:
            raise UsageError(f"error: {file} exists: pass --force to replace it")
        return  # the store is a database server's, not a file here
    target = os.path.realpath(file)
    db = os.path.realpath(settings.db_file)
    for part in (db, db + "-wal", db + "-shm", db + "-journal"):
        same = target == part or (file.exists() and os.path.exists(part) and os.path.samefile(file, part))
        if same:
            raise UsageError(f"error: {file} is the store itself ({settings.db}): refusing to overwrite it")
    if file.exists() and not force:
        raise UsageError(f"error: {file} exists: pass --force to replace it")


def _export_coins(settings: Settings, store: Store) -> list[str]:
    """The config's coins and, when the set follows the market, the stored tracked set: those
    in ``config/coins.toml`` (a scenario names registry coins, or it does not load)."""
    from bot.coins import CoinRegistry

    if settings.tracking.mode == "fixed":
        return list(settings.coins)
    registry = CoinRegistry.load()
    tracked = [c.symbol for c in store.tracked_coins()]
    left_out = [s for s in tracked if s not in registry]
    if left_out:
        print(
            f"left out {len(left_out)} tracked coin(s) not in config/coins.toml: {', '.join(left_out[:10])}"
        )
    return list(dict.fromkeys([*settings.coins, *(s for s in tracked if s in registry)]))


def cmd_export(settings: Settings, file: Path, *, since: str, name: str, force: bool = False) -> int:
    from bot.clock import system_clock
    from bot.scenarios import export_scenario, write_scenario
    from bot.store import Store

    span = parse_since(since)
    if not _NAME.match(name):
        raise UsageError(f"error: --name {name!r}: lower-case letters, digits, - and _ (at most 64)")
    _check_export_target(settings, file, force=force)
    if settings.db_file is not None and not settings.db_file.is_file():
        raise UsageError(f"error: no store at {settings.db_file}: nothing to export")
    now = system_clock()
    store = Store(settings.db)
    try:
        coins = _export_coins(settings, store)
        scenario = export_scenario(
            store,
            now=now,
            since=span,
            coins=coins,
            name=name,
            since_by_interval={"1d": max(span, timedelta(days=420))},  # levels need the daily history
        )
    finally:
        store.close()
    size = write_scenario(scenario, file)
    print(
        f"wrote {file} ({size / 1e6:.2f} MB): {settings.db_label} from {now - span:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC"
    )
    return 0
