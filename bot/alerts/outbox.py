"""Posting from the outbox (:mod:`bot.store.outbox`): what makes an alert exactly-once across
processes and crashes.

The engine queues each formatted message in the transaction that saves the state deciding it.
Every bot process drains the outbox: it claims waiting rows of the guilds its gateway shards
hold (and those of shards no live process posts for: that process is down, and a channel post
needs no gateway), posts them with their nonce, and settles them. A process killed mid-post leaves its rows claimed until the claim runs out; the next
poster sends them again with the same nonce, and Discord (``enforce_nonce``) returns the message
it already has instead of creating a second one. A post that failed for a passing reason (a
5xx, a timeout) is tried again with a growing pause until it expires; a gone or forbidden
channel ends its subscription.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from bot.alerts.messages import Delivery, Post, Poster, Queued
from bot.store.outbox import ClaimedRow, OutboxKind, OutboxRow, Settled

if TYPE_CHECKING:
    from bot.clock import Clock
    from bot.store.db import AsyncStore

log = logging.getLogger(__name__)

OUTBOX_JOB = "alerts-outbox"
DRAIN_SECONDS = 2  # how often a process looks for rows another process queued
# A message posted later than this after it was decided is not news: it is dropped (logged).
EXPIRES: dict[OutboxKind, timedelta] = {
    "alerts": timedelta(minutes=15),
    "large": timedelta(minutes=15),
    "brief": timedelta(hours=2),
}
# A process posting for some shards says so every BEAT; a shard whose poster has not for
# POSTER_GONE has none (its process is down): its guilds' rows are anyone's.
BEAT = timedelta(seconds=10)
POSTER_GONE = timedelta(seconds=30)
RETRY_FIRST = timedelta(seconds=5)
RETRY_MOST = timedelta(minutes=2)
CLAIM_MARGIN = timedelta(seconds=5)
MAX_BATCHES = 10_000  # one drain's bound (10,000 × the batch: far past any fan-out)


def outbox_row(
    poster: Poster, post: Post, kind: OutboxKind, alerts: int, nonce: str, now: datetime
) -> OutboxRow:
    """The row that queues ``post``: formatted now, posted by whichever process claims it."""
    return OutboxRow(
        guild_id=post.guild_id,
        channel_id=post.channel_id,
        kind=kind,
        nonce=nonce,
        body=poster.encode(post),
        alerts=alerts,
        created_at=now,
        expires_at=now + EXPIRES[kind],
    )


# a post to queue: the post, its kind, how many alerts it carries, its nonce
Queueable = tuple[Post, OutboxKind, int, str]


async def outbox_rows(poster: Poster, items: Sequence[Queueable], now: datetime) -> list[OutboxRow]:
    """The rows queueing ``items``. Formatting is CPU work (10,000 posts take 0.8 s), so a worker
    thread does it: the event loop keeps acknowledging commands during a cascade's fan-out."""
    return await asyncio.to_thread(
        lambda: [outbox_row(poster, p, kind, n, nonce, now) for p, kind, n, nonce in items]
    )


def settled(row: ClaimedRow, d: Delivery, now: datetime) -> Settled:
    """What a delivery means for its row."""
    if d.status in ("sent", "gone", "forbidden"):
        return Settled(
            id=row["id"], outcome=d.status, detail=d.reason, message_id=d.message_id, retry_at=None
        )
    pause = min(RETRY_FIRST * 2 ** max(0, row["attempts"] - 1), RETRY_MOST)
    return Settled(id=row["id"], outcome="retry", detail=d.reason, message_id=None, retry_at=now + pause)


class Outbox:
    """One process's poster of the outbox: one drain at a time; a drain asked for while one
    runs makes that one look again before it stops."""

    def __init__(self, store: AsyncStore, clock: Clock) -> None:
        self.store = store
        self.clock = clock
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._running = False
        self._again = False
        self._beat_at: datetime | None = None

    async def claimable(self, poster: Poster) -> tuple[int, list[int]] | None:
        """The shards whose rows this process takes: its own, and those no live process posts
        for (a channel post needs no gateway). Says, every :data:`BEAT`, that it is alive."""
        shards = poster.shards()
        if shards is None:
            return None
        count, ids = shards
        now = self.clock()
        if self._beat_at is None or now - self._beat_at >= BEAT:
            await self.store.run(self.store.sync.beat_posters, count, ids, now)
            self._beat_at = now
        live: set[int] = await self.store.run(self.store.sync.live_posters, count, now - POSTER_GONE)
        return count, sorted(set(ids) | (set(range(count)) - live))

    async def drain(self, poster: Poster) -> list[Delivery]:
        """Post what is waiting for this process until nothing is; the deliveries it made."""
        if self._running:
            self._again = True
            return []
        self._running = True
        out: list[Delivery] = []
        started = time.monotonic()
        try:
            for _ in range(MAX_BATCHES):
                self._again = False
                claimed, done = await self._batch(poster)
                out += done
                if not claimed and not self._again:
                    break
        finally:
            self._running = False
            if out:
                sent = sum(1 for d in out if d.status == "sent")
                log.info(
                    "posted %d alert message(s) in %.1f s (%d not posted: retried or channel ended)",
                    sent,
                    time.monotonic() - started,
                    len(out) - sent,
                )
        return out

    async def _batch(self, poster: Poster) -> tuple[int, list[Delivery]]:
        """Claim, post and settle one batch: (rows claimed, deliveries made)."""
        now = self.clock()
        # the claim outlasts the batch's posts (two rounds of the concurrency, each within the timeout)
        until = now + timedelta(seconds=2 * poster.timeout) + CLAIM_MARGIN
        rows: list[ClaimedRow] = await self.store.run(
            self.store.sync.claim_outbox,
            self.owner,
            now,
            until,
            max(1, poster.concurrency * 2),
            shards=await self.claimable(poster),
        )
        if not rows:
            return 0, []
        live = [r for r in rows if r["expires_at"] > now]
        results = [(r, _expired(r)) for r in rows if r["expires_at"] <= now]
        deliveries = await poster.send(
            [Queued(r["guild_id"], r["channel_id"], r["body"], r["nonce"]) for r in live]
        )
        after = self.clock()
        for r, d in zip(live, deliveries, strict=True):
            results.append((r, settled(r, d, after)))
            if d.disables:
                log.warning("alerts to channel %s disabled: %s", r["channel_id"], d.reason)
        await self.store.run(self.store.sync.settle_outbox, self.owner, after, results)
        return len(rows), deliveries


def _expired(r: ClaimedRow) -> Settled:
    log.warning(
        "%s message to channel %s not posted within %s (%d attempts): dropped",
        r["kind"],
        r["channel_id"],
        EXPIRES[r["kind"]],
        r["attempts"] - 1,
    )
    return Settled(id=r["id"], outcome="expired", detail=None, message_id=None, retry_at=None)
