"""Alerts in words: titles and trigger lines per rule, and one channel message per cycle that
fits Discord's limits."""

from __future__ import annotations

from datetime import timedelta

import discord

from bot.alerts.messages import Observation
from bot.analysis.findings import LevelZone
from bot.render.alerts import (
    MAX_EMBEDS,
    alert_title,
    fit,
    message_embeds,
    trigger_text,
    why_buttons,
)
from tests.conftest import NOW


def obs(rule: str, coin: str = "SOL", **kw: object) -> Observation:
    fields: dict[str, object] = {
        "rule": rule,
        "coin": coin,
        "at": NOW,
        "score": 1.5,
        "direction": "down",
        "window": "1h",
        "value": -6.0,
        "threshold": 5.0,
        "basis": "threshold",
    }
    fields.update(kw)
    return Observation.model_validate(fields)


def test_each_rule_says_what_crossed_which_threshold() -> None:
    zone = LevelZone(
        kind="resistance", low=180.0, high=184.0, mid=182.0, strength=0.82, touches=4, distance_pct=2.0
    )
    level = obs("level", value=1.6, threshold=1.0, basis="zone", zone=zone, zone_was="support", close=177.1)
    level = level.model_copy(update={"bar_time": NOW - timedelta(hours=1)})
    assert alert_title(level) == "🧱 SOL closed below support $180–$184"
    assert trigger_text(level) == (
        "The 1h bar to 2026-11-26 12:00 UTC closed at $177.1, 1.60% below the zone (strength 0.82); "
        "a break needs a close 1% beyond it, a wick does not count."
    )
    oi = obs("oi_flush", window="24h", value=-11.5, threshold=-10.0, oi_usd=2.4e9)
    assert alert_title(oi) == "🔻 SOL open interest −11.5% in 24h"
    assert trigger_text(oi) == "Open interest −11.5% in 24h to $2.40B; alerts from −10.0%."
    funding = obs("funding", direction="up", window="8h", value=0.072, threshold=0.05, basis="band")
    assert alert_title(funding) == "💸 SOL funding +0.072%/8h: extreme"
    assert trigger_text(funding) == (
        "Mean funding across venues +0.072%/8h (longs pay shorts), beyond the ±0.05%/8h band."
    )
    sigma = obs("move", window="24h", value=-6.5, threshold=6.0, basis="sigma", sigma=1.5)
    assert trigger_text(sigma) == "4.3σ of SOL's own 24h moves (σ 1.50% over 30 days; alerts from 4σ)."


def test_many_alerts_make_one_message_within_discords_limits() -> None:
    coins = [f"C{k}" for k in range(12)]
    embeds = message_embeds([(obs("move", coin=c), None) for c in coins])
    assert len(embeds) == MAX_EMBEDS
    assert embeds[-1].title == "…and 3 more alerts"
    assert embeds[-1].description == "• 📉 C9 −6.0% in 1h\n• 📉 C10 −6.0% in 1h\n• 📉 C11 −6.0% in 1h"
    assert why_buttons([obs("move", coin=c) for c in ["SOL", "BTC", "SOL"]]) == [("SOL", "1h"), ("BTC", "1h")]


def test_fit_drops_fields_from_the_last_embeds_first() -> None:
    embeds = []
    for k in range(4):
        e = discord.Embed(title=f"alert {k}")
        e.add_field(name="Why", value="x" * 1000)
        e.add_field(name="More", value="y" * 1000)
        embeds.append(e)
    fit(embeds)
    assert sum(len(e) for e in embeds) <= 5800
    assert [len(e.fields) for e in embeds] == [2, 2, 1, 0]
