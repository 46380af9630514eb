"""The ``tapewatch`` command line: run | collect | ask | console | sync-commands."""

from __future__ import annotations

import argparse
import asyncio
import importlib.metadata
import logging
import os
import sqlite3
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import NoReturn, cast

from bot.cli_data import UsageError, _one_line, cmd_export, cmd_health, cmd_import
from bot.cli_run import _token, _until_terminated, cmd_ask, cmd_collect, cmd_run, cmd_sync
from bot.defaults import DEMO, bundled_scenario
from bot.logs import Redactor, configure_logging
from bot.scenarios import ScenarioError
from bot.scenarios.load import StoreNotEmpty
from bot.settings import ConfigError, Settings, load_settings
from bot.store.open import StoreError, describe_sqlite_error


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


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
