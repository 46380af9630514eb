"""What the end-to-end tests of ``tapewatch run`` share: starting the real process against a
config file, stopping it the way an operator would, and interaction payloads typed by the real
command tree (to send over the fake Discord's gateway)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot.app import build_app
from bot.client import COGS, TapewatchBot
from bot.offline import OfflineSession, parse_invocation
from bot.settings import load_settings
from tests.helpers import every_venue_at

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fake-token-for-the-loopback-discord"
CLOSED = "http://127.0.0.1:9"  # a closed loopback port: nothing reaches the internet


def write_config(
    path: Path,
    api_url: str,
    *,
    rest: str = CLOSED,
    binance_ws: str = "ws://127.0.0.1:9",
    coins: Sequence[str] | None = None,
) -> Path:
    """A settings file pointing Discord, every REST venue and every liquidation stream at
    loopback (the streams the test does not serve at a closed port)."""
    lines = [f"coins = {list(coins)!r}".replace("'", '"')] if coins else []
    lines += ["[discord]", f'api_url = "{api_url}"']
    for venue, urls in every_venue_at(rest).items():
        lines.append(f"[providers.{venue}]")
        lines += [f'{key} = "{value}"' for key, value in urls.items()]
        if venue == "binance":
            lines.append(f'futures_ws_url = "{binance_ws}"')
        if venue in ("bybit", "okx"):
            lines.append('ws_url = "ws://127.0.0.1:9"')
    path.write_text("\n".join(lines) + "\n")
    return path


def start_run(config: Path, db: Path | str, *command: str) -> subprocess.Popen[str]:
    """``tapewatch run --no-sync`` (or ``command``) as a process, with none of the developer's
    settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPEWATCH_")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot",
            "--config",
            str(config),
            "--db",
            str(db),
            *(command or ("run", "--no-sync")),
        ],
        cwd=ROOT,
        env={**env, "DISCORD_TOKEN": TOKEN},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_run(run: subprocess.Popen[str], sig: signal.Signals = signal.SIGTERM) -> str:
    """Send ``sig`` (``docker stop`` sends SIGTERM), wait for the exit (killing it after 30 s),
    and return what it logged."""
    if run.poll() is None:
        run.send_signal(sig)
    try:
        return run.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        run.kill()
        return run.communicate()[1]


async def payloads(
    texts: Sequence[str], coins: Sequence[str] = ("BTC", "ETH", "SOL", "BNB", "XRP")
) -> list[dict[str, Any]]:
    """Interaction payloads for ``texts``, typed by the real command tree."""
    settings = load_settings(providers=every_venue_at("http://127.0.0.1:9"), coins=list(coins))
    with tempfile.TemporaryDirectory() as workdir:
        app = build_app(settings.model_copy(update={"db": Path(workdir) / "tree.db"}))
        try:
            bot = TapewatchBot(services=app.services)
            for name in COGS:
                await bot.load_extension(name)
            session = OfflineSession(bot)
            return [session._interaction(2, parse_invocation(t, bot.tree)) for t in texts]
        finally:
            app.close()
