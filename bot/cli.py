"""The ``tapewatch`` command line: run | collect | ask | console | sync-commands."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.metadata
import json
import logging
import os
import re
import signal
import sqlite3
import sys
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, cast

from bot.defaults import CHART_DIR, DEMO, bundled_scenario
from bot.logs import Redactor, configure_logging
from bot.scenarios import ScenarioError
from bot.scenarios.load import StoreNotEmpty
from bot.settings import ConfigError, Settings, load_settings
from bot.store.open import StoreError, describe_sqlite_error

if TYPE_CHECKING:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.app import App
    from bot.client import TapewatchBot
    from bot.streams.manager import StreamManager

log = logging.getLogger("tapewatch")

SETUP_HINT = (
    "DISCORD_TOKEN is not set: create a bot at https://discord.com/developers/applications, "
    "copy its token (Bot → Reset Token) and run `export DISCORD_TOKEN=...` before `tapewatch run`. "
    "To try the bot without Discord, run `tapewatch console`."
)


class _Parser(argparse.ArgumentParser):
    """argparse, with a bad argument reported in one line instead of the usage block."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="tapewatch", description="Explains crypto market moves on Discord.")
    parser.add_argument("--config", type=Path, help="settings file (default config/tapewatch.toml)")
    parser.add_argument("--db", help="the store: a SQLite file path or a postgresql:// URL (or TAPEWATCH_DB)")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging (tokens still redacted)")
    parser.add_argument("--version", action="version", version=f"tapewatch {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="the Discord bot with its scheduler (needs DISCORD_TOKEN)")
    run.add_argument("--guild", type=int, help="sync commands to this guild only (instant, for testing)")
    run.add_argument("--no-sync", action="store_true", help="do not sync slash commands at start")
    run.add_argument(
        "--shard-count", type=int, help="gateway shards in all (Discord requires them from 2,500 guilds)"
    )
    run.add_argument(
        "--shard-ids", help="the shards this process runs, e.g. 0-3 or 0,2 (default: all of --shard-count)"
    )
    run.add_argument(
        "--no-collect",
        action="store_true",
        help="answer and alert only: a separate `tapewatch collect` fills the shared (PostgreSQL) store",
    )

    collect = sub.add_parser("collect", help="run the collectors (forever, or --once)")
    collect.add_argument("--once", action="store_true", help="one pass of every job, then exit")

    ask = sub.add_parser("ask", help='answer one slash command offline, e.g. "/price coin:btc"')
    ask.add_argument("invocation", help='the command as typed in Discord, e.g. "/price coin:btc"')
    ask.add_argument("--json", action="store_true", help="print the exact message payload Discord would get")
    ask.add_argument("--scenario", type=Path, help="answer from this scenario file instead of the store")

    console = sub.add_parser("console", help="interactive prompt for the slash commands, offline")
    console.add_argument("--no-collect", action="store_true", help="answer from the store as it is")
    console.add_argument("--scenario", type=Path, help="answer from this scenario file (no network)")
    console.add_argument("--demo", action="store_true", help=f"answer from the bundled {DEMO!r} scenario")

    imp = sub.add_parser("import", help="load a scenario file into the configured store (moved to now)")
    imp.add_argument("file", type=Path)
    imp.add_argument(
        "--replace",
        action="store_true",
        help="swap the store's market data for the scenario (one transaction; alert subscriptions kept)",
    )

    exp = sub.add_parser("export", help="write the configured store's recent state as a scenario file")
    exp.add_argument("file", type=Path, help="target (.json, or .json.gz to compress)")
    exp.add_argument(
        "--since",
        default="35d",
        help="how far back (default 35d: the baselines answers need; daily bars always reach 420d)",
    )
    exp.add_argument("--name", default="exported", help="the scenario's name (a-z, 0-9, - and _)")
    exp.add_argument("--force", action="store_true", help="overwrite an existing file")

    health = sub.add_parser(
        "health", help="exit 0 if the collectors ran recently, 1 if the scheduler stalled"
    )
    health.add_argument(
        "--max-age",
        type=_bounded_seconds,
        help="seconds (default: 3 × the ticker interval + 60; at most 7 days)",
    )
    health.add_argument(
        "--gateway-max-age",
        type=_bounded_seconds,
        default=300,
        help="seconds the bot's Discord gateway heartbeat may be old (default 300)",
    )
    health.add_argument(
        "--require-gateway",
        action="store_true",
        help="unhealthy without a gateway heartbeat (the bot's container)",
    )
    health.add_argument("--json", action="store_true", help="the verdict and its reasons as JSON")

    sync = sub.add_parser("sync-commands", help="register the slash commands with Discord")
    sync.add_argument("--guild", type=int, help="sync to this guild only")

    from bot.alerts_cli import add_alerts_commands

    add_alerts_commands(cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub))
    from bot.store_cli import add_store_commands

    add_store_commands(cast("argparse._SubParsersAction[argparse.ArgumentParser]", sub))
    return parser


def _bounded_seconds(text: str) -> int:
    """A number of seconds from 0 to a week, for argparse (its error is one line)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of seconds") from None
    if not 0 <= value <= 7 * 86_400:
        raise argparse.ArgumentTypeError(f"{text!r}: from 0 to {7 * 86_400} seconds")
    return value


def _settings(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, db=args.db)


def _version() -> str:
    try:
        return importlib.metadata.version("tapewatch")
    except importlib.metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree
        return "unknown"


def _log_level(args: argparse.Namespace) -> int:
    if args.verbose:
        return logging.DEBUG
    return logging.INFO if args.command in ("run", "collect") else logging.WARNING


def _configure_logging(args: argparse.Namespace) -> Redactor | None:
    """Our handler on the root logger (redacting tokens at every level), unless something else
    already handles the root (a test's capture): then, like ``basicConfig``, nothing changes."""
    root = logging.getLogger()
    if root.handlers and not any(getattr(h, "tapewatch", False) for h in root.handlers):
        return None
    fmt = os.environ.get("TAPEWATCH_LOG_FORMAT", "plain").strip().lower()
    redact = configure_logging(_log_level(args), fmt="json" if fmt == "json" else "plain")
    for handler in root.handlers:
        handler.tapewatch = True  # type: ignore[attr-defined]
    if not args.verbose:  # one INFO line per job added and run otherwise
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    return redact


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    redact = _configure_logging(args)
    settings: Settings | None = None
    try:
        settings = _settings(args)
        token = _token(settings)
        if redact is not None and token:
            redact.secrets.append(token)
        return _dispatch(settings, args)
    except (ConfigError, ScenarioError, StoreError, StoreNotEmpty, UsageError) as exc:
        print(_one_line(str(exc)), file=sys.stderr)
        return 2
    except sqlite3.Error as exc:
        print(
            f"error: {_one_line(describe_sqlite_error(exc, settings.db_label if settings else 'store'))}",
            file=sys.stderr,
        )
        return 1
    except OverflowError as exc:  # digits past anything a duration or a count can hold
        print(f"error: a value is out of range ({exc})", file=sys.stderr)
        return 2
    except OSError as exc:
        where = f" {exc.filename}:" if exc.filename else ""
        print(f"error:{where} {exc.strerror or exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def _dispatch(settings: Settings, args: argparse.Namespace) -> int:
    command = args.command
    if command == "run":
        return cmd_run(settings, args)
    if command == "collect":
        return asyncio.run(_until_terminated(cmd_collect(settings, once=args.once)))
    if command == "ask":
        return asyncio.run(cmd_ask(settings, args.invocation, as_json=args.json, scenario=args.scenario))
    if command == "console":
        from bot.console import run_console

        scenario = bundled_scenario(DEMO) if args.demo else args.scenario
        return asyncio.run(run_console(settings, collect=not args.no_collect, scenario=scenario))
    if command == "alerts":
        from bot.alerts_cli import run_alerts_command

        return run_alerts_command(settings, args)
    if command == "health":
        return cmd_health(
            settings,
            args.max_age,
            as_json=args.json,
            require_gateway=args.require_gateway,
            gateway_max_age=args.gateway_max_age,
        )
    if command == "import":
        return cmd_import(settings, args.file, replace=args.replace)
    if command == "export":
        return cmd_export(settings, args.file, since=args.since, name=args.name, force=args.force)
    if command == "sync-commands":
        return cmd_sync(settings, args)
    if command == "migrate-store":
        from bot.store_cli import cmd_migrate_store

        return cmd_migrate_store(args.source, args.target, replace=args.replace)
    return 2  # pragma: no cover - argparse requires a command


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


class UsageError(Exception):
    """A command-line argument that cannot be used; the message is one line naming it."""


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
    from bot.app import build_app, collector_for, scheduler_next_refresh, streams_for
    from bot.client import ShardedTapewatchBot, TapewatchBot
    from bot.heap import freeze_startup_heap
    from bot.jobs import register_jobs, register_warming
    from bot.services.warm import Warmer

    scheduler = AsyncIOScheduler(timezone="UTC")
    _quiet_cancelled_jobs()
    app = build_app(settings, next_refresh=scheduler_next_refresh(scheduler))
    async with collector_for(app) as collector:
        if collect:
            register_jobs(scheduler, collector, settings)
        else:  # the collector process writes; alerts are evaluated on their interval
            log.info("not collecting: answering from %s, which `tapewatch collect` fills", settings.db_label)
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
    from bot.fake_discord import gateway_url, pointed_at

    return pointed_at(f"{root}/api/v10", gateway_url(root)) if root else contextlib.nullcontext()


def _gateway_heartbeat(bot: TapewatchBot, app: App) -> Callable[[], Awaitable[None]]:
    """The job that writes the gateway heartbeat while the bot is connected and ready."""

    async def beat() -> None:
        if bot.is_ready() and not bot.is_closed():
            latency = bot.latency
            detail = f"latency {latency * 1000:.0f} ms" if latency == latency and latency < 1e6 else ""
            await app.store.run(app.store.sync.beat, GATEWAY, app.clock(), detail)

    return beat


def _describe_network(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return _one_line(str(text))[:200]


async def cmd_collect(settings: Settings, *, once: bool) -> int:
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.app import build_app, collector_for, streams_for
    from bot.jobs import register_jobs

    app = build_app(settings)
    try:
        async with collector_for(app) as collector:
            if once:
                from bot.collector import failures_printed_not_logged

                with failures_printed_not_logged():
                    report = await collector.run_once(
                        progress=lambda source: print(source.line(), flush=True)
                    )
                print(f"store: {settings.db_label}")
                return 0 if report.ok else 1
            scheduler = AsyncIOScheduler(timezone="UTC")
            register_jobs(scheduler, collector, settings)
            scheduler.start()
            streams = streams_for(app, collector)
            await streams.start()
            log.info(
                "collecting into %s (REST jobs and liquidation streams); Ctrl-C to stop", settings.db_label
            )
            try:
                await asyncio.Event().wait()
            finally:
                await _stop_quietly(scheduler, streams)
    finally:
        app.close()
    return 0


async def _stop_quietly(scheduler: AsyncIOScheduler, streams: StreamManager) -> None:
    """Ctrl-C or SIGTERM: flush and close the streams, stop the scheduler, and let the jobs it
    was running end without a traceback each (they are cancelled, not failing)."""
    logging.getLogger("apscheduler").setLevel(logging.CRITICAL)
    await streams.stop()
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


GATEWAY = "gateway"  # the heartbeat the bot writes while its Discord gateway is connected


def cmd_health(
    settings: Settings,
    max_age: int | None,
    *,
    as_json: bool = False,
    require_gateway: bool = False,
    gateway_max_age: int = 300,
) -> int:
    """For the container's health check. Unhealthy when the scheduler stalled (no job ran,
    success or failure, within ``max_age``), when every source is failing (no job *succeeded*
    within it), or when the bot's gateway heartbeat is older than ``gateway_max_age`` (or
    missing, with ``require_gateway``)."""
    from bot.clock import system_clock
    from bot.store import Store

    limit = timedelta(seconds=max_age if max_age is not None else 3 * settings.jobs.tickers_seconds + 60)
    if settings.db_file is not None and not settings.db_file.is_file():
        return _health_verdict([f"no store at {settings.db_file}"], [], as_json=as_json)
    store = Store(settings.db)
    try:
        health = store.source_health()
        beats = store.heartbeats()
    finally:
        store.close()
    now = system_clock()
    problems: list[str] = []
    notes: list[str] = []
    runs = [t for h in health for t in (h.last_success, h.last_error_at) if t is not None]
    successes = [h.last_success for h in health if h.last_success is not None]
    if not runs:
        problems.append("no collector has run yet")
    elif now - max(runs) > limit:
        problems.append(f"last collector run {_secs(now - max(runs))} s ago (limit {_secs(limit)} s)")
    elif not successes or now - max(successes) > limit:
        ago = f"{_secs(now - max(successes))} s ago" if successes else "ever"
        problems.append(
            f"every source is failing: no collector job succeeded within {_secs(limit)} s (last {ago})"
        )
    else:
        notes.append(f"last collector run {_secs(now - max(runs))} s ago")
    gateway = beats.get(GATEWAY)
    if gateway is not None and now - gateway > timedelta(seconds=gateway_max_age):
        problems.append(f"Discord gateway heartbeat {_secs(now - gateway)} s old (limit {gateway_max_age} s)")
    elif gateway is None and require_gateway:
        problems.append("no Discord gateway heartbeat yet (is the bot connected?)")
    elif gateway is not None:
        notes.append(f"gateway heartbeat {_secs(now - gateway)} s ago")
    return _health_verdict(problems, notes, as_json=as_json)


def _secs(delta: timedelta) -> int:
    return int(delta.total_seconds())


def _health_verdict(problems: list[str], notes: list[str], *, as_json: bool) -> int:
    healthy = not problems
    if as_json:
        print(json.dumps({"healthy": healthy, "problems": problems, "checks": notes}))
    elif healthy:
        print("healthy: " + "; ".join(notes))
    else:
        print("unhealthy: " + "; ".join(problems))
    return 0 if healthy else 1


def cmd_import(settings: Settings, file: Path, *, replace: bool = False) -> int:
    from bot.clock import system_clock
    from bot.scenarios import apply_scenario, load_scenario
    from bot.store import Store

    scenario = load_scenario(file)
    store = Store(settings.db)
    try:
        now = apply_scenario(scenario, store, now=system_clock(), replace=replace)
    finally:
        store.close()
    print(f"imported {scenario.label} into {settings.db_label}, moved to now ({now:%Y-%m-%d %H:%M} UTC)")
    return 0


MAX_SINCE_DAYS = 3650
_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def parse_since(text: str) -> timedelta:
    """``--since``: a positive duration like 90m, 24h or 7d, at most ten years."""
    from bot.timeparse import parse_span

    body = text.strip().lstrip("-")
    try:
        span = parse_span(body) if len(body) <= 32 else None
    except (ValueError, OverflowError):
        span = None
    if span is None:
        raise UsageError(f"error: --since {text!r}: use a duration like 90m, 24h or 7d")
    if not timedelta(0) < span <= timedelta(days=MAX_SINCE_DAYS):
        raise UsageError(f"error: --since {text!r}: between 1s and {MAX_SINCE_DAYS}d")
    return span


def _check_export_target(settings: Settings, file: Path, *, force: bool) -> None:
    """Refuse a target that is the store itself (or its WAL files), a folder, or an existing
    file without ``--force``."""
    if not str(file).strip():
        raise UsageError("error: export needs a file path")
    if file.is_dir():
        raise UsageError(f"error: {file} is a folder: give a file path, e.g. {file}/export.json.gz")
    if settings.db_file is None:
        if file.exists() and not force:
            raise UsageError(f"error: {file} exists: pass --force to replace it")
        return  # the store is a database server's, not a file here
    target = os.path.realpath(file)
    db = os.path.realpath(settings.db_file)
    for part in (db, db + "-wal", db + "-shm", db + "-journal"):
        same = target == part or (file.exists() and os.path.exists(part) and os.path.samefile(file, part))
        if same:
            raise UsageError(f"error: {file} is the store itself ({settings.db}): refusing to overwrite it")
    if file.exists() and not force:
        raise UsageError(f"error: {file} exists: pass --force to replace it")


def cmd_export(settings: Settings, file: Path, *, since: str, name: str, force: bool = False) -> int:
    from bot.clock import system_clock
    from bot.scenarios import export_scenario, write_scenario
    from bot.store import Store

    span = parse_since(since)
    if not _NAME.match(name):
        raise UsageError(f"error: --name {name!r}: lower-case letters, digits, - and _ (at most 64)")
    _check_export_target(settings, file, force=force)
    if settings.db_file is not None and not settings.db_file.is_file():
        raise UsageError(f"error: no store at {settings.db_file}: nothing to export")
    now = system_clock()
    store = Store(settings.db)
    try:
        scenario = export_scenario(
            store,
            now=now,
            since=span,
            coins=settings.coins,
            name=name,
            since_by_interval={"1d": max(span, timedelta(days=420))},  # levels need the daily history
        )
    finally:
        store.close()
    size = write_scenario(scenario, file)
    print(
        f"wrote {file} ({size / 1e6:.2f} MB): {settings.db_label} from {now - span:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC"
    )
    return 0


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
