"""``tapewatch alerts backtest`` on the stored selloff: the same rules and state machine as the
live engine, per subscription, with how many alerts and when."""

from __future__ import annotations

import argparse
import io
from pathlib import Path

import pytest

from bot.alerts import store as db
from bot.alerts.backtest import load_plans
from bot.alerts_cli import run_alerts_command
from bot.app import App
from bot.cli import build_parser
from bot.settings import ConfigError
from tests.alerts.conftest import CH_A, clear_alerts
from tests.alerts.test_engine import subscription


def parser() -> argparse.ArgumentParser:
    """The real ``tapewatch`` parser (cli.py adds the alerts commands)."""
    return build_parser()


def backtest(app: App, *argv: str) -> tuple[int, str]:
    args = parser().parse_args(["alerts", "backtest", *argv])
    out = io.StringIO()
    code = run_alerts_command(app.settings, args, out)
    return code, out.getvalue().replace(str(app.settings.db), "<db>")


def test_the_global_config_and_the_backtest_config_do_not_clash() -> None:
    args = parser().parse_args(["--config", "settings.toml", "alerts", "backtest", "--config", "try.toml"])
    assert (args.command, args.alerts_command) == ("alerts", "backtest")
    assert args.config == Path("settings.toml")
    assert args.alerts_config == Path("try.toml")
    assert args.since == "30d"


def test_default_subscription_over_a_day_of_selloff(selloff: App) -> None:
    clear_alerts(selloff)
    code, out = backtest(selloff, "--since", "1d", "--coins", "BTC,ETH,SOL")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Alerts backtest 2026-03-09 15:00 → 2026-03-10 15:00 UTC (1 day) on <db>"
    assert lines[1].startswith("Base thresholds: move 5% (1h) / 12% (24h) or 4σ; liquidations 5× baseline")
    assert lines[3:] == [
        "default subscription: every tracked coin; large move, liquidation spike, large liquidation, "
        "level break, open-interest flush, funding extreme; thresholds: defaults",
        "  8 alerts in 8 messages (8.0 a day; busiest 2026-03-10 with 8)",
        "  by type: liquidation spike 6, large liquidation 2",
        "  2026-03-10 10:27  SOL   large liquidation    💥 $1.45M SOL long liquidated at $193.0",
        "  2026-03-10 10:28  SOL   liquidation spike    💥 SOL liquidation spike: $1.47M in 15m",
        "  2026-03-10 12:00  BTC   liquidation spike    💥 BTC liquidation spike: $800K in 15m",
        "  2026-03-10 12:45  ETH   liquidation spike    💥 ETH liquidation spike: $600K in 15m",
        "  2026-03-10 13:00  BTC   liquidation spike    💥 BTC liquidation spike: $953K in 15m",
        "  2026-03-10 13:06  SOL   large liquidation    💥 $1.21M SOL long liquidated at $184.4",
        "  2026-03-10 13:07  SOL   liquidation spike    💥 SOL liquidation spike: $1.31M in 15m",
        "  2026-03-10 14:03  ETH   liquidation spike    💥 ETH liquidation spike: $524K in 15m",
    ]


def test_a_config_file_tries_thresholds_per_subscription(selloff: App, tmp_path: Path) -> None:
    config = tmp_path / "try.toml"
    config.write_text(
        """
[thresholds]
move_24h = "6%"
liq_floor = "100K"

[[subscriptions]]
name = "majors, tight"
coins = ["BTC", "ETH"]
types = ["move", "liquidations"]
thresholds = "move_1h=1.5% cooldown=2h"

[[subscriptions]]
name = "levels only"
types = "levels"
"""
    )
    code, out = backtest(
        selloff, "--since", "1d", "--coins", "BTC,ETH,SOL", "--config", str(config), "--limit", "2"
    )
    assert code == 0
    blocks = out.split("\n\n")
    assert "liquidations 5× baseline and ≥ $100K per 15 min" in blocks[0]
    assert blocks[1].splitlines() == [
        "majors, tight: BTC, ETH; large move, liquidation spike; thresholds: cooldown=2h, move_1h=1.5%",
        "  12 alerts in 11 messages (12.0 a day; busiest 2026-03-10 with 9)",
        "  by type: large move 2, liquidation spike 10",
        "  2026-03-09 15:16  BTC   liquidation spike    💥 BTC liquidation spike: $153K in 15m",
        "  2026-03-09 18:59  BTC   liquidation spike    💥 BTC liquidation spike: $150K in 15m",
        "  … and 10 more (--limit to list more)",
    ]
    assert blocks[2].splitlines() == [
        "levels only: every tracked coin; level break; thresholds: defaults",
        "  0 alerts",
    ]


def test_stored_subscriptions_are_replayed(selloff: App) -> None:
    clear_alerts(selloff)
    db.save_subscription(selloff.store.sync, subscription(CH_A, coins=("ETH",), rules=("liquidations",)))
    try:
        code, out = backtest(selloff, "--since", "1d", "--limit", "0")
    finally:
        clear_alerts(selloff)
    assert code == 0
    assert (
        f"guild 1300000000000000100 · channel {CH_A}: ETH; liquidation spike; thresholds: defaults\n" in out
    )
    assert "  2 alerts in 2 messages (2.0 a day; busiest 2026-03-10 with 2)\n" in out


def test_bad_arguments_and_config(selloff: App, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert backtest(selloff, "--since", "soon")[0] == 2
    assert "--since 'soon': use a duration like 30d, 72h or 2w" in capsys.readouterr().err
    assert backtest(selloff, "--coins", "DOGGO")[0] == 2
    bad = tmp_path / "bad.toml"
    bad.write_text('[thresholds]\nmove_1h = "fast"\n')
    with pytest.raises(ConfigError, match=r"bad.toml: move_1h: 'fast' is not a number"):
        load_plans(bad, ["BTC"])
    bad.write_text('[[subscriptions]]\ncoins = ["DOGGO"]\n')
    with pytest.raises(ConfigError, match=r"subscriptions\[1\]: coins not tracked: DOGGO"):
        load_plans(bad, ["BTC"])


def test_large_liquidations_are_replayed(selloff: App) -> None:
    """The selloff's single BTC events are small next to its $17B of open interest: with a bar
    low enough to see them ($200K), each of the day's twelve is an alert, each in its own
    minute (so its own message), largest $764K."""
    clear_alerts(selloff)
    sub = subscription(
        CH_A,
        coins=("BTC",),
        rules=("large_liq",),
        thresholds={"large_oi_pct": 0.001, "large_min_usd": 200_000.0},
    )
    db.save_subscription(selloff.store.sync, sub)
    try:
        code, out = backtest(selloff, "--since", "1d", "--limit", "100")
    finally:
        clear_alerts(selloff)
    assert code == 0
    lines = out.splitlines()
    head = lines.index(
        f"guild 1300000000000000100 · channel {CH_A}: BTC; large liquidation; thresholds: large_min=$200K, large_oi=0.001%"
    )
    assert lines[head + 1].startswith("  12 alerts in 12 messages")
    assert lines[head + 2] == "  by type: large liquidation 12"
    rows = lines[head + 3 : head + 15]
    assert all(r.startswith("  2026-03-") and "  BTC   large liquidation" in r for r in rows)
    assert "💥 $764K BTC long liquidated at $" in "\n".join(rows)


def test_the_bundled_cascade_holds_large_single_liquidations(selloff: App) -> None:
    """The selloff's generator puts a few single events above the default bar (0.02% of the
    coin's open interest, at least $100K) in its crash hours: a large-liquidation subscription
    at default thresholds is sent them."""
    clear_alerts(selloff)
    sub = subscription(CH_A, coins=("SOL", "XRP", "DOGE", "AVAX"), rules=("large_liq",))
    db.save_subscription(selloff.store.sync, sub)
    try:
        code, out = backtest(selloff, "--since", "1d", "--limit", "100")
    finally:
        clear_alerts(selloff)
    assert code == 0
    lines = out.splitlines()
    head = next(
        i for i, line in enumerate(lines) if line.startswith(f"guild 1300000000000000100 · channel {CH_A}:")
    )
    assert lines[head + 2] == "  by type: large liquidation 5"
    rows = [r for r in lines[head + 3 :] if "large liquidation" in r]
    assert len(rows) == 5
    assert "  SOL   large liquidation    💥 $1.45M SOL long liquidated at $193.0" in "\n".join(rows)
