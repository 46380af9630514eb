"""/liquidations and /levels: window sums from roll-ups equal sums over raw events, coverage is
stated honestly, and the charts arrive as PNG attachments in the JSON Discord receives."""

from __future__ import annotations

import random
import struct
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta

import pytest

from bot.app import App
from bot.client import TapewatchBot
from bot.models import Liquidation
from bot.offline import OfflineSession, message_payload
from bot.render.caveats import notes_text
from bot.render.liquidations import liquidations_embed
from bot.services.liquidations import LIQ_WINDOWS, gather_liquidations
from tests.conftest import NOW
from tests.helpers import open_scenario


def seeded_events(n: int = 3000, days: int = 9) -> list[Liquidation]:
    rng = random.Random(7)
    events = []
    for i in range(n):
        ts = NOW - timedelta(seconds=rng.uniform(0, days * 86400))
        usd = rng.lognormvariate(8, 1.5)
        events.append(
            Liquidation(
                venue=rng.choice(["binance", "bybit", "okx"]),  # type: ignore[arg-type]
                coin=rng.choice(["BTC", "ETH", "SOL"]),
                side=rng.choice(["long", "short"]),  # type: ignore[arg-type]
                price=100.0,
                qty=usd / 100.0,
                usd=usd,
                ts=ts,
                event_id=f"e{i}",
            )
        )
    return events


@pytest.mark.parametrize("coin", ["BTC", None])
def test_window_sums_from_rollups_equal_raw_events(app: App, coin: str | None) -> None:
    store = app.store.sync
    events = seeded_events()
    for chunk in range(0, len(events), 250):
        store.insert_liquidations(events[chunk : chunk + 250])
    store.open_stream_session("binance", NOW - timedelta(days=9))
    store.close_stream_session("binance", NOW - timedelta(days=4))
    store.open_stream_session("binance", NOW - timedelta(days=4) + timedelta(minutes=17))
    view = gather_liquidations(store, coin, tuple(LIQ_WINDOWS), NOW)
    for f in view.windows:
        start = NOW - LIQ_WINDOWS[f.window]
        mine = [e for e in events if (coin is None or e.coin == coin) and e.ts >= start]  # NOW is on the hour
        assert f.long_usd == pytest.approx(sum(e.usd for e in mine if e.side == "long"), rel=1e-9), f.window
        assert f.short_usd == pytest.approx(sum(e.usd for e in mine if e.side == "short"), rel=1e-9), f.window
        assert f.events == len(mine)
        for v in f.by_venue:
            assert v.long_usd + v.short_usd == pytest.approx(
                sum(e.usd for e in mine if e.venue == v.venue), rel=1e-9
            )
    thirty = next(f for f in view.windows if f.window == "30d")
    assert thirty.baseline_multiple is None  # 9 days of data: no 30-day baseline, and no scaling up
    assert any("only covered for the last" in n for n in notes_text(thirty.notes))
    embed = liquidations_embed(view).to_dict()
    coverage = next(f["value"] for f in embed["fields"] if f["name"] == "Coverage")
    assert "covered since" in coverage
    assert "17 min of gaps" in coverage
    assert "not scaled up" in coverage


@pytest.fixture(scope="module")
def selloff() -> Iterator[App]:
    yield from open_scenario("selloff")


@pytest.fixture
async def session(selloff: App, command_errors: list[BaseException]) -> AsyncIterator[OfflineSession]:
    async with OfflineSession(TapewatchBot(services=selloff.services)) as s:
        yield s
    assert command_errors == []


def png_size(blob: bytes) -> tuple[int, int]:
    assert blob.startswith(b"\x89PNG\r\n\x1a\n")
    width, height = struct.unpack(">II", blob[16:24])
    return width, height


@pytest.mark.parametrize(
    ("command", "filename"), [("/levels coin:BTC", "levels.png"), ("/liquidations", "liquidations.png")]
)
async def test_chart_is_attached_to_the_follow_up(
    session: OfflineSession, command: str, filename: str
) -> None:
    requests = await session.invoke(command)
    [defer] = [r for r in requests if "/callback" in r.path]
    assert defer.json["type"] == 5  # deferred while the chart renders off the loop
    [follow] = [r for r in requests if r.path.startswith("/webhooks/")]
    assert png_size(follow.files[filename]) == (1200, 800)
    payload = message_payload(follow)
    assert payload["embeds"][0]["image"]["url"] == f"attachment://{filename}"
    assert payload["attachments"][0]["filename"] == filename
    assert payload["allowed_mentions"] == {"parse": []}


async def test_levels_are_on_the_right_side_and_say_what_a_break_means(session: OfflineSession) -> None:
    requests = await session.invoke("/levels coin:BTC")
    [follow] = [r for r in requests if r.path.startswith("/webhooks/")]
    fields = {f["name"]: f["value"] for f in message_payload(follow)["embeds"][0]["fields"]}
    assert fields["Just broken"].startswith("Lost support at $89,370–$91,180")
    assert "(+" in fields["Resistance above"]
    assert "(−" in fields["Support below"]
    assert fields["What a break would mean"].startswith("Below $85,170 the next support is $82,220–$82,990")


async def test_same_chart_in_the_same_minute_renders_once(session: OfflineSession, selloff: App) -> None:
    charts = selloff.services.charts
    before = charts.renders
    for _ in range(3):
        await session.invoke("/levels coin:ETH")
    assert charts.renders == before + 1


@pytest.mark.parametrize(
    "command",
    [
        "/price coin:btc",
        "/price coin:btc,eth",
        "/why",
        "/why coin:sol window:4h",
        "/liquidations coin:btc",
        "/levels coin:eth",
        "/movers",
        "/derivatives",
        "/derivatives coin:btc",
        "/status",
    ],
)
async def test_every_answer_carries_its_time_for_each_reader(session: OfflineSession, command: str) -> None:
    """A ``timestamp`` Discord shows in each reader's timezone, and no "as of … UTC" text."""
    await session.invoke(command)
    [embed] = message_payload(session.fake.messages()[-1])["embeds"]
    assert embed["timestamp"].endswith("+00:00")
    assert " UTC" not in str(embed)
