"""Large single liquidations ("$12M BTC long liquidated on Binance at $67,420"), batched.

A channel subscribed to ``large_liq`` is sent every single liquidation of its coins at least
the coin's bar (:func:`bar_for`: a share of its open interest, never under a floor, or a fixed
size when the open interest is not known), but never more than one message a minute: the
first large event of a quiet spell is posted with the batch that carried it (seconds), and the
rest of a cascade waits for the channel's minute to be over, then goes out as one message
listing the largest five and "and 37 more, $X in all".

State is the store's ``large_liq_sent`` rows, written before the post: a restart neither
re-sends an event nor skips one that was stored (within :data:`LOOKBACK`), a muted channel
records what it would have been sent (unmuting does not unleash it), and a post that fails for
a transient reason gives its events back for the next pass.

Run by :meth:`bot.alerts.service.AlertsService.run_large` on every liquidation batch the streams
store and on a short interval (so the tail of a cascade is posted when its minute is over).
"""

from __future__ import annotations

import json
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from bot.alerts.config import AlertConfig
from bot.alerts.messages import LargeBar, LargeLiqPost, Observation, nonce_for
from bot.alerts.models import Subscription
from bot.analysis.liq_basis import latest_oi_usd
from bot.models import Liquidation
from bot.store import Store

SHOWN = 5  # events listed by name in one message; the rest are counted and summed
SPACING = timedelta(minutes=1)  # at most one message per channel per minute
LOOKBACK = timedelta(minutes=10)  # an event older than this is no longer news
OI_MAX_AGE = timedelta(hours=2)

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


def pick(
    events: Sequence[Liquidation],
    sub: Subscription,
    tracked: Sequence[str],
    bars: Mapping[str, LargeBar],
    sent: set[EventKey],
    now: datetime,
) -> list[Liquidation]:
    """The events ``sub``'s channel is to be sent now, largest first: its coins', at least each
    coin's bar, not sent before, since the subscription (and within the lookback)."""
    coins = set(sub.watched(tracked))
    since = max(now - LOOKBACK, sub.updated_at)
    return [
        e
        for e in events
        if e.coin in coins
        and since <= e.ts <= now
        and e.coin in bars
        and e.usd >= bars[e.coin].usd
        and key(e) not in sent
    ]


def batch_post(
    sub: Subscription, chosen: Sequence[Liquidation], bars: Mapping[str, LargeBar], now: datetime
) -> LargeLiqPost:
    ordered = sorted(chosen, key=lambda e: (-e.usd, e.ts, e.venue, e.event_id))
    shown = ordered[:SHOWN]
    return LargeLiqPost(
        sub.guild_id,
        sub.channel_id,
        now,
        shown,
        len(ordered),
        sum(e.usd for e in ordered),
        {c: bars[c] for c in dict.fromkeys(e.coin for e in ordered)},
        role_id=sub.role_id,
        nonce=nonce_for(sub.channel_id, now, ["large", *(f"{v}:{i}" for v, i in map(key, ordered))]),
    )


@dataclass
class LargePass:
    """What one pass did: the messages it built (``posts``, with the events each carries) and
    the channels that had events waiting for their minute to be over."""

    at: datetime
    posts: list[tuple[LargeLiqPost, list[Liquidation]]] = field(default_factory=list)
    muted: int = 0
    waiting: list[int] = field(default_factory=list)


def plan(
    subs: Sequence[Subscription],
    events: Sequence[Liquidation],
    bars_by_config: Mapping[str, Mapping[str, LargeBar]],
    config_keys: Mapping[int, str],
    sent: Mapping[int, set[EventKey]],
    last_sent: Mapping[int, datetime],
    tracked: Sequence[str],
    now: datetime,
) -> LargePass:
    """Decide every channel's message of this pass (pure: the service reads and writes)."""
    out = LargePass(now)
    for sub in subs:
        bars = bars_by_config[config_keys[sub.channel_id]]
        chosen = pick(events, sub, tracked, bars, sent.get(sub.channel_id, set()), now)
        if not chosen:
            continue
        if not due(last_sent.get(sub.channel_id), now):
            out.waiting.append(sub.channel_id)
            continue
        out.posts.append((batch_post(sub, chosen, bars, now), chosen))
    return out


def prepare(
    store: Store, subs: Sequence[Subscription], base: AlertConfig, tracked: Sequence[str], now: datetime
) -> LargePass:
    """Read what one pass needs, decide it, and record the events it sends (and those a muted
    channel would have been sent) before anything is posted. Runs on the store's thread."""
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
    channels = [s.channel_id for s in subs]
    sent = store.large_liq_sent(channels, now - LOOKBACK - SPACING)
    last = store.large_liq_last_sent(channels)
    decided = plan(subs, events, bars, config_keys, sent, last, tracked, now)
    muted = {s.channel_id for s in subs if s.muted(now)}
    for post, chosen in decided.posts:
        store.record_large_liq_sent(post.guild_id, post.channel_id, chosen, now)
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
