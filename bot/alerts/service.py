"""The alerts service: what the /alerts commands, the scheduler and the streams call. It reads
the store, runs the rules and the state machine (:mod:`bot.alerts.state`), has the
:class:`~bot.alerts.messages.Poster` attached format the typed posts (:mod:`bot.alerts.messages`)
into the outbox with the states that decided them, and drains the outbox through it
(:mod:`bot.alerts.outbox`)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.alerts import store as db
from bot.alerts.config import RULES, AlertConfig, RuleName
from bot.alerts.large import LargePass, StateCache, prepare
from bot.alerts.messages import (
    AlertPost,
    BriefPost,
    Delivery,
    Poster,
    SamplePost,
    nonce_for,
    why_window,
)
from bot.alerts.models import MAX_PER_GUILD, Brief, ChannelTaken, Subscription
from bot.alerts.outbox import Outbox, Queueable, outbox_rows
from bot.alerts.reads import ZoneCache, gather_inputs
from bot.alerts.state import AlertCycleReport, Fired, decide
from bot.analysis.why import WhyAnswer
from bot.errors import UserFacingError
from bot.job_ids import TICKERS_JOB
from bot.models import Liquidation
from bot.services.liquidations import LiquidationsService
from bot.services.market import MarketService
from bot.services.why import WhyService
from bot.store import Store
from bot.store.lease import Lease
from bot.store.outbox import OutboxRow
from bot.timeparse import next_brief_time, resolve_timezone

log = logging.getLogger(__name__)

ALERTS_JOB = "alerts-evaluate"
LARGE_JOB = "alerts-large-liquidations"
BRIEFS_JOB = "alerts-briefs"
# A refresh of these is followed at once by an evaluation.
REFRESH_JOBS = frozenset({TICKERS_JOB, "refresh-candles", "refresh-derivatives"})
LIQUIDATION_RULES: tuple[RuleName, ...] = ("liquidations",)
EVENT_RULES: tuple[RuleName, ...] = ("large_liq",)  # single events (bot.alerts.large), not a cycle's
# Stream batches arrive every second in a cascade: at most one large-liquidation pass per this
# (the first event of a quiet spell still goes out within seconds).
LARGE_HOOK_INTERVAL = timedelta(seconds=5)
BRIEF_GRACE = timedelta(hours=2)  # a brief missed by more than this (bot down) waits for the next day


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
        self.dispatcher: Poster | None = None
        self.zones = ZoneCache()
        self._lock = asyncio.Lock()
        self._pending: set[str] = set()
        self._liq_task: asyncio.Task[None] | None = None
        self._outbox_task: asyncio.Task[None] | None = None
        # evaluation is one process's at a time among all on the store (bot.store.lease): the
        # holder decides and queues the messages in the outbox, which every process drains for
        # its shards; another takes over when it dies, and the persisted states make the
        # takeover re-send nothing
        self.lease: Lease | None = None
        self.large_states = StateCache()  # what each channel was sent (large liquidations)
        self.outbox = Outbox(market.store, market.clock)  # what this process posts
        self._large_at: datetime | None = None  # the last stream-triggered large-liquidation pass

    @property
    def store(self) -> Store:
        return self.market.store.sync

    async def _run(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        return await self.market.store.run(fn, *args, **kwargs)

    async def leading(self) -> bool:
        """Whether this process evaluates alerts now (it holds, or just took, the lease)."""
        if self.lease is None:
            self.lease = self.store.lease("alerts")
        return bool(await self._run(self.lease.held))

    def attach(self, poster: Poster) -> None:
        """Post through ``poster`` from now on (the alerts cog attaches a
        :class:`bot.dispatch.Dispatcher` when it loads)."""
        self.dispatcher = poster

    def detach(self) -> None:
        self.dispatcher = None
        for task in (self._liq_task, self._outbox_task):
            if task is not None:
                task.cancel()
        self._liq_task = self._outbox_task = None
        self._pending.clear()

    async def idle(self) -> None:
        """Wait until the liquidation-triggered evaluations and the outbox drain in flight are done."""
        while self._liq_task is not None and not self._liq_task.done():
            await asyncio.gather(self._liq_task, return_exceptions=True)
        if self._outbox_task is not None:
            await asyncio.gather(self._outbox_task, return_exceptions=True)

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
            if count >= MAX_PER_GUILD:
                raise UserFacingError(
                    f"This server already has {count} alert subscriptions (the most is {MAX_PER_GUILD}): "
                    "unsubscribe one first."
                )
        try:
            await self._run(db.save_subscription, self.store, sub)
        except ChannelTaken:
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
        except ChannelTaken:
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
        post = SamplePost(guild_id, channel_id, self.market.clock(), sub, tracked[0] if tracked else None)
        [delivery] = await self.dispatcher.deliver([post])
        return delivery

    # -- evaluation ----------------------------------------------------------------------------

    async def run_cycle(
        self, *, rules: Collection[RuleName] | None = None, coins: Collection[str] | None = None
    ) -> AlertCycleReport:
        """Evaluate every enabled subscription (optionally only some rules or coins), persist
        the states, then post what fired."""
        wanted_rules = [r for r in RULES if r not in EVENT_RULES and (rules is None or r in rules)]
        async with self._lock:
            now = self.market.clock()
            report = AlertCycleReport(at=now)
            if not await self.leading():
                return report  # another process evaluates
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
            sendable = [f for f in fired if not f.muted]
            queued: list[OutboxRow] = []
            if sendable and self.dispatcher is not None:
                queued = await self._queue_alerts(self.dispatcher, sendable, now)
            elif sendable:  # nothing can format them: they stay armed and fire when a bot is here
                log.warning("%d alert(s) fired with no bot connected; they fire again later", len(sendable))
                held = {f.key for f in sendable}
                changes = [c for c in changes if c[1] not in held]
            # the messages are queued in the states' transaction: a crash after it loses nothing
            await self._run(db.save_states, self.store, changes, queued)
        report.fired = fired
        if queued:
            report.deliveries = await self.drain()
        return report

    async def drain(self) -> list[Delivery]:
        """Post what the outbox holds for this process (:mod:`bot.alerts.outbox`)."""
        if self.dispatcher is None:
            return []
        return await self.outbox.drain(self.dispatcher)

    async def drain_soon(self) -> None:
        """The outbox job: drain in the background unless a drain runs (a fan-out of minutes
        never holds the job, so the scheduler never skips its runs)."""
        if self._outbox_task is None or self._outbox_task.done():
            self._outbox_task = asyncio.create_task(self._drain_logged(), name="alerts-outbox")

    async def _drain_logged(self) -> None:
        try:
            await self.drain()
        except Exception as exc:  # the store or Discord failing: the rows wait for the next run
            log.warning(
                "posting from the alert outbox failed (%s: %s); trying again", type(exc).__name__, exc
            )

    async def on_liquidations(self, events: list[Liquidation]) -> None:
        """The streams' ``on_events`` hook: evaluate liquidation spikes for the coins in the
        batch, in the background (the stream's flush never waits for Discord)."""
        await self.on_liquidation_coins({e.coin for e in events})

    async def on_liquidation_coins(self, coins: Collection[str]) -> None:
        """New liquidations were stored for ``coins`` (this process's streams, or another
        process's commits seen by :mod:`bot.alerts.liq_watch`): evaluate their spikes and the
        large-liquidation pass in the background."""
        if not coins:
            return
        self._pending.update(coins)
        if self._liq_task is None or self._liq_task.done():
            self._liq_task = asyncio.create_task(self._drain_liquidations(), name="alerts-liquidations")

    async def _drain_liquidations(self) -> None:
        while self._pending:
            coins, self._pending = self._pending, set()
            try:
                await self.run_cycle(rules=LIQUIDATION_RULES, coins=coins)
            except Exception:
                log.exception("liquidation alerts for %s failed", ", ".join(sorted(coins)))
            now = self.market.clock()
            if self._large_at is not None and now - self._large_at < LARGE_HOOK_INTERVAL:
                continue  # a pass ran moments ago; the next batch or the 15 s job takes these
            self._large_at = now
            try:
                await self.run_large()
            except Exception:
                log.exception("large-liquidation alerts failed")

    async def run_large(self) -> LargePass | None:
        """Queue and post the large single liquidations each subscribed channel has not been
        sent, at most one message per channel per minute (:mod:`bot.alerts.large`). Nothing is
        decided while no bot is connected (the events wait, within the lookback, for one), nor
        in a process that does not hold the alerts lease (the holder decides them)."""
        if self.dispatcher is None or not await self.leading():
            return None
        poster = self.dispatcher
        async with self._lock:
            now = self.market.clock()
            subs = [s for s in await self._run(db.active_subscriptions, self.store) if "large_liq" in s.rules]
            if not subs:
                return None
            done: LargePass = await self._run(
                prepare, self.store, subs, self.config, self.market.tracked, now, self.large_states
            )
            rows = await outbox_rows(poster, [(p, "large", 1, p.nonce or "") for p, _ in done.posts], now)
            try:  # what each channel was sent and its message, in one transaction
                await self._run(self.store.record_large_liq_posts, done.records, rows)
            except Exception:
                for channel, *_ in done.records:
                    self.large_states.drop(channel)
                raise
        if rows:
            await self.drain()
        return done

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

    async def _queue_alerts(self, poster: Poster, fired: Sequence[Fired], now: datetime) -> list[OutboxRow]:
        """One message per channel with what fired there, each with its /why, formatted."""
        answers = await self._explain(fired)
        by_channel: dict[int, list[Fired]] = {}
        for f in fired:
            by_channel.setdefault(f.sub.channel_id, []).append(f)
        items: list[Queueable] = []
        for group in by_channel.values():
            sub = group[0].sub
            pairs = [(f.obs, answers.get((f.obs.coin, why_window(f.obs)))) for f in group]
            nonce = nonce_for(sub.channel_id, now, [f.key for f in group])
            post = AlertPost(sub.guild_id, sub.channel_id, pairs, role_id=sub.role_id, nonce=nonce)
            items.append((post, "alerts", len(group), nonce))
        return await outbox_rows(poster, items, now)

    # -- daily briefs --------------------------------------------------------------------------

    async def run_briefs(self) -> list[Delivery]:
        """Queue and post the briefs that are due. Each brief's next due time is saved in the
        transaction that queues its message (a restart neither posts it twice nor loses it);
        one missed by more than two hours waits for the next day."""
        if self.dispatcher is None or not await self.leading():
            return []
        poster = self.dispatcher
        now = self.market.clock()
        due: list[Brief] = await self._run(db.due_briefs, self.store, now)
        on_time = [b for b in due if now - b.next_due <= BRIEF_GRACE]
        items: list[Queueable] = []
        if on_time:
            # each server's brief shows its own shortlist on the majors line (one answer per shortlist)
            majors_of = {b.guild_id: (await self.market.guilds.get(b.guild_id)).majors for b in on_time}
            answers = {
                m: await self.why.why(None, "24h", majors=m, warm=True) for m in set(majors_of.values())
            }
            liq = await self.liquidations.liquidations(None)
            for b in on_time:
                nonce = nonce_for(b.channel_id, b.next_due, ["brief"])
                local = b.next_due.astimezone(resolve_timezone(b.timezone))
                post = BriefPost(
                    b.guild_id,
                    b.channel_id,
                    answers[majors_of[b.guild_id]],
                    liq,
                    local,
                    b.timezone,
                    nonce=nonce,
                )
                items.append((post, "brief", 0, nonce))
        messages = {(r["guild_id"], r["channel_id"]): r for r in await outbox_rows(poster, items, now)}
        for b in due:
            nxt = next_brief_time(now, b.local_time, b.timezone)
            row = messages.get((b.guild_id, b.channel_id))
            await self._run(
                db.advance_brief, self.store, b.guild_id, b.channel_id, nxt, now if row else None, row
            )
        return await self.drain() if messages else []
