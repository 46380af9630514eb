"""Alert configuration: the rules by name, the thresholds and their defaults, and parsing of
the per-subscription overrides a command gives."""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from bot.analysis.liq_basis import LiqBands
from bot.fmt import money
from bot.timeparse import parse_minutes

RuleName = Literal["move", "liquidations", "large_liq", "level", "oi_flush", "funding"]
RULES: tuple[RuleName, ...] = ("move", "liquidations", "large_liq", "level", "oi_flush", "funding")
RULE_TITLES: dict[RuleName, str] = {
    "move": "large move",
    "liquidations": "liquidation spike",
    "large_liq": "large liquidation",
    "level": "level break",
    "oi_flush": "open-interest flush",
    "funding": "funding extreme",
}
_RULE_ALIASES: dict[str, RuleName] = {
    "move": "move",
    "moves": "move",
    "large move": "move",
    "large moves": "move",
    "price": "move",
    "liquidations": "liquidations",
    "liquidation": "liquidations",
    "liquidation spike": "liquidations",
    "liquidation spikes": "liquidations",
    "liq": "liquidations",
    "liqs": "liquidations",
    "large_liq": "large_liq",
    "large liq": "large_liq",
    "large liquidation": "large_liq",
    "large liquidations": "large_liq",
    "large": "large_liq",
    "big liquidation": "large_liq",
    "big liquidations": "large_liq",
    "single liquidation": "large_liq",
    "single liquidations": "large_liq",
    "whale": "large_liq",
    "level": "level",
    "levels": "level",
    "level break": "level",
    "level breaks": "level",
    "break": "level",
    "breaks": "level",
    "support": "level",
    "resistance": "level",
    "oi": "oi_flush",
    "oi flush": "oi_flush",
    "oi_flush": "oi_flush",
    "open interest": "oi_flush",
    "open-interest flush": "oi_flush",
    "funding": "funding",
    "funding extreme": "funding",
    "funding extremes": "funding",
}

# -- configuration ----------------------------------------------------------------------------


class AlertConfig(BaseModel):
    """Thresholds with their defaults. A subscription overrides any of the first group (see
    :data:`OVERRIDES`); the engine-level ones at the end shape the inputs and are the same for
    every subscription."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # large move
    move_1h_pct: float = Field(5.0, gt=0, le=100)
    move_24h_pct: float = Field(12.0, gt=0, le=100)
    sigma_k: float = Field(4.0, gt=0, le=20)
    sigma_min_move_pct: float = Field(3.0, ge=0, le=100)
    # liquidation spike
    liq_multiple: float = Field(5.0, ge=1, le=1000)
    liq_floor_usd: float = Field(500_000.0, ge=0, le=1e12)
    # large liquidation: one event at least this share of the coin's open interest (and at
    # least large_min_usd), or large_usd when the open interest is not known
    large_oi_pct: float = Field(0.02, gt=0, le=100)
    large_min_usd: float = Field(100_000.0, ge=0, le=1e12)
    large_usd: float = Field(1_000_000.0, gt=0, le=1e12)
    # level break
    level_buffer_pct: float = Field(1.0, gt=0, le=20)
    level_min_strength: float = Field(0.6, ge=0, le=1)
    level_cooldown_minutes: int = Field(240, ge=1, le=7 * 24 * 60)  # price chops around a level
    # open-interest flush
    oi_drop_1h_pct: float = Field(4.0, gt=0, le=100)
    oi_drop_24h_pct: float = Field(10.0, gt=0, le=100)
    # funding extreme, in percent per 8h (0.05 = 0.05%/8h, five times the usual base rate)
    funding_band_pct: float = Field(0.05, gt=0, le=5)
    # state machine
    cooldown_minutes: int = Field(60, ge=1, le=7 * 24 * 60)
    hysteresis: float = Field(0.2, ge=0, lt=1)
    # engine-level (not per subscription)
    sigma_lookback_days: int = Field(30, ge=3, le=60)
    liq_window_minutes: int = Field(15, ge=1, le=240)
    liq_baseline_days: float = Field(7.0, ge=1, le=30)
    liq_bands: LiqBands = LiqBands()  # before the own baseline covers its days: open interest
    level_refresh_hours: int = Field(6, ge=1, le=24)

    @property
    def cooldown(self) -> timedelta:
        return timedelta(minutes=self.cooldown_minutes)

    def cooldown_for(self, rule: RuleName) -> timedelta:
        if rule == "level":
            return timedelta(minutes=max(self.level_cooldown_minutes, self.cooldown_minutes))
        return self.cooldown

    @property
    def liq_window(self) -> timedelta:
        return timedelta(minutes=self.liq_window_minutes)


class ThresholdError(ValueError):
    """A threshold override that cannot be used; the message is one line naming the key."""


def _number(text: str) -> float:
    value = float(text.replace(",", "").replace("_", ""))
    if not math.isfinite(value):
        raise ValueError
    return value


def _pct(text: str) -> float:
    return _number(text.removesuffix("%"))


def _money(text: str) -> float:
    t = text.lstrip("$").upper()
    scale = {"K": 1e3, "M": 1e6, "B": 1e9}.get(t[-1:], 1.0)
    return _number(t[:-1] if scale != 1.0 else t) * scale


def _multiple(text: str) -> float:
    return _number(text.lower().removesuffix("x").removesuffix("×"))


def _minutes(text: str) -> float:
    return parse_minutes(text)


# user-facing key -> (config field, parser, how it is shown)
OVERRIDES: dict[str, tuple[str, Callable[[str], float], str]] = {
    "move_1h": ("move_1h_pct", _pct, "{:g}%"),
    "move_24h": ("move_24h_pct", _pct, "{:g}%"),
    "sigma": ("sigma_k", _multiple, "{:g}σ"),
    "min_move": ("sigma_min_move_pct", _pct, "{:g}%"),
    "liq_multiple": ("liq_multiple", _multiple, "{:g}×"),
    "liq_floor": ("liq_floor_usd", _money, "money"),
    "large_oi": ("large_oi_pct", _pct, "{:g}%"),
    "large_min": ("large_min_usd", _money, "money"),
    "large_usd": ("large_usd", _money, "money"),
    "level_buffer": ("level_buffer_pct", _pct, "{:g}%"),
    "level_strength": ("level_min_strength", _number, "{:g}"),
    "level_cooldown": ("level_cooldown_minutes", _minutes, "minutes"),
    "oi_1h": ("oi_drop_1h_pct", _pct, "{:g}%"),
    "oi_24h": ("oi_drop_24h_pct", _pct, "{:g}%"),
    "funding": ("funding_band_pct", _pct, "±{:g}%/8h"),
    "cooldown": ("cooldown_minutes", _minutes, "minutes"),
    "hysteresis": ("hysteresis", _number, "{:g}"),
}
_FIELD_TO_KEY = {f: k for k, (f, _, _) in OVERRIDES.items()}
OVERRIDE_HELP = ", ".join(OVERRIDES)


def parse_thresholds(text: str | None, base: AlertConfig | None = None) -> dict[str, float]:
    """``"move_24h=6% liq_floor=2M cooldown=2h"`` → config overrides ``{field: value}``,
    validated against :class:`AlertConfig`. Raises :class:`ThresholdError` with one line."""
    if not text or not text.strip() or text.strip().lower() in ("default", "defaults", "none"):
        return {}
    out: dict[str, float] = {}
    for token in re.split(r"[\s,;]+", text.strip()):
        if not token:
            continue
        key, sep, raw = token.partition("=")
        if not sep:
            key, sep, raw = token.partition(":")
        key = key.strip().lower()
        if not sep or not raw:
            raise ThresholdError(f"expected key=value, got {token!r} (keys: {OVERRIDE_HELP})")
        if key not in OVERRIDES:
            key = _FIELD_TO_KEY.get(key, key)
        if key not in OVERRIDES:
            raise ThresholdError(f"unknown threshold {key!r}; use one of {OVERRIDE_HELP}")
        fld, parse, _ = OVERRIDES[key]
        try:
            value = parse(raw.strip())
        except (ValueError, IndexError):
            raise ThresholdError(f"{key}: {raw!r} is not a number") from None
        out[fld] = round(value) if fld.endswith("_minutes") else value
    with_overrides(base or AlertConfig(), out)  # validates
    return out


def with_overrides(base: AlertConfig, overrides: Mapping[str, float]) -> AlertConfig:
    try:
        return AlertConfig.model_validate({**base.model_dump(), **overrides})
    except ValidationError as exc:
        err = exc.errors()[0]
        fld = str(err["loc"][0]) if err["loc"] else "?"
        key = _FIELD_TO_KEY.get(fld, fld)
        raise ThresholdError(f"{key}: {err['msg'].lower()} (got {err.get('input')!r})") from None


def show_threshold(fld: str, value: float) -> str:
    key = _FIELD_TO_KEY.get(fld, fld)
    fmt = OVERRIDES[key][2] if key in OVERRIDES else "{:g}"
    if fmt == "money":
        shown = money(value)
    elif fmt == "minutes":
        minutes = int(value)
        shown = f"{minutes // 60}h" if minutes % 60 == 0 else f"{minutes}m"
    else:
        shown = fmt.format(value)
    return f"{key}={shown}"


def describe_thresholds(overrides: Mapping[str, float]) -> str:
    return ", ".join(show_threshold(f, v) for f, v in sorted(overrides.items())) or "defaults"


def parse_rules(text: str | None) -> tuple[RuleName, ...]:
    """``"move, liquidations"`` (or "all", or nothing) → rule names in canonical order."""
    if text is None or not text.strip() or text.strip().lower() in ("all", "*", "every"):
        return RULES
    chosen: set[RuleName] = set()
    for part in re.split(r"[,;/+|]+", text):
        name = " ".join(part.strip().lower().replace("_", " ").split())
        if not name:
            continue
        rule = _RULE_ALIASES.get(name) or _RULE_ALIASES.get(name.replace(" ", "_"))
        if rule is None:
            raise ValueError(
                f"unknown alert type {part.strip()!r}; choose from move, liquidations, large liquidations, levels, oi, funding (or all)"
            )
        chosen.add(rule)
    return tuple(r for r in RULES if r in chosen)
