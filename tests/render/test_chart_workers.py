"""Chart worker processes end with the bot process, however it ended: a bot killed with
SIGKILL cannot stop its pool, and workers left behind would wait forever, keeping the
forkserver and the bot's stdout and stderr pipes open (a parent reading them never sees EOF)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BOT = (
    "import asyncio, os, sys\n"
    "from bot.render.charts.renderer import ChartRenderer\n"
    "renderer = ChartRenderer(max_workers=2, processes=True)\n"
    "async def main():\n"
    "    loop = asyncio.get_running_loop()\n"
    "    pids = {await loop.run_in_executor(renderer._executor, os.getpid) for _ in range(4)}\n"
    "    print(' '.join(map(str, pids)), flush=True)\n"
    "    await asyncio.sleep(600)\n"
    "asyncio.run(main())\n"
)


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_workers_end_when_the_bot_is_killed() -> None:
    bot = subprocess.Popen([sys.executable, "-c", BOT], cwd=ROOT, stdout=subprocess.PIPE, text=True)
    assert bot.stdout is not None
    workers = [int(p) for p in bot.stdout.readline().split()]
    assert workers
    assert os.getpid() not in workers
    assert all(alive(p) for p in workers)
    bot.send_signal(signal.SIGKILL)
    bot.wait(10)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and any(alive(p) for p in workers):
        time.sleep(0.1)
    left = [p for p in workers if alive(p)]
    for p in left:  # never leave them behind, even when the test fails
        os.kill(p, signal.SIGKILL)
    assert left == []
    assert bot.stdout.read() == ""  # EOF: nothing holds the bot's stdout any more
