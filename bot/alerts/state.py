"""Each alert's state machine, and the decision of what fires in one cycle (the service,
:mod:`bot.alerts.service`, reads the inputs and posts what fired).

State per channel × coin × rule (:class:`~bot.alerts.models.AlertState`):

- ``armed`` → fires when the score passes 1 (the value passed its threshold); → ``fired``.
- ``fired`` → no alert until the cooldown is over; notes when the score falls below
  ``1 - hysteresis`` (re-armed). After the cooldown: ``armed`` if re-armed, else ``cooling``.
- ``cooling`` → ``armed`` once the score falls below ``1 - hysteresis``.

So a value hovering at a threshold fires once, not on every wiggle, and a condition that lasts
(funding stuck high) fires once per episode. States are written in one transaction with the
messages they decided on, queued in the outbox (:mod:`bot.alerts.outbox`): a restart reloads
them and never decides an alert twice, and the outbox posts each message once, retrying one that
failed for a passing reason. A muted subscription moves through the same states without
posting, so unmuting does not unleash what happened meanwhile.

Evaluated by a scheduler job after every refresh (and on an interval as a fallback), and for
liquidation spikes on each batch the streams store (:meth:`AlertsService.on_liquidations`), so a
spike is posted within seconds rather than at the next poll.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.alerts.config import RULES, AlertConfig, RuleName
from bot.alerts.inputs import CoinInputs
from bot.alerts.messages import Delivery, Observation
from bot.alerts.models import AlertState, StateKey, Subscription
from bot.alerts.rules import evaluate

# -- the state machine -------------------------------------------------------------------------


def step(
    prev: AlertState | None, score: float, now: datetime, *, cooldown: timedelta, hysteresis: float
) -> tuple[AlertState, bool]:
    """The next state of one alert given its newest score; ``True`` when it fires now."""
    s = prev or AlertState()
    low = score < 1.0 - hysteresis
    state, rearmed = s.state, s.rearmed
    if state == "fired":
        rearmed = rearmed or low
        if s.fired_at is None or now >= s.fired_at + cooldown:
            state = "armed" if rearmed else "cooling"
    elif state == "cooling" and low:
        state = "armed"
    if state == "armed" and score > 1.0:
        return AlertState(state="fired", fired_at=now, rearmed=False, score=score, updated_at=now), True
    return (
        AlertState(
            state=state,
            fired_at=s.fired_at,
            rearmed=rearmed and state == "fired",
            score=score,
            updated_at=now,
        ),
        False,
    )


# -- deciding ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Fired:
    sub: Subscription
    obs: Observation
    previous: AlertState | None
    muted: bool = False

    @property
    def key(self) -> StateKey:
        return (self.sub.channel_id, self.obs.coin, self.obs.rule)


def decide(
    subs: Sequence[Subscription],
    inputs: dict[str, CoinInputs],
    states: dict[StateKey, AlertState],
    now: datetime,
    base: AlertConfig,
    tracked: Sequence[str],
    rules: Collection[RuleName] = RULES,
) -> tuple[list[tuple[int, StateKey, AlertState]], list[Fired]]:
    """Run every subscription's rules on the inputs: the states that changed, and what fired."""
    changes: list[tuple[int, StateKey, AlertState]] = []
    fired: list[Fired] = []
    # most subscriptions share thresholds: evaluate each coin once per distinct configuration
    seen: dict[tuple[str, str], dict[RuleName, Observation]] = {}
    configs: dict[str, AlertConfig] = {}
    for sub in subs:
        key_cfg = json.dumps(sub.thresholds, sort_keys=True)
        cfg = configs.get(key_cfg) or configs.setdefault(key_cfg, sub.config(base))
        muted = sub.muted(now)
        for coin in sub.watched(tracked):
            if coin not in inputs:
                continue
            observed = seen.get((coin, key_cfg))
            if observed is None:
                observed = seen[(coin, key_cfg)] = evaluate(inputs[coin], cfg, rules)
            for rule, obs in observed.items():
                if rule not in sub.rules:
                    continue
                key: StateKey = (sub.channel_id, coin, rule)
                prev = states.get(key)
                new, fire = step(
                    prev, obs.score, now, cooldown=cfg.cooldown_for(rule), hysteresis=cfg.hysteresis
                )
                if not new.same(prev):
                    changes.append((sub.guild_id, key, new))
                states[key] = new
                if fire:
                    fired.append(Fired(sub, obs, prev, muted))
    return changes, fired


@dataclass
class AlertCycleReport:
    at: datetime
    subscriptions: int = 0
    fired: list[Fired] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(1 for d in self.deliveries if d.status == "sent")
