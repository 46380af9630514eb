"""The ``tapewatch run``-like child process of row 7 (``python -m bench.run_child``).

``tapewatch run`` needs a Discord gateway, which the loopback fake does not have, so this runs
the same objects ``bot.cli_run._run_bot`` wires — ``build_app``, ``collector_for``,
``register_jobs`` on an ``AsyncIOScheduler``, ``TapewatchBot`` with its cogs — logged in over
REST against an in-process ``FakeDiscordServer`` (``OfflineSession``) instead of
``bot.start(token)``. Liquidation streams are off (no websocket fakes); the collector's REST
jobs run on their schedule against the parent's loopback fake exchange. After a settling
period it answers one of each command (charts included, ``/why`` for the market last) and,
at the deadline, prints one JSON line with its memory high-water mark, then exits at once
(answers still running in worker threads are abandoned).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import resource
import sys
import time
from pathlib import Path
from typing import Any

COMMANDS = (
    "/price coin:{c}",
    "/why coin:{c}",
    "/liquidations coin:{c}",
    "/levels coin:{c}",
    "/liquidations",
    "/why",
)
ANSWER = re.compile(r"/(?:interactions/(\d+)/[^/]+/callback|webhooks/\d+/offline-(\d+))")


def memory_kb() -> dict[str, int]:
    out: dict[str, int] = {}
    try:
        with open("/proc/self/status", encoding="utf-8") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    out.setdefault("VmHWM", int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    return out


def finish(result: dict[str, Any]) -> None:
    """Print the result and leave now: the bot is not closed and worker threads still answering
    (a slow ``/why``) are abandoned rather than waited for."""
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


async def main(args: argparse.Namespace) -> None:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.app import build_app, collector_for, scheduler_next_refresh
    from bot.client import TapewatchBot
    from bot.coins import CoinRegistry
    from bot.heap import freeze_startup_heap
    from bot.jobs import register_jobs
    from bot.offline import OfflineSession, parse_invocation
    from bot.settings import load_settings
    from tests.helpers import every_venue_at

    started = time.perf_counter()
    deadline = started + args.seconds
    phases: dict[str, dict[str, int]] = {"imported": memory_kb()}
    symbols = list(CoinRegistry.load().coins)[: args.coins]
    settings = load_settings(None, db=Path(args.db), coins=symbols, providers=every_venue_at(args.exchange))
    scheduler = AsyncIOScheduler(timezone="UTC")
    app = build_app(settings, next_refresh=scheduler_next_refresh(scheduler))
    answered: dict[str, float | None] = {}
    errors: list[str] = []
    async with collector_for(app) as collector:
        register_jobs(scheduler, collector, settings)
        bot = TapewatchBot(services=app.services, scheduler=scheduler, streams=None)
        freeze_startup_heap()  # as bot.cli_run._run_bot does before starting the bot
        async with OfflineSession(bot) as session:
            phases["logged_in"] = memory_kb()
            await asyncio.sleep(max(0.5, min(args.settle, deadline - time.perf_counter() - 1)))
            phases["collecting"] = memory_kb()
            texts = [t.format(c=symbols[0]) for t in COMMANDS]
            sent: dict[str, tuple[str, float]] = {}
            for text in texts:
                payload = session._interaction(2, parse_invocation(text, bot.tree))
                sent[payload["id"]] = (text, time.perf_counter())
                answered[text] = None
                bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
            while time.perf_counter() < deadline:
                for r in session.fake.requests:
                    match = ANSWER.search(r.path)
                    if not match:
                        continue
                    iid = match.group(1) or match.group(2)
                    body = r.json if isinstance(r.json, dict) else {}
                    deferred = "/callback" in r.path and body.get("type") == 5
                    if iid in sent and not deferred:
                        text, at = sent[iid]
                        if answered[text] is None:
                            answered[text] = time.perf_counter() - at
                            data = body.get("data") if "/callback" in r.path else body
                            if isinstance(data, dict) and int(data.get("flags", 0) or 0) & 64:
                                errors.append(text)  # ephemeral: an error answer
                if all(v is not None for v in answered.values()):
                    phases["answered"] = memory_kb()
                    break
                if memory_kb().get("VmRSS", 0) > args.ceiling_mb * 1024:
                    phases["ceiling"] = memory_kb()
                    break
                await asyncio.sleep(0.05)
            phases["end"] = memory_kb()
            health = {h.source: h.consecutive_failures for h in app.store.sync.source_health()}
            finish(
                {
                    "phases": phases,
                    "answered": answered,
                    "errors": errors,
                    "seconds": time.perf_counter() - started,
                    "failing_sources": sorted(s for s, n in health.items() if n),
                    "sources": len(health),
                }
            )


def cli() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.run_child")
    parser.add_argument("--db", required=True)
    parser.add_argument("--coins", type=int, required=True)
    parser.add_argument("--exchange", required=True)
    parser.add_argument("--seconds", type=float, required=True)
    parser.add_argument("--settle", type=float, default=8.0)
    parser.add_argument("--ceiling-mb", type=int, default=4096)
    args = parser.parse_args()
    # the answers are what matters; the bot's own INFO logs would only clutter the bench output
    import logging

    logging.basicConfig(level=logging.ERROR)
    asyncio.run(main(args))


if __name__ == "__main__":
    cli()
