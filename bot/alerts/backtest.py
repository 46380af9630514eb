"""``tapewatch alerts backtest``: the alert rules replayed over stored history.

Each subscription (the stored ones, those of a ``--config`` file, or one default subscription)
runs through the same inputs, rules and state machine as the live engine, on the hourly bar
grid plus the end of every minute that had liquidations (when the live engine, woken by the
streams, would have looked). It prints how many alerts each would have received, and when,
so a server admin can tune thresholds before turning them on.

A ``--config`` file is TOML::

    [thresholds]            # for every subscription below; any /alerts subscribe key
    move_24h = "6%"
    liq_floor = "2M"

    [[subscriptions]]
    name = "majors"
    coins = ["BTC", "ETH"]
    types = ["move", "liquidations"]
    thresholds = "move_1h=2% cooldown=2h"

Limits: the replay sees what the store kept: hourly bars, open interest and funding history,
and liquidation roll-ups (per minute while kept, per hour beyond); large single liquidations
only within the raw events' retention. Prices are the hourly closes
(live alerts use the ticker between closes), and the 24h move is measured on bars.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bot.alerts import store as db
from bot.alerts.config import RULES, AlertConfig, parse_rules, parse_thresholds, with_overrides
from bot.alerts.inputs import CoinInputs, inputs_at
from bot.alerts.large import replay_large
from bot.alerts.messages import Plan, Result
from bot.alerts.reads import ZoneCache, load_series, parts_for
from bot.alerts.rules import RULE_FUNCTIONS
from bot.alerts.state import step
from bot.settings import ConfigError
from bot.store import Store
from bot.timeparse import parse_span

HOUR = timedelta(hours=1)


# -- parsing -----------------------------------------------------------------------------------


def parse_since(text: str) -> timedelta:
    try:
        span = parse_span(text.strip().lower(), units="wdh")
    except ValueError:
        span = timedelta(0)
    if span <= timedelta(0):
        raise ValueError(f"--since {text!r}: use a duration like 30d, 72h or 2w")
    return span


def _thresholds(table: Any, base: AlertConfig, where: str) -> dict[str, float]:
    """A thresholds table (or a ``key=value`` string) → overrides."""
    if table is None:
        return {}
    if isinstance(table, str):
        text = table
    elif isinstance(table, dict):
        direct = {k: v for k, v in table.items() if k in AlertConfig.model_fields and not isinstance(v, str)}
        rest = " ".join(f"{k}={v}" for k, v in table.items() if k not in direct)
        overrides = parse_thresholds(rest, base) if rest else {}
        overrides.update({k: float(v) for k, v in direct.items()})
        with_overrides(base, overrides)
        return overrides
    else:
        raise ConfigError(f"{where}: thresholds must be a table or a string")
    return parse_thresholds(text, base)


def load_plans(path: Path, tracked: Sequence[str]) -> tuple[AlertConfig, list[Plan]]:
    """A backtest config file → the base thresholds and the subscriptions to replay."""
    try:
        data = tomllib.loads(path.read_text())
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"thresholds", "subscriptions"}
    if unknown:
        raise ConfigError(
            f"{path}: unknown section(s) {', '.join(sorted(unknown))} (use thresholds, subscriptions)"
        )
    try:
        base = with_overrides(AlertConfig(), _thresholds(data.get("thresholds"), AlertConfig(), str(path)))
        plans = []
        for n, entry in enumerate(data.get("subscriptions") or [{}], 1):
            where = f"{path}: subscriptions[{n}]"
            if not isinstance(entry, dict):
                raise ConfigError(f"{where}: must be a table")
            extra = set(entry) - {"name", "coins", "types", "thresholds"}
            if extra:
                raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(extra))}")
            coins = entry.get("coins") or []
            if isinstance(coins, str):
                coins = [c for c in coins.replace(",", " ").split() if c]
            bad = [c for c in coins if c.upper() not in tracked]
            if bad:
                raise ConfigError(
                    f"{where}: coins not tracked: {', '.join(bad)} (tracked: {', '.join(tracked)})"
                )
            types = entry.get("types")
            rules = parse_rules(", ".join(types) if isinstance(types, list) else types)
            plans.append(
                Plan(
                    name=str(entry.get("name") or f"subscription {n}"),
                    coins=tuple(c.upper() for c in coins),
                    rules=rules,
                    thresholds=_thresholds(entry.get("thresholds"), base, where),
                )
            )
    except ValueError as exc:  # ThresholdError too
        raise ConfigError(f"{path}: {exc}") from None
    return base, plans


def stored_plans(store: Store) -> list[Plan]:
    return [
        Plan(
            name=f"guild {s.guild_id} · channel {s.channel_id}"
            + (f" (disabled: {s.disabled_reason})" if s.disabled_reason else ""),
            coins=s.coins,
            rules=s.rules,
            thresholds=dict(s.thresholds),
        )
        for s in db.all_subscriptions(store)
    ]


# -- the replay --------------------------------------------------------------------------------


def latest_bar_close(store: Store, coins: Sequence[str]) -> datetime | None:
    latest = store.latest_candle_times("1h")
    closes = [latest[c] + HOUR for c in coins if c in latest]
    return max(closes) if closes else None


def _hour_grid(start: datetime, end: datetime) -> list[datetime]:
    first = datetime.fromtimestamp(math.ceil(start.timestamp() / 3600) * 3600, tz=UTC)
    out = []
    t = first
    while t <= end:
        out.append(t)
        t += HOUR
    return out


def replay(
    store: Store,
    plans: Sequence[Plan],
    base: AlertConfig,
    tracked: Sequence[str],
    start: datetime,
    end: datetime,
) -> list[Result]:
    """Every plan's alerts between ``start`` and ``end``."""
    results = [Result(p) for p in plans]
    coins = [c for c in tracked if any(c in p.watched(tracked) for p in plans)]
    grid = _hour_grid(start, end)
    for coin in coins:
        mine = [r for r in results if coin in r.plan.watched(tracked)]
        rules = [r for r in RULES if any(r in res.plan.rules for res in mine)]
        if not rules:
            continue
        parts = parts_for(rules)
        series = load_series(store, coin, start, end, base, parts, daily="level" in rules)
        zones = ZoneCache()
        hourly_inputs: dict[datetime, CoinInputs] = {}
        for t in grid:
            level_zones = zones.zones(series, t, base.level_refresh_hours) if "level" in rules else ()
            hourly_inputs[t] = inputs_at(series, t, base, zones=level_zones, parts=parts)
        liq_inputs: dict[datetime, CoinInputs] = {}
        if "liquidations" in rules:
            for t in series.liq_event_times(start, end):
                if t not in hourly_inputs:
                    liq_inputs[t] = inputs_at(series, t, base, parts=("liq",))
        for res in mine:
            cfg = with_overrides(base, res.plan.thresholds)
            for rule in res.plan.rules:
                if rule not in RULE_FUNCTIONS:  # large liquidations: single events, not replayed
                    continue
                times = sorted({*hourly_inputs, *(liq_inputs if rule == "liquidations" else ())})
                state = None
                fn = RULE_FUNCTIONS[rule]
                for t in times:
                    inputs = hourly_inputs.get(t) or liq_inputs[t]
                    obs = fn(inputs, cfg)
                    if obs is None:
                        continue
                    state, fire = step(
                        state, obs.score, t, cooldown=cfg.cooldown_for(rule), hysteresis=cfg.hysteresis
                    )
                    if fire:
                        res.alerts.append(obs)
    for res in results:
        if "large_liq" in res.plan.rules:
            cfg = with_overrides(base, res.plan.thresholds)
            res.alerts += replay_large(store, res.plan.watched(tracked), cfg, start, end)
        res.alerts.sort(
            key=lambda o: (o.at, tracked.index(o.coin) if o.coin in tracked else 0, RULES.index(o.rule))
        )
    return results
