"""Large single liquidations ("$12M BTC long liquidated on Binance at $67,420"), batched.

A channel subscribed to ``large_liq`` is sent every single liquidation of its coins at least
the coin's bar (:func:`bar_for`: a share of its open interest, never under a floor, or a fixed
size when the open interest is not known), but never more than one message a minute: the
first large event of a quiet spell is posted with the batch that carried it (seconds), and the
rest of a cascade waits for the channel's minute to be over, then goes out as one message
listing the largest five and "and 37 more, $X in all".

State is the store's ``large_liq_posts`` rows (one per message, with the events it carried),
written in the transaction that queues the post in the outbox (:mod:`bot.alerts.outbox`): a
restart neither re-sends an event nor skips one that was stored (within :data:`LOOKBACK`), a
muted channel records what it would have been sent (unmuting does not unleash it), and a post
that fails for a passing reason is retried from the outbox. A channel reads back only the events within :data:`GRACE` of the newest it was sent
(older ones count as sent), so a pass costs the same however long a cascade runs; an event the
streams store more than :data:`GRACE` after newer ones were sent is not sent.

Run by :meth:`bot.alerts.service.AlertsService.run_large` on every liquidation batch the streams
store and on a short interval (so the tail of a cascade is posted when its minute is over).
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from bot.alerts.config import AlertConfig
from bot.alerts.messages import LargeBar, LargeLiqPost, Observation, nonce_for
from bot.alerts.models import Subscription
from bot.analysis.liq_basis import latest_oi_usd
from bot.models import Liquidation
from bot.store import Store
from bot.store.signals import LargePostRecord

SHOWN = 5  # events listed by name in one message; the rest are counted and summed
SPACING = timedelta(minutes=1)  # at most one message per channel per minute
LOOKBACK = timedelta(minutes=10)  # an event older than this is no longer news
OI_MAX_AGE = timedelta(hours=2)
GRACE = timedelta(minutes=2)  # how late (by its own time) an event may be stored and still be sent

EventKey = tuple[str, str]  # venue, event id


def key(e: Liquidation) -> EventKey:
    return (e.venue, e.event_id)


def bar_for(coin: str, oi_usd: float | None, cfg: AlertConfig) -> LargeBar:
    """The size one liquidation of ``coin`` must reach under ``cfg``."""
    if oi_usd is not None and oi_usd > 0:
        usd = max(oi_usd * cfg.large_oi_pct / 100, cfg.large_min_usd)
        return LargeBar(coin, usd, "open_interest", oi_usd, cfg.large_oi_pct, cfg.large_min_usd)
    return LargeBar(coin, cfg.large_usd, "fixed")


def lowest_bar(configs: Iterable[AlertConfig]) -> float:
    """The smallest event any of ``configs`` could send (what the store is asked for)."""
    return min((min(c.large_min_usd, c.large_usd) for c in configs), default=0.0)


def due(last_sent: datetime | None, now: datetime) -> bool:
    return last_sent is None or now - last_sent >= SPACING


@dataclass(frozen=True)
class ChannelState:
    """What a channel was sent: its latest message, the newest event in any, and the events
    within :data:`GRACE` of that one (with their times)."""

    last_sent: datetime
    newest: datetime
    sent: Mapping[EventKey, datetime]

    def after(self, events: Sequence[Liquidation], at: datetime) -> ChannelState:
        """The state once ``events`` were sent at ``at``."""
        newest = max(self.newest, max(e.ts for e in events))
        tail = newest - GRACE
        sent = {k: t for k, t in self.sent.items() if t >= tail}
        sent.update((key(e), e.ts) for e in events if e.ts >= tail)
        return ChannelState(at, newest, sent)


class StateCache:
    """Each channel's :class:`ChannelState`, kept between passes so a long cascade is not read
    back from the store every few seconds. The store stays the truth: an entry is reloaded when
    the channel's latest message in the store is not the one cached (another process sent, a
    pass's write failed, a restart). Channels with the same history share one state object,
    so a pass picks once for all of them."""

    def __init__(self) -> None:
        self._states: dict[int, ChannelState] = {}

    def load(self, store: Store, channels: Sequence[int]) -> dict[int, ChannelState]:
        last = store.large_liq_last_sent(channels)
        for c in channels:
            if c not in last:
                self._states.pop(c, None)
        stale = [c for c, t in last.items() if c not in self._states or self._states[c].last_sent != t]
        interned: dict[tuple[datetime, datetime, int], ChannelState] = {}
        for c, (sent_at, newest, keys) in store.large_liq_state(stale, GRACE).items():
            ident = (sent_at, newest, id(keys))  # the store shares one mapping between alike channels
            self._states[c] = interned.setdefault(ident, ChannelState(sent_at, newest, keys))
        return {c: self._states[c] for c in channels if c in self._states}

    def sent(
        self,
        channel: int,
        state: ChannelState | None,
        events: Sequence[Liquidation],
        at: datetime,
        memo: dict[tuple[int, int], ChannelState],
    ) -> None:
        """Note that ``events`` were sent to ``channel`` at ``at`` (channels that had the same
        state and were sent the same list share the new state, through ``memo``)."""
        ident = (id(state), id(events))
        new = memo.get(ident)
        if new is None:
            before = state or ChannelState(at, datetime.min.replace(tzinfo=UTC), {})
            new = memo[ident] = before.after(events, at)
        self._states[channel] = new

    def drop(self, channel: int) -> None:
        self._states.pop(channel, None)


@dataclass(frozen=True)
class Candidates:
    """The events at least their coin's bar under one configuration, by time (with their
    times and keys alongside, for slicing), and each one's rank by size (largest first)."""

    events: Sequence[Liquidation]
    times: Sequence[datetime]
    keys: Sequence[EventKey]
    rank: Mapping[EventKey, int]

    @classmethod
    def of(cls, events: Iterable[Liquidation], bars: Mapping[str, LargeBar]) -> Candidates:
        large = sorted(
            (e for e in events if e.coin in bars and e.usd >= bars[e.coin].usd), key=lambda e: e.ts
        )
        keys = [key(e) for e in large]
        by_size = sorted(range(len(large)), key=lambda i: (-large[i].usd, large[i].ts, keys[i]))
        return cls(large, [e.ts for e in large], keys, {keys[i]: r for r, i in enumerate(by_size)})


def window_start(sub: Subscription, state: ChannelState | None, now: datetime) -> datetime:
    """The oldest event ``sub``'s channel may still be sent."""
    since = max(now - LOOKBACK, sub.updated_at)
    return max(since, state.newest - GRACE) if state is not None else since


def watches_all(sub: Subscription, tracked: Sequence[str]) -> bool:
    return not sub.coins or set(tracked) <= set(sub.coins)


def pick(
    candidates: Candidates,
    sub: Subscription,
    tracked: Sequence[str],
    state: ChannelState | None,
    now: datetime,
) -> list[Liquidation]:
    """The events ``sub``'s channel is to be sent now, largest first: its coins', not sent
    before, since the subscription (and within the lookback, and the grace before the newest
    event it was sent)."""
    i = bisect_left(candidates.times, window_start(sub, state, now))
    j = bisect_right(candidates.times, now)
    sent = state.sent if state is not None else {}
    every = watches_all(sub, tracked)
    coins = set(sub.watched(tracked))
    chosen = [
        (candidates.rank[k], e)
        for e, k in zip(candidates.events[i:j], candidates.keys[i:j], strict=True)
        if k not in sent and (every or e.coin in coins)
    ]
    chosen.sort(key=lambda pair: pair[0])
    return [e for _, e in chosen]


@dataclass(frozen=True)
class Batch:
    """What a message says of the events it carries (shared by channels sent the same list)."""

    events: Sequence[Liquidation]  # largest first
    total_usd: float
    bars: Mapping[str, LargeBar]
    ident: tuple[object, ...]  # count, largest, newest: the nonce's seed

    @classmethod
    def of(cls, chosen: Sequence[Liquidation], bars: Mapping[str, LargeBar]) -> Batch:
        newest = max(chosen, key=lambda e: (e.ts, key(e)))
        coins = dict.fromkeys(e.coin for e in chosen)
        ident = ("large", len(chosen), ":".join(key(chosen[0])), ":".join(key(newest)))
        return cls(chosen, sum(e.usd for e in chosen), {c: bars[c] for c in coins}, ident)


def batch_post(sub: Subscription, batch: Batch, now: datetime) -> LargeLiqPost:
    """One channel's message for ``batch``."""
    return LargeLiqPost(
        sub.guild_id,
        sub.channel_id,
        now,
        batch.events[:SHOWN],
        len(batch.events),
        batch.total_usd,
        batch.bars,
        role_id=sub.role_id,
        nonce=nonce_for(sub.channel_id, now, list(batch.ident)),
    )


@dataclass
class LargePass:
    """What one pass did: the messages it built (``posts``, with the events each carries) and
    the channels that had events waiting for their minute to be over."""

    at: datetime
    posts: list[tuple[LargeLiqPost, list[Liquidation]]] = field(default_factory=list)
    muted: int = 0
    waiting: list[int] = field(default_factory=list)
    # what to record as sent (muted channels' too): written with the posts' outbox rows
    records: list[LargePostRecord] = field(default_factory=list)


def plan(
    subs: Sequence[Subscription],
    events: Sequence[Liquidation],
    bars_by_config: Mapping[str, Mapping[str, LargeBar]],
    config_keys: Mapping[int, str],
    states: Mapping[int, ChannelState],
    tracked: Sequence[str],
    now: datetime,
) -> LargePass:
    """Decide every channel's message of this pass (pure: the service reads and writes).
    Channels alike (configuration, coins, window, history) share one pick and one batch: a
    cascade costs one pass over its events per kind of channel, not per channel."""
    out = LargePass(now)
    candidates = {k: Candidates.of(events, bars) for k, bars in bars_by_config.items()}
    picked: dict[tuple[object, ...], list[Liquidation]] = {}
    batches: dict[int, Batch] = {}
    for sub in subs:
        k = config_keys[sub.channel_id]
        state = states.get(sub.channel_id)
        coins: object = "all" if watches_all(sub, tracked) else frozenset(sub.coins)
        ident = (k, coins, window_start(sub, state, now), id(state))
        chosen = picked.get(ident)
        if chosen is None:
            chosen = picked[ident] = pick(candidates[k], sub, tracked, state, now)
        if not chosen:
            continue
        if not due(state.last_sent if state is not None else None, now):
            out.waiting.append(sub.channel_id)
            continue
        batch = batches.get(id(chosen))
        if batch is None:
            batch = batches[id(chosen)] = Batch.of(chosen, bars_by_config[k])
        out.posts.append((batch_post(sub, batch, now), chosen))
    return out


def sent_row(events: Sequence[Liquidation]) -> tuple[datetime, str]:
    """How a message's events are recorded: the newest one's time, and as JSON the events
    within :data:`GRACE` of it (the older count as sent anyway)."""
    newest = max(e.ts for e in events)
    tail = newest - GRACE
    rows = [[e.venue, e.event_id, round(e.ts.timestamp() * 1000)] for e in events if e.ts >= tail]
    return newest, json.dumps(rows)


def prepare(
    store: Store,
    subs: Sequence[Subscription],
    base: AlertConfig,
    tracked: Sequence[str],
    now: datetime,
    cache: StateCache | None = None,
) -> LargePass:
    """Read what one pass needs and decide it: the posts, and the records of the events they
    send (and those a muted channel would have been sent), which the service writes with the
    posts' outbox rows. Runs on the store's thread."""
    configs: dict[str, AlertConfig] = {}
    config_keys: dict[int, str] = {}
    for sub in subs:
        k = json.dumps(sub.thresholds, sort_keys=True)
        configs.setdefault(k, sub.config(base))
        config_keys[sub.channel_id] = k
    coins = sorted({c for s in subs for c in s.watched(tracked)})
    points = store.oi_latest(coins, now)
    oi = {c: latest_oi_usd(points, c, now, OI_MAX_AGE) for c in coins}
    bars = {k: {c: bar_for(c, oi[c], cfg) for c in coins} for k, cfg in configs.items()}
    events = store.large_liquidations(coins, now - LOOKBACK, now, lowest_bar(configs.values()))
    cache = cache if cache is not None else StateCache()
    states = cache.load(store, [s.channel_id for s in subs])
    decided = plan(subs, events, bars, config_keys, states, tracked, now)
    muted = {s.channel_id for s in subs if s.muted(now)}
    rows: dict[int, tuple[datetime, str]] = {}
    new_states: dict[tuple[int, int], ChannelState] = {}
    for post, chosen in decided.posts:
        row = rows.get(id(chosen))
        if row is None:
            row = rows[id(chosen)] = sent_row(chosen)
        decided.records.append((post.guild_id, post.channel_id, now, *row))
        cache.sent(post.channel_id, states.get(post.channel_id), chosen, now, new_states)
    decided.muted = sum(1 for post, _ in decided.posts if post.channel_id in muted)
    decided.posts = [(p, c) for p, c in decided.posts if p.channel_id not in muted]
    return decided


# -- the backtest ------------------------------------------------------------------------------


def _observation(e: Liquidation, bar: LargeBar, at: datetime) -> Observation:
    return Observation(
        rule="large_liq",
        coin=e.coin,
        at=at,
        score=min(e.usd / bar.usd, 1e6),
        direction="down" if e.side == "long" else "up",
        window="1m",
        value=e.usd,
        threshold=bar.usd,
        basis=bar.basis,
        price=e.price,
        oi_usd=bar.oi_usd,
        long_share=1.0 if e.side == "long" else 0.0,
    )


def replay_large(
    store: Store, coins: Sequence[str], cfg: AlertConfig, start: datetime, end: datetime
) -> list[Observation]:
    """What one channel would have been sent: each large event as an observation stamped
    with the time of the message that carried it (the first of a quiet spell at once, the rest
    when the channel's minute is over). Raw events are kept for the retention window only."""
    oi = {c: store.open_interest(c, start - OI_MAX_AGE) for c in coins}
    oi_t = {c: [p.ts for p in points] for c, points in oi.items()}
    events = sorted(
        store.large_liquidations(coins, start, end, min(cfg.large_min_usd, cfg.large_usd)),
        key=lambda e: (e.ts, e.venue, e.event_id),
    )
    out: list[Observation] = []
    pending: list[tuple[Liquidation, LargeBar]] = []
    last: datetime | None = None
    for e in events:
        j = bisect_right(oi_t[e.coin], e.ts)
        recent = oi[e.coin][bisect_left(oi_t[e.coin], e.ts - OI_MAX_AGE) : j]
        bar = bar_for(e.coin, latest_oi_usd(recent, e.coin, e.ts, OI_MAX_AGE), cfg)
        if e.usd < bar.usd:
            continue
        if pending and last is not None and e.ts >= last + SPACING:
            last += SPACING
            out += [_observation(p, b, last) for p, b in pending]
            pending = []
        if due(last, e.ts):
            last = e.ts
            out.append(_observation(e, bar, e.ts))
        else:
            pending.append((e, bar))
    if pending and last is not None:
        out += [_observation(p, b, last + SPACING) for p, b in pending]
    return out
