"""No answer changes with the backend, as users see it: every bundled scenario imported into a
SQLite store and into a PostgreSQL store, the same commands answered through the real bot on
both, and the exact message payloads Discord would receive compared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app, scenario_app
from bot.client import TapewatchBot
from bot.clock import FrozenClock
from bot.offline import OfflineSession, message_payload
from bot.scenarios import apply_scenario, bundled, load_scenario
from bot.settings import load_settings
from tests.helpers import every_venue_at

COMMANDS = (
    "/why",
    "/why coin:BTC window:4h",
    "/why coin:ETH window:7d",
    "/price coin:BTC",
    "/movers",
    "/derivatives",
    "/derivatives coin:ETH",
    "/liquidations",
    "/liquidations coin:BTC window:1h",
    "/levels coin:BTC",
    "/status",
)

pytestmark = pytest.mark.parametrize("store_backend", ["postgresql"])


def pg_scenario_app(path: Path, url: str) -> App:
    """:func:`bot.app.scenario_app`, on a PostgreSQL database."""
    scenario = load_scenario(path)
    settings = load_settings(
        providers=every_venue_at("http://127.0.0.1:9"), db=url, coins=list(scenario.coins)
    )
    label = f"{scenario.label}, not the live market" if scenario.sample_data else f"scenario {scenario.name}"
    app = build_app(settings, clock=FrozenClock(scenario.now), data_label=label)
    apply_scenario(scenario, app.store.sync)
    return app


async def answers(app: App) -> list[dict[str, Any]]:
    out = []
    async with OfflineSession(TapewatchBot(services=app.services)) as session:
        for command in COMMANDS:
            await session.invoke(command)
            out.append(shown(message_payload(session.fake.messages()[-1])))
    return out


def shown(payload: dict[str, Any]) -> dict[str, Any]:
    """What the user sees: an answer that took longer is deferred and sent as a follow-up,
    whose payload spells out defaults (``tts``, ``content: None``) the direct reply leaves out."""
    return {k: v for k, v in payload.items() if k != "tts" and v not in (None, [], {})}


@pytest.mark.parametrize("name", sorted(bundled()))
async def test_every_scenario_answers_alike_on_both_backends(
    name: str, new_db: Callable[[], str], tmp_path: Path
) -> None:
    path = Path(bundled()[name])
    settings = load_settings(providers=every_venue_at("http://127.0.0.1:9"))
    lite = scenario_app(settings, path, tmp_path)
    pg = pg_scenario_app(path, new_db())
    try:
        want, got = await answers(lite), await answers(pg)
    finally:
        lite.close()
        pg.close()
    for command, a, b in zip(COMMANDS, want, got, strict=True):
        assert b == a, command
