"""Row 4: concurrent interactions through the real discord.py path.

The bot is ``TapewatchBot`` with its cogs, logged in against the loopback ``FakeDiscordServer``
(``OfflineSession``). All interactions are handed to discord.py at once, as the gateway would
deliver a burst: ``bot._connection.parse_interaction_create`` for each payload, half ``/price``
and half ``/why coin:…`` (no charts), coins cycling over the tracked list. An interaction's
latency runs from its hand-over to the moment the fake Discord receives its answer (the
interaction callback). A monitor task sleeps 5 ms again and again meanwhile; its largest
overshoot is the longest the event loop was blocked.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import time
from typing import Any

from bench.common import GcPauses, Sizes, Stores, lag_monitor, open_app, progress
from bench.report import Row, median, ms, percentile, status
from bot.client import TapewatchBot
from bot.fake_discord import FakeDiscord
from bot.fake_gateway import FakeDiscordServer
from bot.offline import OfflineSession, drain_command_tasks, parse_invocation

P99_GOAL = 0.100
LAG_GOAL = 0.050
CALLBACK = re.compile(r"/interactions/(\d+)/[^/]+/callback")


class TimedFakeDiscord(FakeDiscord):
    """The fake Discord, noting when each interaction's answer arrives and whether it was an
    error (errors are ephemeral)."""

    def __init__(self) -> None:
        super().__init__()
        self.answered: dict[str, float] = {}
        self.errors: set[str] = set()
        self.expected: set[str] = set()
        self.all_answered = asyncio.Event()

    def expect(self, ids: list[str]) -> None:
        self.answered.clear()
        self.errors.clear()
        self.requests.clear()
        self.expected = set(ids)
        self.all_answered.clear()

    def respond(
        self, method: str, path: str, query: dict[str, str], body: Any, files: dict[str, bytes] | None = None
    ) -> tuple[int, Any]:
        match = CALLBACK.search(path)
        if match and method == "POST":
            iid = match.group(1)
            self.answered.setdefault(iid, time.perf_counter())
            data = body.get("data") if isinstance(body, dict) else None
            if isinstance(data, dict) and int(data.get("flags", 0) or 0) & 64:
                self.errors.add(iid)
            if self.expected and self.expected.issubset(self.answered):
                self.all_answered.set()
        return super().respond(method, path, query, body, files)


async def one_round(
    session: OfflineSession, fake: TimedFakeDiscord, symbols: list[str], count: int, limit_s: float
) -> dict[str, Any]:
    bot = session.bot
    texts = [
        f"/price coin:{symbols[(i // 2) % len(symbols)]}"
        if i % 2 == 0
        else f"/why coin:{symbols[(i // 2) % len(symbols)]}"
        for i in range(count)
    ]
    payloads = [session._interaction(2, parse_invocation(t, bot.tree)) for t in texts]
    ids = [p["id"] for p in payloads]
    fake.expect(ids)
    stop = asyncio.Event()
    overshoots: list[float] = []
    monitor = asyncio.create_task(lag_monitor(stop, overshoots))
    await asyncio.sleep(0.05)  # the monitor's first ticks on an idle loop
    sent: dict[str, float] = {}
    with GcPauses() as gc_pauses:
        start = time.perf_counter()
        for payload in payloads:
            sent[payload["id"]] = time.perf_counter()
            bot._connection.parse_interaction_create(payload)  # type: ignore[arg-type]
        with contextlib.suppress(TimeoutError):  # what is unanswered by then is reported so
            await asyncio.wait_for(fake.all_answered.wait(), limit_s)
        wall = time.perf_counter() - start
        stop.set()
        await monitor
    await asyncio.wait_for(drain_command_tasks(), max(1.0, start + limit_s - time.perf_counter()))
    latencies = [fake.answered[i] - sent[i] for i in ids if i in fake.answered]
    kinds = {"price": [], "why": []}  # type: dict[str, list[float]]
    for text, i in zip(texts, ids, strict=True):
        if i in fake.answered:
            kinds["price" if text.startswith("/price") else "why"].append(fake.answered[i] - sent[i])
    return {
        "answered": sum(1 for i in ids if i in fake.answered),
        "errors": sum(1 for i in ids if i in fake.errors),
        "p50": percentile(latencies, 50),
        "p99": percentile(latencies, 99),
        "max": max(latencies, default=float("nan")),
        "price_p50": percentile(kinds["price"], 50),
        "why_p50": percentile(kinds["why"], 50),
        "lag": max(overshoots, default=0.0),
        "wall": wall,
        "gc_longest": gc_pauses.longest,
        "gc_total": gc_pauses.total,
        "gc_full": gc_pauses.full,
    }


async def run_concurrency(stores: Stores, sizes: Sizes) -> list[Row]:
    store = stores.get(sizes.max_coins, min(sizes.days))
    progress(
        f"{sizes.interactions} concurrent interactions through discord.py at {store.coins} coins × {store.days} d"
    )
    app = open_app(stores, store)
    fake = TimedFakeDiscord()
    rounds: list[dict[str, Any]] = []
    try:
        async with OfflineSession(
            TapewatchBot(services=app.services), server=FakeDiscordServer(fake)
        ) as session:
            await session.invoke(f"/price coin:{store.symbols[0]}")  # warm-up: first-call imports and caches
            await session.invoke(f"/why coin:{store.symbols[0]}")
            spent = time.perf_counter()
            for _ in range(sizes.repeat):
                rounds.append(await one_round(session, fake, list(store.symbols), sizes.interactions, 300.0))
                if time.perf_counter() - spent > sizes.budget_s * 3:
                    break
    finally:
        app.close()

    answered = min(r["answered"] for r in rounds)
    errors = max(r["errors"] for r in rounds)
    p50, p99 = median([r["p50"] for r in rounds]), median([r["p99"] for r in rounds])
    lag = median([r["lag"] for r in rounds])
    gc_longest = median([r["gc_longest"] for r in rounds])
    gc_total = median([r["gc_total"] for r in rounds])
    gc_full = int(median([r["gc_full"] for r in rounds]))
    n = sizes.interactions
    all_ok = answered == n and errors == 0
    note = (
        f"{n // 2} /price + {n - n // 2} /why coin:… (24h, no chart) handed to discord.py at once, on the "
        f"{store.coins}-coin × {store.days}-day store; {len(rounds)} run(s), median shown. Median latency by "
        f"command: /price {ms(median([r['price_p50'] for r in rounds]))}, /why {ms(median([r['why_p50'] for r in rounds]))}; "
        f"the last answer came after {ms(median([r['wall'] for r in rounds]))}. Latency ends when the fake Discord "
        "receives the interaction callback."
    )
    return [
        Row(
            "4",
            f"{n} concurrent interactions via discord.py: answered",
            f"{answered}/{n} answered, {errors} errors",
            "—",
            f"all {n}",
            status(all_ok),
            note=note,
            values={"interactions": n, "answered": answered, "errors": errors, "runs": len(rounds)},
        ),
        Row(
            "4",
            f"{n} concurrent interactions via discord.py: latency",
            f"p50 {ms(p50)} · p99 {ms(p99)}",
            "—",
            f"p99 ≤ {P99_GOAL * 1000:.0f} ms",
            status(p99 <= P99_GOAL),
            values={"p50_s": p50, "p99_s": p99},
        ),
        Row(
            "4",
            "event-loop lag during the burst (5 ms sleeper, max overshoot)",
            ms(lag),
            f"longest GC pause {ms(gc_longest)} ({gc_full} full collections, {ms(gc_total)} in all)",
            f"≤ {LAG_GOAL * 1000:.0f} ms",
            status(lag <= LAG_GOAL),
            note="A garbage collection holds the GIL, whichever thread triggers it: a full (generation 2) "
            "collection stalls the event loop for as long as it runs. Pauses are timed with gc.callbacks "
            "during the burst.",
            values={"max_lag_s": lag, "gc_longest_s": gc_longest, "gc_total_s": gc_total, "gc_full": gc_full},
        ),
    ]
