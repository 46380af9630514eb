"""A burst through ``tapewatch run`` itself: the real process, logged in to the loopback fake
Discord (REST and gateway, ``discord.api_url``), its collectors pointed at a closed port. 200
mixed interactions sent at once over the gateway are every one acknowledged within Discord's
3 s (the fake refuses anything later) and answered."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from bot.cli import main as cli
from bot.fake_gateway import FakeDiscordServer
from bot.scenarios import bundled
from tests.e2e.running import payloads, start_run, stop_run, write_config

ROOT = Path(__file__).resolve().parents[2]
BURST = 200


def _mixed(count: int) -> list[str]:
    coins, windows = ["BTC", "ETH", "SOL", "BNB", "XRP"], ["1h", "4h", "24h", "7d"]
    texts = []
    for i in range(count):
        coin, window = coins[i % len(coins)], windows[i % len(windows)]
        texts.append(
            [
                f"/why window:{window}",
                f"/why coin:{coin} window:{window}",
                f"/price coin:{coin}",
                f"/liquidations coin:{coin}",
                f"/levels coin:{coin}",
            ][i % 5]
        )
    return texts


async def test_a_burst_through_tapewatch_run_never_misses_the_deadline(tmp_path: Path) -> None:
    db = tmp_path / "store.db"
    assert cli(["--db", str(db), "import", str(bundled()["selloff"])]) == 0
    server = FakeDiscordServer()
    await server.start()
    run = start_run(write_config(tmp_path / "tapewatch.toml", server.root), db)
    try:
        await asyncio.wait_for(server.identified.wait(), 60)
        sent = await payloads(_mixed(BURST))
        await asyncio.sleep(2.5)  # discord.py waits for guilds after READY before dispatching
        for payload in sent:
            await server.dispatch("INTERACTION_CREATE", payload)
        ids = {p["id"] for p in sent}
        answered: set[str] = set()
        for _ in range(600):  # at most a minute
            answered = {
                r.path.split("/")[2]
                for r in server.fake.requests
                if r.path.endswith("/callback") and r.path.split("/")[2] in ids
            }
            followed = {r.path for r in server.fake.requests if r.path.startswith("/webhooks/")}
            if len(answered) == BURST and len(followed) + _direct(server) >= BURST:
                break
            await asyncio.sleep(0.1)
        assert [(r.code, r.reason[:80]) for r in server.fake.refused] == []
        assert len(answered) == BURST
    finally:
        err = stop_run(run, signal.SIGINT)
        await server.close()
    # no command failed, none expired, and Ctrl-C stopped it quietly
    assert "Traceback" not in err, err[-3000:]
    assert "failed (guild" not in err, err[-3000:]
    assert "expired" not in err, err[-3000:]
    assert "dropped an interaction" not in err, err[-3000:]


def _direct(server: FakeDiscordServer) -> int:
    """Interactions answered in their callback (type 4), not by a follow-up."""
    return sum(
        1
        for r in server.fake.requests
        if r.path.endswith("/callback") and isinstance(r.json, dict) and r.json.get("type") == 4
    )


async def test_sigterm_stops_tapewatch_run_cleanly(tmp_path: Path) -> None:
    """``docker stop`` sends SIGTERM: the running bot logs out, stops its scheduler and streams,
    and exits 0 without a traceback."""
    db = tmp_path / "store.db"
    server = FakeDiscordServer()
    await server.start()
    run = start_run(write_config(tmp_path / "tapewatch.toml", server.root), db)
    try:
        await asyncio.wait_for(server.identified.wait(), 60)
    finally:
        err = stop_run(run, signal.SIGTERM)
        await server.close()
    assert run.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
