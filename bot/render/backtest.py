"""The text report of ``tapewatch alerts backtest`` (:mod:`bot.alerts.backtest` replays, this
formats what it found)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import TextIO

from bot.alerts.config import (
    RULE_TITLES,
    RULES,
    AlertConfig,
    describe_thresholds,
)
from bot.alerts.messages import Result
from bot.render.alerts import alert_title, defaults_text

# -- output ------------------------------------------------------------------------------------


def _when(dt: datetime) -> str:
    return dt.strftime("%Y-%m-%d %H:%M")


def report(
    results: Sequence[Result],
    base: AlertConfig,
    start: datetime,
    end: datetime,
    source: str,
    out: TextIO,
    *,
    limit: int = 20,
) -> None:
    days = (end - start).total_seconds() / 86400
    plural = "" if days == 1 else "s"
    print(f"Alerts backtest {_when(start)} → {_when(end)} UTC ({days:g} day{plural}) on {source}", file=out)
    print(f"Base thresholds: {defaults_text(base)}", file=out)
    for res in results:
        p = res.plan
        print(file=out)
        coins = ", ".join(p.coins) if p.coins else "every tracked coin"
        types = ", ".join(RULE_TITLES[r] for r in p.rules)
        print(f"{p.name}: {coins}; {types}; thresholds: {describe_thresholds(p.thresholds)}", file=out)
        n = len(res.alerts)
        if n == 0:
            print("  0 alerts", file=out)
            continue
        per_day = Counter(o.at.date() for o in res.alerts)
        busiest, most = max(sorted(per_day.items()), key=lambda kv: kv[1])
        print(
            f"  {n} alert{'s' if n != 1 else ''} in {res.messages} message{'s' if res.messages != 1 else ''} "
            f"({n / days:.1f} a day; busiest {busiest.isoformat()} with {most})",
            file=out,
        )
        by_rule = Counter(o.rule for o in res.alerts)
        print(
            "  by type: " + ", ".join(f"{RULE_TITLES[r]} {by_rule[r]}" for r in RULES if by_rule[r]), file=out
        )
        for o in res.alerts[:limit]:
            print(f"  {_when(o.at)}  {o.coin:<5} {RULE_TITLES[o.rule]:<20} {alert_title(o)}", file=out)
        if n > limit:
            print(f"  … and {n - limit} more (--limit to list more)", file=out)
