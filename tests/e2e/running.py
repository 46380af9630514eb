"""What the end-to-end tests of ``tapewatch run`` share: starting the real process against a
config file, stopping it the way an operator would, and interaction payloads typed by the real
command tree (to send over the fake Discord's gateway)."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.app import build_app
from bot.client import COGS, TapewatchBot
from bot.fake_gateway import serve_loopback
from bot.models import Funding
from bot.offline import OfflineSession, parse_invocation
from bot.settings import load_settings
from bot.store import Store
from tests.helpers import as_foreground_job, every_venue_at

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "fake-token-for-the-loopback-discord"
CLOSED = "http://127.0.0.1:9"  # a closed loopback port: nothing reaches the internet
CASCADE_USD = 237e6
OKX_OI = "/api/v5/public/open-interest"


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
        preexec_fn=as_foreground_job,  # stop_run's SIGINT reaches it, however the suite was started
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
        try:
            return run.communicate(timeout=30)[1]
        except subprocess.TimeoutExpired:  # something it started still holds its pipes
            return "Traceback: the process's stderr never closed after it was killed"


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


# -- the shared store, as a test reads and seeds it -----------------------------------------------

CYCLE_S = 5  # jobs.tickers_seconds of role tests: the alert evaluation interval (its minimum)


def tickers(url: str) -> int:
    """How many tickers the store holds (a collector process has stored some)."""
    store = Store(url)
    try:
        return len(store.tickers())
    finally:
        store.close()


def seed_funding(url: str) -> None:
    """BTC funding at 0.2%/8h on every venue, now: an extreme rate the funding rule fires on."""
    now = datetime.now(UTC)
    store = Store(url)
    try:
        store.upsert_funding(
            Funding(coin="BTC", venue=venue, ts=now - timedelta(minutes=m), rate=0.002)
            for venue in ("binance", "bybit", "okx")
            for m in (0, 30, 60)
        )
    finally:
        store.close()


def outbox(url: str) -> list[dict[str, Any]]:
    """The alert outbox's rows, oldest first."""
    store = Store(url)
    try:
        return store.outbox_rows()
    finally:
        store.close()


# -- a liquidation cascade, streamed ------------------------------------------------------------


class LiquidationStream:
    """Binance's ``!forceOrder@arr`` on loopback: frames sent when the test says so."""

    def __init__(self) -> None:
        self.sockets: list[web.WebSocketResponse] = []
        self.connected = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.base = ""

    async def start(self) -> None:
        self._runner, port = await serve_loopback(self._handle)
        self.base = f"ws://127.0.0.1:{port}"

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        self.connected.set()
        async for _ in ws:
            pass
        return ws

    async def send(self, frame: dict[str, object]) -> None:
        for ws in self.sockets:
            if not ws.closed:
                await ws.send_str(json.dumps(frame))

    async def close(self) -> None:
        for ws in self.sockets:
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()


def fresh_open_interest(routes: dict[str, Any]) -> dict[str, Any]:
    """OKX's open interest as the recorded sample, stamped now: a recorded payload carries its
    recording time, and open interest hours old is (rightly) no yardstick for a liquidation."""
    recorded = routes[OKX_OI]

    def now_stamped(request: web.Request) -> tuple[int, Any]:
        status, body = recorded(request)
        if isinstance(body, dict):
            stamp = str(int(time.time() * 1000))
            body = {**body, "data": [{**row, "ts": stamp} for row in body.get("data", [])]}
        return status, body

    return {**routes, OKX_OI: now_stamped}


def force_order(usd: float, price: float = 67_710.0) -> dict[str, object]:
    """One BTC long liquidation of ``usd`` as Binance's ``!forceOrder@arr`` frame, stamped now."""
    now_ms = int(time.time() * 1000)
    qty = f"{usd / price:.3f}"
    order = {"s": "BTCUSDT", "S": "SELL", "q": qty, "p": f"{price}", "ap": f"{price}", "X": "FILLED"}
    order |= {"l": qty, "z": qty, "T": now_ms, "o": "LIMIT"}
    return {"e": "forceOrder", "E": now_ms, "o": order}
