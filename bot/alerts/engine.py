"""The alert engine: read the store, run the rules for every subscription, move each alert's
state machine, and post what fired, one message per channel.

State per channel × coin × rule (:class:`~bot.alerts.store.AlertState`):

- ``armed`` → fires when the score passes 1 (the value passed its threshold); → ``fired``.
- ``fired`` → no alert until the cooldown is over; notes when the score falls below
  ``1 - hysteresis`` (re-armed). After the cooldown: ``armed`` if re-armed, else ``cooling``.
- ``cooling`` → ``armed`` once the score falls below ``1 - hysteresis``.

So a value hovering at a threshold fires once, not on every wiggle, and a condition that lasts
(funding stuck high) fires once per episode. States are written before the message is sent: a
restart reloads them and never sends an alert twice (a post that fails for a transient reason
gives its alerts back, so the next cycle retries them). A muted subscription moves through the
same states without posting, so unmuting does not unleash what happened meanwhile.

Evaluated by a scheduler job after every refresh (and on an interval as a fallback), and for
liquidation spikes on each batch the streams store (:meth:`AlertsService.on_liquidations`), so a
spike is posted within seconds rather than at the next poll.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import re
from collections import defaultdict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.alerts import store as db
from bot.alerts.dispatch import Delivery, Dispatcher, Outgoing, nonce_for
from bot.alerts.rules import (
    RULES,
    AlertConfig,
    CoinInputs,
    CoinSeries,
    Observation,
    RuleName,
    evaluate,
    inputs_at,
    zones_at,
)
from bot.alerts.store import AlertState, Brief, StateKey, Subscription
from bot.analysis.coverage import coverage
from bot.analysis.findings import LevelZone
from bot.analysis.why import WhyAnswer
from bot.clock import from_ms
from bot.errors import UserFacingError
from bot.jobs import TICKERS_JOB
from bot.models import Candle, Liquidation, OpenInterest
from bot.render.alerts import brief_content, fit, message_embeds, sample_alert_embed, why_buttons, why_window
from bot.render.liquidations import liquidations_embed
from bot.render.why import why_embed
from bot.services.liquidations import LiquidationsService
from bot.services.market import MarketService, best_ticker
from bot.services.moves import coin_move
from bot.services.why import WhyService
from bot.store import Store

if TYPE_CHECKING:
    import discord
    from apscheduler.events import JobExecutionEvent
    from apscheduler.schedulers.asyncio import AsyncIOScheduler

    from bot.settings import Settings

log = logging.getLogger(__name__)

ALERTS_JOB = "alerts-evaluate"
BRIEFS_JOB = "alerts-briefs"
# A refresh of these is followed at once by an evaluation.
REFRESH_JOBS = frozenset({TICKERS_JOB, "refresh-candles", "refresh-derivatives"})
LIQUIDATION_RULES: tuple[RuleName, ...] = ("liquidations",)
BRIEF_GRACE = timedelta(hours=2)  # a brief missed by more than this (bot down) waits for the next day

# The data each rule reads.
_PARTS: dict[RuleName, frozenset[str]] = {
    "move": frozenset({"hourly"}),
    "level": frozenset({"hourly"}),
    "liquidations": frozenset({"liq"}),
    "oi_flush": frozenset({"oi"}),
    "funding": frozenset({"funding"}),
}


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


# -- reading the store -------------------------------------------------------------------------


def _aggregate_liq(rows: Iterable[dict[str, Any]]) -> list[tuple[datetime, float, float]]:
    sums: dict[int, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for r in rows:
        acc = sums[int(r["minute"])]
        acc[0] += r["usd"]
        if r["side"] == "long":
            acc[1] += r["usd"]
    return [(from_ms(ms), usd, long) for ms, (usd, long) in sorted(sums.items())]


def load_series(
    store: Store,
    coin: str,
    start: datetime,
    end: datetime,
    cfg: AlertConfig,
    parts: Collection[str],
    *,
    daily: bool = False,
) -> CoinSeries:
    """What the rules need to evaluate ``coin`` at any time in ``[start, end]``."""
    hourly: tuple[Candle, ...] = ()
    daily_bars: tuple[Candle, ...] = ()
    if "hourly" in parts or daily:
        since = start - timedelta(days=(30 if daily else 0) + cfg.sigma_lookback_days + 2)
        hourly = tuple(store.candles(coin, "1h", since, end))
    if daily:
        daily_bars = tuple(store.candles(coin, "1d", start - timedelta(days=422), end))
    oi: tuple[OpenInterest, ...] = ()
    if "oi" in parts:
        oi = tuple(store.open_interest(coin, start - timedelta(hours=32)))
    elif "liq" in parts:  # open interest: the spike's yardstick before a baseline exists
        live = start == end
        oi = tuple(
            store.oi_points(coin, [end], after=False)
            if live
            else store.open_interest(coin, start - timedelta(hours=2))
        )
    funding = tuple(store.funding(coin, start - timedelta(hours=14))) if "funding" in parts else ()
    minutes: list[tuple[datetime, float, float]] = []
    hours: list[tuple[datetime, float]] = []
    covered: datetime | None = None
    if "liq" in parts:
        window = cfg.liq_window
        minutes = _aggregate_liq(
            store.liq_buckets(
                coin, start - window - timedelta(minutes=1), end + timedelta(minutes=1), hourly=False
            )
        )
        b_start = start - window - timedelta(days=cfg.liq_baseline_days, hours=1)
        hours = [(t, usd) for t, usd, _ in _aggregate_liq(store.liq_buckets(coin, b_start, end, hourly=True))]
        sessions = store.stream_sessions(b_start)
        covered = coverage(sessions, b_start, end).covered_since
    return CoinSeries(
        coin=coin,
        hourly=hourly,
        daily=daily_bars,
        oi=oi,
        funding=funding,
        liq_minutes=minutes,
        liq_hours=hours,
        covered_since=covered,
    )


def parts_for(rules: Iterable[RuleName]) -> frozenset[str]:
    return frozenset().union(*(_PARTS[r] for r in rules))


class ZoneCache:
    """Support/resistance zones per coin, recomputed every ``level_refresh_hours`` (the same
    schedule the backtest uses, so a replay sees the zones the live bot saw)."""

    def __init__(self) -> None:
        self._zones: dict[tuple[str, datetime], tuple[LevelZone, ...]] = {}

    @staticmethod
    def anchor(t: datetime, hours: int) -> datetime:
        step_s = hours * 3600
        return datetime.fromtimestamp(math.floor(t.timestamp() / step_s) * step_s, tz=UTC)

    def get(self, coin: str, anchor: datetime) -> tuple[LevelZone, ...] | None:
        return self._zones.get((coin, anchor))

    def put(self, coin: str, anchor: datetime, zones: tuple[LevelZone, ...]) -> None:
        for key in [k for k in self._zones if k[0] == coin and k[1] != anchor]:
            del self._zones[key]
        self._zones[(coin, anchor)] = zones

    def zones(self, series: CoinSeries, t: datetime, hours: int) -> tuple[LevelZone, ...]:
        anchor = self.anchor(t, hours)
        found = self.get(series.coin, anchor)
        if found is None:
            _, found = zones_at(series, t, hours)
            self.put(series.coin, anchor, found)
        return found


def gather_inputs(
    store: Store,
    coins: Sequence[str],
    rules: Collection[RuleName],
    now: datetime,
    cfg: AlertConfig,
    *,
    stale_after: timedelta,
    zones: ZoneCache,
) -> dict[str, CoinInputs]:
    """The rules' inputs for every coin at ``now`` (one worker-thread call): the live price is
    the best ticker while it is fresh, as in /price and /why."""
    parts = parts_for(rules)
    tickers = best_ticker(store.tickers()) if "move" in rules else {}
    out: dict[str, CoinInputs] = {}
    for coin in coins:
        need_zones = (
            "level" in rules and zones.get(coin, ZoneCache.anchor(now, cfg.level_refresh_hours)) is None
        )
        series = load_series(store, coin, now, now, cfg, parts, daily=need_zones)
        level_zones = zones.zones(series, now, cfg.level_refresh_hours) if "level" in rules else ()
        t = tickers.get(coin)
        live = t if t is not None and now - t.ts <= stale_after else None
        out[coin] = inputs_at(
            series,
            now,
            cfg,
            price=live.price if live else None,
            # the moves /why states, from the same function: no move alert on a stale price
            change_1h_pct=coin_move(store, live, "1h", now) if live else None,
            change_24h_pct=coin_move(store, live, "24h", now) if live else None,
            live="move" in rules,
            zones=level_zones,
            parts=parts,
        )
    return out


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
class CycleReport:
    at: datetime
    subscriptions: int = 0
    fired: list[Fired] = field(default_factory=list)
    deliveries: list[Delivery] = field(default_factory=list)

    @property
    def sent(self) -> int:
        return sum(1 for d in self.deliveries if d.status == "sent")


# -- schedule helpers --------------------------------------------------------------------------

_DURATION = re.compile(r"(\d+)\s*(w|d|h|m|min|mins|minutes?|hours?|days?)")


def parse_duration(text: str) -> timedelta | None:
    """``30m``, ``2h``, ``1d``, ``1h30m``, ``90`` (minutes) → a duration; ``off``/``0`` → None."""
    t = text.strip().lower()
    if t in ("off", "0", "none", "unmute", "no"):
        return None
    if t.isdigit():
        return timedelta(minutes=int(t))
    parts = _DURATION.findall(t)
    if not parts or _DURATION.sub("", t).strip():
        raise ValueError(f"{text!r} is not a duration: use e.g. 30m, 2h, 1d (or off)")
    unit_minutes = {"w": 10080, "d": 1440, "h": 60, "m": 1}
    minutes = sum(int(n) * unit_minutes[u[0]] for n, u in parts)
    return timedelta(minutes=minutes)


def parse_local_time(text: str) -> str:
    """``8``, ``08:30``, ``8:30pm``, ``20h`` → ``HH:MM``."""
    m = re.fullmatch(r"(\d{1,2})(?:[:.h](\d{2}))?\s*(am|pm|h)?", text.strip().lower())
    if m is None:
        raise ValueError(f"{text!r} is not a time of day: use HH:MM, e.g. 08:00 or 21:30")
    hour, minute = int(m.group(1)), int(m.group(2) or 0)
    if m.group(3) in ("am", "pm"):
        if not 1 <= hour <= 12:
            raise ValueError(f"{text!r} is not a time of day: use HH:MM, e.g. 08:00 or 21:30")
        hour = hour % 12 + (12 if m.group(3) == "pm" else 0)
    if hour > 23 or minute > 59:
        raise ValueError(f"{text!r} is not a time of day: use HH:MM, e.g. 08:00 or 21:30")
    return f"{hour:02d}:{minute:02d}"


@cache
def _timezone_names() -> dict[str, str]:
    return {n.lower(): n for n in available_timezones()}


def resolve_timezone(name: str) -> ZoneInfo:
    """An IANA timezone by name, whatever its case (``europe/berlin`` is Europe/Berlin)."""
    key = _timezone_names().get(name.strip().lower().replace(" ", "_"), name.strip())
    try:
        return ZoneInfo(key)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"unknown timezone {name!r}: use a name like Europe/Berlin, America/New_York or UTC"
        ) from None


def next_brief_time(after: datetime, local_time: str, timezone: str) -> datetime:
    """The first ``local_time`` in ``timezone`` strictly after ``after``, in UTC (wall-clock
    arithmetic, so a brief stays at 08:00 local across daylight-saving changes)."""
    zone = resolve_timezone(timezone)
    hour, minute = (int(x) for x in local_time.split(":"))
    local = after.astimezone(zone)
    candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
    if candidate <= local:
        candidate = (local + timedelta(days=1)).replace(hour=hour, minute=minute, second=0, microsecond=0)
    return candidate.astimezone(UTC)


# -- the service -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GuildAlerts:
    subscriptions: list[Subscription]
    briefs: list[Brief]


class AlertsService:
    """What the /alerts commands, the scheduler and the streams call."""

    def __init__(
        self,
        market: MarketService,
        why: WhyService,
        liquidations: LiquidationsService,
        *,
        config: AlertConfig | None = None,
        concurrency: int = 8,
    ) -> None:
        self.market = market
        self.why = why
        self.liquidations = liquidations
        self.config = config or AlertConfig(liq_bands=market.settings.liquidations)
        self.concurrency = concurrency
        self.dispatcher: Dispatcher | None = None
        self.zones = ZoneCache()
        self._lock = asyncio.Lock()
        self._pending: set[str] = set()
        self._liq_task: asyncio.Task[None] | None = None

    @property
    def store(self) -> Store:
        return self.market.store.sync

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await self.market.store.run(fn, *args, **kwargs)

    def attach(self, client: discord.Client) -> None:
        """Post through ``client`` from now on (called when the cog loads)."""
        self.dispatcher = Dispatcher(client, concurrency=self.concurrency)

    def detach(self) -> None:
        self.dispatcher = None
        if self._liq_task is not None:
            self._liq_task.cancel()
            self._liq_task = None
        self._pending.clear()

    async def idle(self) -> None:
        """Wait until the liquidation-triggered evaluations in flight are done."""
        while self._liq_task is not None and not self._liq_task.done():
            await asyncio.gather(self._liq_task, return_exceptions=True)

    # -- commands ------------------------------------------------------------------------------

    async def guild(self, guild_id: int) -> GuildAlerts:
        subs = await self._run(db.guild_subscriptions, self.store, guild_id)
        briefs = await self._run(db.guild_briefs, self.store, guild_id)
        return GuildAlerts(subs, briefs)

    async def subscription(self, guild_id: int, channel_id: int) -> Subscription | None:
        sub: Subscription | None = await self._run(db.guild_subscription, self.store, guild_id, channel_id)
        return sub

    async def subscribe(self, sub: Subscription) -> bool:
        """Save (create or replace) a validated subscription; True when it is new."""
        existing = await self.subscription(sub.guild_id, sub.channel_id)
        if existing is None:
            count = len(await self._run(db.guild_subscriptions, self.store, sub.guild_id))
            if count >= db.MAX_PER_GUILD:
                raise UserFacingError(
                    f"This server already has {count} alert subscriptions (the most is {db.MAX_PER_GUILD}): "
                    "unsubscribe one first."
                )
        try:
            await self._run(db.save_subscription, self.store, sub)
        except db.ChannelTaken:
            raise UserFacingError("That channel is not in this server.") from None
        return existing is None

    async def unsubscribe(self, guild_id: int, channel_id: int) -> tuple[bool, bool]:
        """Remove the channel's alerts and its brief: (alerts removed, brief removed)."""
        async with self._lock:
            alerts = await self._run(db.delete_subscription, self.store, guild_id, channel_id)
            brief = await self._run(db.delete_brief, self.store, guild_id, channel_id)
        return alerts, brief

    async def mute(self, guild_id: int, channel_id: int | None, until: datetime | None) -> int:
        n: int = await self._run(db.set_muted, self.store, guild_id, channel_id, until)
        return n

    async def set_brief(
        self, guild_id: int, channel_id: int, local_time: str, timezone: str, created_by: int | None
    ) -> Brief:
        brief = Brief(
            guild_id=guild_id,
            channel_id=channel_id,
            local_time=local_time,
            timezone=timezone,
            next_due=next_brief_time(self.market.clock(), local_time, timezone),
            created_by=created_by,
        )
        try:
            await self._run(db.save_brief, self.store, brief)
        except db.ChannelTaken:
            raise UserFacingError("That channel is not in this server.") from None
        return brief

    async def remove_brief(self, guild_id: int, channel_id: int) -> bool:
        removed: bool = await self._run(db.delete_brief, self.store, guild_id, channel_id)
        return removed

    async def send_test(self, guild_id: int, channel_id: int) -> Delivery:
        """Post a sample alert (with a working "Why?" button) to check the bot may post there."""
        if self.dispatcher is None:
            raise UserFacingError("Alerts cannot be posted right now (the bot is not connected).")
        sub = await self.subscription(guild_id, channel_id)
        tracked = sub.watched(self.market.tracked) if sub else self.market.tracked
        buttons = [(tracked[0], "24h")] if tracked else []
        message = Outgoing(guild_id, channel_id, [sample_alert_embed(self.market.clock(), sub)], buttons)
        [delivery] = await self.dispatcher.deliver([message])
        return delivery

    # -- evaluation ----------------------------------------------------------------------------

    async def run_cycle(
        self, *, rules: Collection[RuleName] | None = None, coins: Collection[str] | None = None
    ) -> CycleReport:
        """Evaluate every enabled subscription (optionally only some rules or coins), persist
        the states, then post what fired."""
        wanted_rules = [r for r in RULES if rules is None or r in rules]
        async with self._lock:
            now = self.market.clock()
            report = CycleReport(at=now)
            subs: list[Subscription] = await self._run(db.active_subscriptions, self.store)
            report.subscriptions = len(subs)
            if not subs:
                return report
            tracked = self.market.tracked
            needed_coins = sorted(
                {c for s in subs for c in s.watched(tracked) if coins is None or c in coins}
            )
            needed_rules = [r for r in wanted_rules if any(r in s.rules for s in subs)]
            if not needed_coins or not needed_rules:
                return report
            inputs = await self._run(
                gather_inputs,
                self.store,
                needed_coins,
                needed_rules,
                now,
                self.config,
                stale_after=self.market.stale_after,
                zones=self.zones,
            )
            states = await self._run(db.load_states, self.store, [s.channel_id for s in subs])
            changes, fired = await self._run(
                decide, subs, inputs, states, now, self.config, tracked, needed_rules
            )
            await self._run(db.save_states, self.store, changes)
        report.fired = fired
        sendable = [f for f in fired if not f.muted]
        if sendable:
            report.deliveries = await self._post_alerts(sendable, now)
        return report

    async def on_liquidations(self, events: list[Liquidation]) -> None:
        """The streams' ``on_events`` hook: evaluate liquidation spikes for the coins in the
        batch, in the background (the stream's flush never waits for Discord)."""
        if not events:
            return
        self._pending.update(e.coin for e in events)
        if self._liq_task is None or self._liq_task.done():
            self._liq_task = asyncio.create_task(self._drain_liquidations(), name="alerts-liquidations")

    async def _drain_liquidations(self) -> None:
        while self._pending:
            coins, self._pending = self._pending, set()
            try:
                await self.run_cycle(rules=LIQUIDATION_RULES, coins=coins)
            except Exception:
                log.exception("liquidation alerts for %s failed", ", ".join(sorted(coins)))

    async def _explain(self, fired: Sequence[Fired]) -> dict[tuple[str, str], WhyAnswer | None]:
        answers: dict[tuple[str, str], WhyAnswer | None] = {}
        for f in fired:
            key = (f.obs.coin, why_window(f.obs))
            if key in answers:
                continue
            try:
                answers[key] = await self.why.why(self.market.registry.get(f.obs.coin), key[1], warm=True)
            except Exception:
                log.exception("no /why explanation for %s %s", *key)
                answers[key] = None
        return answers

    async def _post_alerts(self, fired: Sequence[Fired], now: datetime) -> list[Delivery]:
        if self.dispatcher is None:
            log.warning("%d alert(s) fired with no bot connected; they will be retried", len(fired))
            await self._give_back(fired)
            return []
        answers = await self._explain(fired)
        by_channel: dict[int, list[Fired]] = {}
        for f in fired:
            by_channel.setdefault(f.sub.channel_id, []).append(f)
        messages = []
        for group in by_channel.values():
            sub = group[0].sub
            pairs = [(f.obs, answers.get((f.obs.coin, why_window(f.obs)))) for f in group]
            messages.append(
                Outgoing(
                    sub.guild_id,
                    sub.channel_id,
                    message_embeds(pairs),
                    why_buttons([f.obs for f in group]),
                    role_id=sub.role_id,
                    nonce=nonce_for(sub.channel_id, now, [f.key for f in group]),
                )
            )
        deliveries = await self.dispatcher.deliver(messages)
        for d in deliveries:
            group = by_channel[d.channel_id]
            if d.status == "sent":
                await self._run(db.record_delivery, self.store, d.guild_id, d.channel_id, now, len(group))
            elif d.disables:
                log.warning("alerts to channel %s disabled: %s", d.channel_id, d.reason)
                await self._run(
                    db.disable_subscription, self.store, d.guild_id, d.channel_id, d.reason or "", now
                )
            else:
                await self._give_back(group)
        return deliveries

    async def _give_back(self, fired: Sequence[Fired]) -> None:
        """Undo the fired states of alerts that could not be posted, so they fire again."""
        async with self._lock:
            rows = [(f.sub.guild_id, f.key, f.previous or AlertState()) for f in fired]
            await self._run(db.save_states, self.store, rows)

    # -- daily briefs --------------------------------------------------------------------------

    async def run_briefs(self) -> list[Delivery]:
        """Post the briefs that are due. The next due time is saved first (a restart never
        posts a brief twice); one missed by more than two hours waits for the next day."""
        if self.dispatcher is None:
            return []
        now = self.market.clock()
        due: list[Brief] = await self._run(db.due_briefs, self.store, now)
        to_send = []
        for b in due:
            on_time = now - b.next_due <= BRIEF_GRACE
            nxt = next_brief_time(now, b.local_time, b.timezone)
            await self._run(
                db.advance_brief, self.store, b.guild_id, b.channel_id, nxt, now if on_time else None
            )
            if on_time:
                to_send.append(b)
        if not to_send:
            return []
        answer = await self.why.why(None, "24h", warm=True)
        liq = await self.liquidations.liquidations(None)
        messages = [
            Outgoing(
                b.guild_id,
                b.channel_id,
                fit([why_embed(answer), liquidations_embed(liq)]),
                content=brief_content(b.next_due.astimezone(resolve_timezone(b.timezone)), b.timezone),
                nonce=nonce_for(b.channel_id, b.next_due, ["brief"]),
            )
            for b in to_send
        ]
        deliveries = await self.dispatcher.deliver(messages)
        for d in deliveries:
            if d.disables:
                await self._run(db.disable_brief, self.store, d.guild_id, d.channel_id, d.reason or "", now)
        return deliveries


# -- scheduling --------------------------------------------------------------------------------


def register_alert_jobs(scheduler: AsyncIOScheduler, alerts: AlertsService, settings: Settings) -> None:
    """Evaluate alerts right after each refresh job (and every ``jobs.tickers_seconds`` as a
    fallback), and look for due daily briefs every minute."""
    from apscheduler.events import EVENT_JOB_EXECUTED

    now = alerts.market.clock()
    scheduler.add_job(
        alerts.run_cycle,
        "interval",
        seconds=settings.jobs.tickers_seconds,
        id=ALERTS_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=now + timedelta(seconds=settings.jobs.tickers_seconds),
        replace_existing=True,
    )
    scheduler.add_job(
        alerts.run_briefs,
        "interval",
        seconds=60,
        id=BRIEFS_JOB,
        max_instances=1,
        coalesce=True,
        next_run_time=now + timedelta(seconds=30),
        replace_existing=True,
    )

    def after_refresh(event: JobExecutionEvent) -> None:
        if event.job_id in REFRESH_JOBS:
            job = scheduler.get_job(ALERTS_JOB)
            if job is not None:
                job.modify(next_run_time=alerts.market.clock())

    scheduler.add_listener(after_refresh, EVENT_JOB_EXECUTED)
