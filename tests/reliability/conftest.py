"""Shared pieces of the reliability suite: the ``reliability`` marker, a scenario store built
once per session (copied per test), the roll-up consistency check, and the scan of every
message the fake Discord received (no pings, and nothing Discord would refuse)."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app
from bot.clock import FrozenClock
from bot.fake_discord import DiscordRequest
from bot.scenarios import Scenario, apply_scenario, bundled, load_scenario
from bot.settings import load_settings
from bot.store import Store
from bot.store.schema import ALL_COINS, HOUR_MS
from tests.helpers import every_venue_at


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reliability: slow reliability checks (SIGKILL crash loop, long run); "
        "deselect with -m 'not reliability'",
    )


# -- a populated store --------------------------------------------------------------------------


@dataclass(frozen=True)
class BuiltScenario:
    path: Path
    scenario: Scenario


@pytest.fixture(scope="session")
def selloff_db(tmp_path_factory: pytest.TempPathFactory) -> BuiltScenario:
    """The bundled "selloff" market state applied once (about 2 s), copied by each user."""
    scenario = load_scenario(bundled()["selloff"])
    path = tmp_path_factory.mktemp("selloff") / "selloff.db"
    store = Store(path)
    try:
        apply_scenario(scenario, store)
    finally:
        store.close()
    return BuiltScenario(path, scenario)


def copy_store(src: Path, dst: Path) -> None:
    with closing(sqlite3.connect(src)) as source, closing(sqlite3.connect(dst)) as target:
        source.backup(target)


def scenario_app_copy(built: BuiltScenario, workdir: Path, *, data_label: str | None = None) -> App:
    """An app over a private copy of the scenario store, clock stopped at the scenario's now,
    every venue pointed at a closed loopback port."""
    db = workdir / "scenario.db"
    copy_store(built.path, db)
    settings = load_settings(
        db=db, coins=list(built.scenario.coins), providers=every_venue_at("http://127.0.0.1:9")
    )
    label = data_label if data_label is not None else f"{built.scenario.label}, not the live market"
    return build_app(settings, clock=FrozenClock(built.scenario.now), data_label=label)


@pytest.fixture
def selloff_app(selloff_db: BuiltScenario, tmp_path: Path) -> Iterator[App]:
    app = scenario_app_copy(selloff_db, tmp_path)
    yield app
    app.close()


# -- store consistency --------------------------------------------------------------------------


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)
    return bool(a == b)


def _diff(name: str, expected: dict[Any, tuple[Any, ...]], actual: dict[Any, tuple[Any, ...]]) -> list[str]:
    problems = []
    for key in set(expected) | set(actual):
        want, got = expected.get(key), actual.get(key)
        if want == got:
            continue
        if want is None or got is None or not all(_close(w, g) for w, g in zip(want, got, strict=True)):
            problems.append(f"{name} {key}: expected {want}, stored {got}")
    return sorted(problems)


def rollup_mismatches(conn: sqlite3.Connection) -> list[str]:
    """Every row of ``liq_minute`` and ``liq_hour`` (per coin and market-wide ``*``) recomputed
    from the raw ``liquidations`` rows; returns the differences (empty when consistent).
    Only valid while nothing was pruned (pruning keeps roll-ups of deleted raw rows)."""

    def rows(sql: str) -> dict[Any, tuple[Any, ...]]:
        return {tuple(r[:4]): tuple(r[4:]) for r in conn.execute(sql).fetchall()}

    minute_want = rows(
        "SELECT coin, minute_ms, side, venue, SUM(usd), COUNT(*), MAX(usd) FROM liquidations "
        "GROUP BY coin, minute_ms, side, venue"
    )
    minute_got = rows("SELECT coin, minute_ms, side, venue, usd, events, max_usd FROM liq_minute")
    hour_want = rows(
        f"SELECT coin, ts_ms / {HOUR_MS} * {HOUR_MS} AS h, side, venue, SUM(usd), COUNT(*), MAX(usd) "
        "FROM liquidations GROUP BY coin, h, side, venue "
        f"UNION ALL SELECT '{ALL_COINS}', ts_ms / {HOUR_MS} * {HOUR_MS} AS h, side, venue, SUM(usd), "
        "COUNT(*), MAX(usd) FROM liquidations GROUP BY h, side, venue"
    )
    hour_got = rows("SELECT coin, hour_ms, side, venue, usd, events, max_usd FROM liq_hour")
    return _diff("liq_minute", minute_want, minute_got) + _diff("liq_hour", hour_want, hour_got)


@pytest.fixture
def check_rollups() -> Callable[[sqlite3.Connection], list[str]]:
    return rollup_mismatches


# -- what the fake Discord received -------------------------------------------------------------

EMBED_LIMITS = {"title": 256, "description": 4096, "footer": 2048, "author": 256, "total": 6000}


def message_payloads(requests: list[DiscordRequest]) -> list[tuple[DiscordRequest, dict[str, Any]]]:
    """Every request that carries a message (interaction replies and updates, follow-ups and
    their edits, channel posts), with its message part. A request carrying ``content`` or
    ``embeds`` anywhere else fails the test: no path may slip past the scan."""
    out = []
    for r in requests:
        body = r.json if isinstance(r.json, dict) else {}
        if r.method == "POST" and r.path.endswith("/callback"):
            kind = body.get("type")
            data = body.get("data") or {}
            if kind in (4, 7):
                out.append((r, dict(data)))
                continue
            assert not {"content", "embeds"} & set(data), f"message in callback type {kind}"
        elif (r.method in ("POST", "PATCH") and r.path.startswith("/webhooks/")) or (
            r.method == "POST" and r.path.startswith("/channels/") and r.path.endswith("/messages")
        ):
            out.append((r, dict(body)))
        else:
            assert not {"content", "embeds"} & set(body), f"unscanned message: {r.method} {r.path}"
    return out


def limit_problems(payload: dict[str, Any]) -> list[str]:
    """What Discord would refuse with HTTP 400 (message and embed size limits, empty fields)."""
    problems = []
    if len(payload.get("content") or "") > 2000:
        problems.append("content over 2000 characters")
    embeds = payload.get("embeds") or []
    if len(embeds) > 10:
        problems.append("more than 10 embeds")
    for e in embeds:
        title = e.get("title") or ""
        description = e.get("description") or ""
        footer = (e.get("footer") or {}).get("text") or ""
        author = (e.get("author") or {}).get("name") or ""
        fields = e.get("fields") or []
        for key, value in (
            ("title", title),
            ("description", description),
            ("footer", footer),
            ("author", author),
        ):
            if len(value) > EMBED_LIMITS[key]:
                problems.append(f"embed {key} over {EMBED_LIMITS[key]} characters")
        if len(fields) > 25:
            problems.append("more than 25 embed fields")
        for f in fields:
            if not 1 <= len(f.get("name") or "") <= 256:
                problems.append(f"field name length {len(f.get('name') or '')}: {f.get('name')!r:.60}")
            if not 1 <= len(f.get("value") or "") <= 1024:
                problems.append(f"field value length {len(f.get('value') or '')}: {f.get('name')!r:.60}")
        total = len(title) + len(description) + len(footer) + len(author)
        total += sum(len(f.get("name") or "") + len(f.get("value") or "") for f in fields)
        if total > EMBED_LIMITS["total"]:
            problems.append(f"embed total {total} over 6000 characters")
    return problems


def ping_problems(payload: dict[str, Any], allowed_roles: frozenset[str] = frozenset()) -> list[str]:
    """Why a message could ping someone. Discord pings only what ``allowed_mentions`` allows,
    whatever the text says: it must be present, parse nothing, name no user, and name only a
    role a server admin chose (``allowed_roles``; the alerts' opt-in role ping)."""
    allowed = payload.get("allowed_mentions")
    if not isinstance(allowed, dict):
        return ["no allowed_mentions: Discord would parse every mention in the text"]
    problems = []
    if allowed.get("parse") != []:
        problems.append(f"allowed_mentions.parse = {allowed.get('parse')!r}")
    if allowed.get("users"):
        problems.append(f"allowed_mentions.users = {allowed['users']!r}")
    extra = {str(r) for r in allowed.get("roles") or []} - allowed_roles
    if extra:
        problems.append(f"allowed_mentions.roles = {sorted(extra)!r}")
    if set(allowed) - {"parse", "users", "roles", "replied_user"}:
        problems.append(f"unknown allowed_mentions keys {sorted(allowed)!r}")
    if allowed.get("replied_user"):
        problems.append("allowed_mentions.replied_user is true")
    return problems


def assert_no_pings(
    requests: list[DiscordRequest], allowed_roles: frozenset[str] = frozenset()
) -> list[dict[str, Any]]:
    """Every message payload pings no one (see :func:`ping_problems`) and fits Discord's
    limits; returns the payloads."""
    payloads = []
    for r, payload in message_payloads(requests):
        where = f"{r.method} {r.path}"
        assert ping_problems(payload, allowed_roles) == [], f"{where}: {ping_problems(payload)}: {payload}"
        assert limit_problems(payload) == [], f"{where}: {limit_problems(payload)}"
        payloads.append(payload)
    return payloads
