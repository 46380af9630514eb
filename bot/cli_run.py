"""The long-running and Discord-facing commands: run, collect, ask, sync-commands, and the
SIGTERM handling they share."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.cli_data import UsageError, _one_line, gateway_mark
from bot.defaults import CHART_DIR
from bot.settings import Settings

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.app import App
    from bot.client import TapewatchBot
    from bot.collector import Collector
    from bot.collector_report import SourceReport
    from bot.streams.manager import StreamManager

log = logging.getLogger("tapewatch")

SETUP_HINT = (
    "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications, "
    "copy its token (Bot → Reset Token) and run `export DISCORD_TOKEN=...` before `tapewatch run`. "
    "To try the bot without Discord, run `tapewatch console`."
)


async def _until_terminated(work: Coroutine[Any, Any, int]) -> int:
    """Run ``work``; SIGTERM (``docker stop``) cancels it as Ctrl-C does, so its ``finally``
    blocks flush buffered events, close stream sessions and stop the scheduler, then exit 0."""
    task = asyncio.current_task()
    loop = asyncio.get_running_loop()
    terminated = False

    def on_term() -> None:
        nonlocal terminated
        terminated = True
        if task is not None:
            task.cancel()

    with contextlib.suppress(NotImplementedError, RuntimeError):  # not the main thread: no handler
        loop.add_signal_handler(signal.SIGTERM, on_term)
    try:
        return await work
    except asyncio.CancelledError:
        if not terminated:
            raise
        if task is not None:
            task.uncancel()
        logging.getLogger("apscheduler").setLevel(logging.CRITICAL)  # its cancelled jobs are not errors
        log.info("stopped (SIGTERM)")
        return 0
    finally:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.remove_signal_handler(signal.SIGTERM)


def _token(settings: Settings) -> str | None:
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    return token or None


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    token = _token(settings)
    if token is None:
        print(SETUP_HINT, file=sys.stderr)
        return 2
    guild = args.guild or settings.discord.sync_guild or None
    shards = parse_shards(args.shard_count, args.shard_ids)
    work = _run_bot(
        settings, token, guild=guild, sync=not args.no_sync, collect=not args.no_collect, shards=shards
    )
    return asyncio.run(_until_terminated(work))


def parse_shards(count: int | None, ids: str | None) -> tuple[int, list[int]] | None:
    """``--shard-count`` and ``--shard-ids`` (``0-3``, ``0,2``): (count, ids), or None unsharded."""
    if count is None:
        if ids:
            raise UsageError("error: --shard-ids needs --shard-count")
        return None
    if not 1 <= count <= 4096:
        raise UsageError(f"error: --shard-count {count}: from 1 to 4096")
    chosen: set[int] = set()
    for part in (ids or f"0-{count - 1}").split(","):
        lo, _, hi = part.strip().partition("-")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise UsageError(f"error: --shard-ids {ids!r}: use ranges and numbers, e.g. 0-3 or 0,2") from None
        if not 0 <= first <= last < count:
            raise UsageError(f"error: --shard-ids {ids!r}: each from 0 to {count - 1}")
        chosen.update(range(first, last + 1))
    return count, sorted(chosen)


async def _run_bot(
    settings: Settings,
    token: str,
    *,
    guild: int | None,
    sync: bool,
    collect: bool = True,
    shards: tuple[int, list[int]] | None = None,
) -> int:
    import aiohttp
    import discord
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.alerts.jobs import register_alert_jobs
    from bot.alerts.liq_watch import register_liquidation_watch
    from bot.app import build_app, collector_for, scheduler_next_refresh, streams_for
    from bot.client import ShardedTapewatchBot, TapewatchBot
    from bot.heap import freeze_startup_heap
    from bot.jobs import register_jobs, register_warming
    from bot.services.warm import Warmer

    scheduler = AsyncIOScheduler(timezone="UTC")
    _quiet_cancelled_jobs()
    app = build_app(settings, next_refresh=scheduler_next_refresh(scheduler))
    async with collector_for(app) as collector:
        end_first_pass = _no_first_pass
        if collect:
            register_jobs(scheduler, collector, settings)
            end_first_pass = _report_first_pass(scheduler, collector, settings)
        else:  # the collector process writes; its liquidations are watched for in the store
            log.info("not collecting: answering from %s, which `tapewatch collect` fills", settings.db_label)
            register_liquidation_watch(scheduler, app.services.alerts)
        register_alert_jobs(scheduler, app.services.alerts, settings)
        register_warming(scheduler, Warmer(app.services.why).schedule)
        streams = (
            streams_for(app, collector, on_events=app.services.alerts.on_liquidations) if collect else None
        )
        sharding: dict[str, Any] = {}
        if shards is not None:
            sharding = {"shard_count": shards[0], "shard_ids": shards[1]}
            log.info("gateway shards %s of %d", ",".join(map(str, shards[1])), shards[0])
        bot = (ShardedTapewatchBot if shards else TapewatchBot)(
            **sharding,
            services=app.services,
            scheduler=scheduler,
            streams=streams,
            sync_guild=guild,
            sync_commands=sync,
        )
        scheduler.add_job(
            _gateway_heartbeat(bot, app),
            "interval",
            seconds=60,
            id="gateway-heartbeat",
        )
        freeze_startup_heap()  # the app is built: collections now walk only what answers allocate
        try:
            with _stand_in(settings.discord.api_url):
                async with bot:
                    await bot.start(token)
        except discord.LoginFailure:
            print(
                "Discord refused the token (DISCORD_TOKEN): check it in the developer portal.",
                file=sys.stderr,
            )
            return 2
        except (OSError, aiohttp.ClientError, discord.GatewayNotFound) as exc:
            print(
                f"error: cannot reach Discord ({_describe_network(exc)}): check the network", file=sys.stderr
            )
            return 1
        finally:
            end_first_pass()
            app.close()
    return 0


def _cancelled(record: logging.LogRecord) -> bool:
    """Whether a log record's exception is (or was raised while handling) a cancellation."""
    exc = record.exc_info[1] if record.exc_info else None
    while exc is not None:
        if isinstance(exc, asyncio.CancelledError):
            return True
        exc = exc.__context__
    return False


def _quiet_cancelled_jobs() -> None:
    """Ctrl-C or SIGTERM cancels the jobs still running: that is the stop, not a job failing, so
    the scheduler's executor does not log a traceback for each (real failures still are)."""
    logging.getLogger("apscheduler.executors.default").addFilter(lambda r: not _cancelled(r))


def _stand_in(root: str) -> contextlib.AbstractContextManager[None]:
    """Discord itself, or the stand-in ``discord.api_url`` names (REST and gateway)."""
    from bot.fake_gateway import gateway_url, pointed_at

    return pointed_at(f"{root}/api/v10", gateway_url(root)) if root else contextlib.nullcontext()


def _gateway_heartbeat(bot: TapewatchBot, app: App) -> Callable[[], Awaitable[None]]:
    """The job that writes the gateway heartbeat while the bot is connected and ready."""

    async def beat() -> None:
        if bot.is_ready() and not bot.is_closed():
            latency = bot.latency
            detail = f"latency {latency * 1000:.0f} ms" if latency == latency and latency < 1e6 else ""
            await app.store.run(app.store.sync.beat, gateway_mark(), app.clock(), detail)

    return beat


def _describe_network(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return _one_line(str(text))[:200]


def _no_first_pass() -> None:
    """Nothing to end: this process does not collect (``run --no-collect``)."""


def _print_line(source: SourceReport) -> None:
    print(source.line(), flush=True)


def _report_first_pass(
    scheduler: AsyncIOScheduler, collector: Collector, settings: Settings
) -> Callable[[], None]:
    """The scheduler's first run of every collection job, source by source on stderr (where
    the logs go), except under JSON logs."""
    from bot.collect_progress import SourceProgress, collection_job_ids, json_logs, watch_first_pass
    from bot.jobs import job_table

    progress = SourceProgress(collector, sys.stderr, json_logs=json_logs(settings))
    if progress.drawing:
        ids = collection_job_ids(job_table(collector, settings), collector)
        return watch_first_pass(scheduler, collector, ids, progress)
    return lambda: None


async def cmd_collect(settings: Settings, *, once: bool) -> int:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.app import build_app, collector_for, streams_for
    from bot.jobs import register_jobs

    app = build_app(settings)
    try:
        async with collector_for(app) as collector:
            if once:
                from bot.collect_progress import SourceProgress, json_logs
                from bot.collector_report import failures_printed_not_logged

                progress = SourceProgress(collector, sys.stdout, json_logs=json_logs(settings))
                with failures_printed_not_logged():
                    progress.start()
                    report = await collector.run_once(progress=progress if progress.drawing else _print_line)
                    progress.finish()
                print(f"store: {settings.db_label}")
                return 0 if report.ok else 1
            scheduler = AsyncIOScheduler(timezone="UTC")
            register_jobs(scheduler, collector, settings)
            end_first_pass = _report_first_pass(scheduler, collector, settings)
            streams = streams_for(app, collector)
            try:  # a stop from here on, even while starting, is the quiet one
                scheduler.start()
                await streams.start()
                log.info(
                    "collecting into %s (REST jobs and liquidation streams); Ctrl-C to stop",
                    settings.db_label,
                )
                await asyncio.Event().wait()
            finally:
                await _stop_quietly(scheduler, streams)
                end_first_pass()
    finally:
        app.close()
    return 0


async def _stop_quietly(scheduler: AsyncIOScheduler, streams: StreamManager) -> None:
    """Ctrl-C or SIGTERM: flush and close the streams, stop the scheduler, and let the jobs it
    was running end without a traceback each (they are cancelled, not failing)."""
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    await streams.stop()
    if scheduler.running:
        scheduler.shutdown(wait=False)
    current = asyncio.current_task()
    others = [t for t in asyncio.all_tasks() if t is not current and not t.done()]
    for task in others:
        task.cancel()
    await asyncio.gather(*others, return_exceptions=True)


async def cmd_ask(settings: Settings, invocation: str, *, as_json: bool, scenario: Path | None = None) -> int:
    from bot.app import app_for
    from bot.client import TapewatchBot
    from bot.offline import InvocationError, OfflineSession, message_payload, save_attachments
    from bot.render.text import message_to_text, use_colour

    with app_for(settings, scenario) as app:
        async with OfflineSession(TapewatchBot(services=app.services)) as session:
            try:
                requests = await session.invoke(invocation)
            except InvocationError as exc:
                print(f"error: {exc}", file=sys.stderr)
                return 2
            payloads = [message_payload(r) for r in session.fake.messages() if r in requests]
            files = save_attachments(requests, CHART_DIR)
            tree = session.bot.tree
            status = 1 if getattr(tree, "failures", 0) else 2 if getattr(tree, "refusals", 0) else 0
    if as_json:
        print(json.dumps(payloads[0] if len(payloads) == 1 else payloads, indent=2, ensure_ascii=False))
    else:
        colour = use_colour()
        print("\n\n".join(message_to_text(p, colour=colour, attachments=files) for p in payloads))
    return status  # 1: the command failed, 2: it refused the input (as Discord shows it), 0: answered


def cmd_sync(settings: Settings, args: argparse.Namespace) -> int:
    token = _token(settings)
    if token is None:
        print(SETUP_HINT, file=sys.stderr)
        return 2

    async def sync() -> int:
        from bot.app import build_app
        from bot.client import TapewatchBot

        app = build_app(settings)
        bot = TapewatchBot(
            services=app.services, sync_guild=args.guild or settings.discord.sync_guild or None
        )
        try:
            async with bot:
                await bot.login(token)
                count = await bot.sync_tree()
        finally:
            app.close()
        print(f"synced {count} commands" + (f" to guild {args.guild}" if args.guild else " globally"))
        return 0

    return asyncio.run(sync())
