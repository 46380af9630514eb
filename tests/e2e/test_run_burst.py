"""A burst through ``tapewatch run`` itself: the real process, logged in to the loopback fake
Discord (REST and gateway, ``discord.api_url``), its collectors pointed at a closed port. 200
mixed interactions sent at once over the gateway are every one acknowledged within Discord's
3 s (the fake refuses anything later) and answered."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from bot.app import build_app
from bot.cli import main as cli
from bot.client import COGS, TapewatchBot
from bot.fake_discord import FakeDiscordServer
from bot.offline import OfflineSession, parse_invocation
from bot.scenarios import bundled
from bot.settings import load_settings
from tests.helpers import every_venue_at

ROOT = Path(__file__).resolve().parents[2]
CLOSED = "http://127.0.0.1:9"
BURST = 200


def _config(path: Path, api_url: str) -> Path:
    lines = ["[discord]", f'api_url = "{api_url}"']
    for venue, urls in every_venue_at(CLOSED).items():
        lines.append(f"[providers.{venue}]")
        lines += [f'{key} = "{value}"' for key, value in urls.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


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
    config = _config(tmp_path / "tapewatch.toml", server.root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPEWATCH_")}
    run = subprocess.Popen(  # noqa: ASYNC220 - started once; its output is read at the end
        [sys.executable, "-m", "bot", "--config", str(config), "--db", str(db), "run", "--no-sync"],
        cwd=ROOT,
        env={**env, "DISCORD_TOKEN": "fake-token-for-the-loopback-discord"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await asyncio.wait_for(server.identified.wait(), 60)
        settings = load_settings(db=tmp_path / "tree.db", providers=every_venue_at(CLOSED))
        with tempfile.TemporaryDirectory() as workdir:
            app = build_app(settings.model_copy(update={"db": Path(workdir) / "t.db"}))
            try:
                bot = TapewatchBot(services=app.services)  # only for its command tree and payloads
                for name in COGS:
                    await bot.load_extension(name)
                session = OfflineSession(bot)
                payloads = [
                    session._interaction(2, parse_invocation(t, session.bot.tree)) for t in _mixed(BURST)
                ]
            finally:
                app.close()
        await asyncio.sleep(2.5)  # discord.py waits for guilds after READY before dispatching
        for payload in payloads:
            await server.dispatch("INTERACTION_CREATE", payload)
        ids = {p["id"] for p in payloads}
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
        run.send_signal(signal.SIGINT)
        try:
            err = run.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:
            run.kill()
            err = run.communicate()[1]
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
    config = _config(tmp_path / "tapewatch.toml", server.root)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPEWATCH_")}
    run = subprocess.Popen(  # noqa: ASYNC220 - started once; its output is read at the end
        [sys.executable, "-m", "bot", "--config", str(config), "--db", str(db), "run", "--no-sync"],
        cwd=ROOT,
        env={**env, "DISCORD_TOKEN": "fake-token-for-the-loopback-discord"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        await asyncio.wait_for(server.identified.wait(), 60)
        run.send_signal(signal.SIGTERM)
        for _ in range(300):  # at most 30 s
            if run.poll() is not None:
                break
            await asyncio.sleep(0.1)
    finally:
        if run.poll() is None:
            run.kill()
        err = run.communicate()[1]
        await server.close()
    assert run.returncode == 0, err[-3000:]
    assert "Traceback" not in err, err[-3000:]
