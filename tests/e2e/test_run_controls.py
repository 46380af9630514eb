"""Reply controls survive a restart of ``tapewatch run`` itself: a /why answered by one process,
its window button pressed after that process stopped and a new one started — over the fake
Discord's gateway, as Discord would send it — edits the message in place."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path
from typing import Any

from bot.cli import main as cli
from bot.fake_discord import USER_ID
from bot.fake_gateway import FakeDiscordServer
from bot.scenarios import bundled
from tests.e2e.running import payloads, start_run, stop_run, write_config


async def _wait_for(predicate: Any, what: str, seconds: float = 60) -> None:
    for _ in range(int(seconds * 10)):
        if predicate():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _with_controls(server: FakeDiscordServer) -> list[dict[str, Any]]:
    return [m for m in server.fake.stored.values() if m.get("components") and m.get("embeds")]


async def _start(server: FakeDiscordServer, config: Path, db: Path) -> Any:
    server.identified.clear()
    run = start_run(config, db)
    await asyncio.wait_for(server.identified.wait(), 60)
    await asyncio.sleep(2.5)  # discord.py waits for guilds after READY before dispatching
    return run


async def test_a_button_pressed_after_a_restart_edits_the_message(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    assert cli(["--db", str(db), "import", str(bundled()["selloff"])]) == 0
    server = FakeDiscordServer()
    await server.start()
    config = write_config(tmp_path / "tapewatch.toml", server.root)
    errors = []
    try:
        run = await _start(server, config, db)
        try:
            [why] = await payloads(["/why coin:BTC"])
            await server.dispatch("INTERACTION_CREATE", why)
            await _wait_for(lambda: _with_controls(server), "the /why answer")
        finally:
            errors.append(stop_run(run, signal.SIGTERM))
        [message] = _with_controls(server)
        four = next(c for row in message["components"] for c in row["components"] if c["label"] == "4h")

        run = await _start(server, config, db)  # a new process: nothing of the first one kept
        try:
            press = (await _press_payloads(message, four["custom_id"]))[0]
            server.fake.pressed_on(press["token"], message)
            await server.dispatch("INTERACTION_CREATE", press)
            await _wait_for(lambda: server.fake.stored[message["id"]] != message, "the edit")
        finally:
            errors.append(stop_run(run, signal.SIGTERM))
    finally:
        await server.close()
    edited = server.fake.stored[message["id"]]
    assert " in 4h" in edited["embeds"][0]["title"]
    assert [m["id"] for m in _with_controls(server)] == [message["id"]]  # edited, not a new message
    assert server.fake.refused == []
    for err in errors:
        assert "Traceback" not in err, err[-3000:]
        assert "failed (guild" not in err, err[-3000:]  # no command or button failed


async def _press_payloads(message: dict[str, Any], custom_id: str) -> list[dict[str, Any]]:
    """The press, typed as Discord sends it (by the author of the /why)."""
    [template] = await payloads(["/why"])
    payload = {**template, "type": 3, "message": message}
    payload["data"] = {"custom_id": custom_id, "component_type": 2}
    assert payload["member"]["user"]["id"] == str(USER_ID)
    return [payload]
