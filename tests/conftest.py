from __future__ import annotations

import gc
import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import discord
import pytest
from discord import app_commands

from bot.app import App, build_app
from bot.client import TapewatchBot, TapewatchTree
from bot.clock import FrozenClock
from bot.errors import UserFacingError
from bot.offline import OfflineSession
from bot.settings import Settings, load_settings
from tests.helpers import every_venue_at
from tools.pg_cluster import Cluster, NoCluster

NOW = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Tests never inherit the developer's TAPEWATCH_* settings or token."""
    import os

    for key in list(os.environ):
        if key.startswith("TAPEWATCH_") or key == "DISCORD_TOKEN":
            monkeypatch.delenv(key)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(NOW)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # Every venue points at a closed loopback port: no test can reach the internet by accident.
    return load_settings(
        db=tmp_path / "store.db",
        coins=["BTC", "ETH", "SOL", "BNB", "XRP", "PEPE"],
        providers=every_venue_at("http://127.0.0.1:9"),
    )


@pytest.fixture
def app(settings: Settings, clock: FrozenClock) -> AsyncIterator[App]:
    built = build_app(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def command_errors(monkeypatch: pytest.MonkeyPatch) -> list[BaseException]:
    """Every error a command raised that is not a user-facing one: tests assert it stays empty."""
    errors: list[BaseException] = []
    original = TapewatchTree.on_error

    async def collecting(
        self: TapewatchTree,
        interaction: discord.Interaction[TapewatchBot],
        error: app_commands.AppCommandError,
    ) -> None:
        cause = getattr(error, "original", None) or error.__cause__ or error
        if not isinstance(cause, UserFacingError | app_commands.CheckFailure):
            errors.append(cause)
        await original(self, interaction, error)

    monkeypatch.setattr(TapewatchTree, "on_error", collecting)
    return errors


@pytest.fixture
async def session(app: App, command_errors: list[BaseException]) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=app.services)) as s:
        yield s
    assert command_errors == []


# -- the store's two backends --------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[Cluster | str]:
    """A throwaway PostgreSQL cluster on loopback for the whole run, or the reason there is none
    (then the PostgreSQL leg is skipped, saying why; with ``CI`` set it fails instead)."""
    cluster = Cluster()
    try:
        cluster.start()
    except NoCluster as exc:
        cluster.stop()
        if os.environ.get("CI"):
            pytest.fail(f"CI is set and no PostgreSQL server could be started: {exc}")
        yield f"PostgreSQL leg skipped (CI unset and no server could be started: {exc})"
        return
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def new_db(request: pytest.FixtureRequest, tmp_path: Path, store_backend: str) -> Iterator[Callable[[], str]]:
    """Makes fresh store targets of this test's backend (``store_backend``): SQLite file paths,
    or PostgreSQL databases dropped after the test."""
    backend = store_backend
    made: list[str] = []
    cluster: Cluster | None = None
    if backend == "postgresql":
        found = request.getfixturevalue("pg_cluster")
        if isinstance(found, str):
            pytest.skip(found)
        cluster = found

    def make() -> str:
        target = str(tmp_path / f"s{len(made) or ''}.db") if cluster is None else cluster.new_database()
        made.append(target)
        return target

    yield make
    if cluster is not None:
        # stores a test left open close their reader pools here, on this thread (collected from
        # one of the pool's own workers, a pool cannot join that worker)
        gc.collect()
        for url in made:
            cluster.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def store_backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db(store_backend: str, new_db: Callable[[], str]) -> str:
    """A fresh store target, once per backend: a SQLite file path or a PostgreSQL URL."""
    return new_db()
