"""``tapewatch alerts …``: the command line of the alert tools (``alerts backtest``: replay the
rules with :mod:`bot.alerts.backtest`, print the report of :mod:`bot.render.backtest`)."""

from __future__ import annotations

import argparse
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from bot.alerts.backtest import latest_bar_close, load_plans, parse_since, replay, stored_plans
from bot.alerts.config import RULES, AlertConfig
from bot.alerts.messages import Plan
from bot.clock import system_clock
from bot.render.backtest import report
from bot.settings import Settings
from bot.store import Store

# -- CLI ---------------------------------------------------------------------------------------


def add_alerts_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add ``alerts backtest`` to the ``tapewatch`` subcommands (``sub`` is the parser's
    ``add_subparsers()`` object)."""
    alerts = sub.add_parser("alerts", help="alert tools (backtest)")
    commands = alerts.add_subparsers(dest="alerts_command", required=True)
    bt = commands.add_parser(
        "backtest",
        help="replay the alert rules over stored history: how many alerts each subscription would get, and when",
    )
    bt.add_argument("--since", default="30d", help="how far back: e.g. 30d, 72h, 2w (default 30d)")
    bt.add_argument(
        "--config",
        dest="alerts_config",
        type=Path,
        help="thresholds and subscriptions to try (TOML); default: the stored subscriptions",
    )
    bt.add_argument("--coins", help="only these coins, e.g. BTC,ETH")
    bt.add_argument(
        "--until", help="end of the replay (ISO time, UTC); default: the newest stored hourly bar"
    )
    bt.add_argument("--limit", type=int, default=20, help="alerts listed per subscription (default 20)")


def run_alerts_command(settings: Settings, args: argparse.Namespace, out: TextIO | None = None) -> int:
    if args.alerts_command == "backtest":
        return cmd_backtest(settings, args, out or sys.stdout)
    return 2  # pragma: no cover - argparse requires a subcommand


def tracked_coins(settings: Settings) -> list[str]:
    """The coins the bot tracks: the config's and, when the set follows the market, the set
    stored by the last discovery (what ``tapewatch run`` collects and alerts on)."""
    missing = settings.db_file is not None and not settings.db_file.is_file()
    if settings.tracking.mode == "fixed" or missing:
        return list(settings.coins)
    store = Store(settings.db)
    try:
        stored = [c.symbol for c in store.tracked_coins()]
    finally:
        store.close()
    return list(dict.fromkeys([*stored, *settings.coins]))


def cmd_backtest(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    try:
        span = parse_since(args.since)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    tracked = tracked_coins(settings)
    if args.coins:
        wanted = [c.strip().upper() for c in args.coins.replace(",", " ").split() if c.strip()]
        bad = [c for c in wanted if c not in tracked]
        if bad:
            print(
                f"error: --coins: not tracked: {', '.join(bad)} (tracked: {', '.join(tracked)})",
                file=sys.stderr,
            )
            return 2
        tracked = [c for c in tracked if c in wanted]
    store = Store(settings.db)
    try:
        if args.alerts_config is not None:
            base, plans = load_plans(args.alerts_config, list(settings.coins))
        else:
            base = AlertConfig()
            plans = stored_plans(store) or [Plan("default subscription", (), RULES, {})]
        if args.until:
            try:
                end = datetime.fromisoformat(args.until)
            except ValueError:
                print(
                    f"error: --until {args.until!r}: use an ISO time like 2026-03-10T15:00", file=sys.stderr
                )
                return 2
            end = end.replace(tzinfo=UTC) if end.tzinfo is None else end.astimezone(UTC)
        else:
            latest = latest_bar_close(store, tracked)
            if latest is None:
                print(
                    f"error: no hourly bars in {settings.db_label}: run `tapewatch collect --once` first",
                    file=sys.stderr,
                )
                return 1
            end = min(latest, system_clock())
        start = end - span
        results = replay(store, plans, base, tracked, start, end)
    finally:
        store.close()
    report(results, base, start, end, settings.db_label, out, limit=max(0, args.limit))
    return 0
