"""/price through the real discord.py path against the loopback fake Discord."""

from __future__ import annotations

from datetime import timedelta

from bot.app import App
from bot.clock import FrozenClock
from bot.models import Ticker
from bot.offline import OfflineSession, message_payload
from tests.conftest import NOW


def store_btc(app: App, *, age: timedelta = timedelta(seconds=30)) -> None:
    ts = NOW - age
    app.store.sync.upsert_tickers(
        [
            Ticker(
                coin="BTC",
                venue="binance",
                market="spot",
                price=87123.45,
                change_24h_pct=-1.92,
                high_24h=89000.0,
                low_24h=86000.5,
                quote_volume_24h=2.16e9,
                ts=ts,
            ),
            Ticker(coin="BTC", venue="binance", market="perp", price=87080.0, change_24h_pct=-1.95, ts=ts),
        ],
        ts,
    )


async def test_price_posts_embed_with_source_and_age(app: App, session: OfflineSession) -> None:
    store_btc(app)
    requests = await session.invoke("/price coin:$btc")
    [reply] = [r for r in requests if "/callback" in r.path]
    assert reply.method == "POST"
    assert reply.query == {"with_response": "1"}
    body = reply.json
    assert body["type"] == 4
    data = body["data"]
    assert data["allowed_mentions"] == {"parse": []}
    assert data.get("flags", 0) & 64 == 0  # public answer
    [embed] = data["embeds"]
    assert embed["title"] == "BTC $87,123  ▼ −1.9% (24h)"
    assert embed["color"] == 0xE74C3C
    assert embed["description"] == "Bitcoin · Binance spot"
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields["24h high / low"] == "$89,000 / $86,000"
    assert fields["24h volume"] == "$2.16B"
    assert fields["Other venues"] == "Binance perp: $87,080 (−1.9%)"
    assert embed["footer"]["text"] == "Source: Binance spot · data 30 s old"
    assert embed["timestamp"] == "2026-11-26T11:59:30+00:00"  # the data's time, in each reader's timezone


async def test_stale_price_is_flagged_not_hidden(app: App, session: OfflineSession) -> None:
    store_btc(app, age=timedelta(hours=2))
    requests = await session.invoke("/price coin:BTC")
    [embed] = message_payload(session.fake.messages()[-1])["embeds"]
    assert requests
    assert embed["color"] == 0xF1C40F
    assert "stale: data is 2 h old" in embed["footer"]["text"]
    assert any(f["name"].endswith("Stale data") for f in embed["fields"])


async def test_unknown_coin_is_ephemeral_with_suggestions(app: App, session: OfflineSession) -> None:
    await session.invoke("/price coin:solanaa")
    payload = message_payload(session.fake.messages()[-1])
    assert payload["flags"] == 64
    assert payload["allowed_mentions"] == {"parse": []}
    assert payload["embeds"][0]["description"] == "unknown coin 'solanaa' — did you mean SOL?"
    assert app.store.sync.count("tickers") == 0


async def test_untracked_coin_names_the_tracked_ones(session: OfflineSession) -> None:
    await session.invoke("/price coin:doge")
    text = message_payload(session.fake.messages()[-1])["embeds"][0]["description"]
    assert text.startswith("DOGE (Dogecoin) is not tracked on this bot. Tracked coins: BTC, ETH")


async def test_no_data_yet_never_shows_zero(session: OfflineSession) -> None:
    await session.invoke("/price coin:eth")
    payload = message_payload(session.fake.messages()[-1])
    assert payload["flags"] == 64
    assert payload["embeds"][0]["description"].startswith("No price for ETH stored yet")
    assert "$0" not in str(payload)


async def test_autocomplete_offers_tracked_coins(session: OfflineSession) -> None:
    choices = await session.autocomplete("/price coin:e", "coin")
    assert choices[0] == {"name": "ETH — Ethereum", "value": "ETH"}
    assert all(c["value"] in {"BTC", "ETH", "SOL", "BNB", "XRP", "PEPE"} for c in choices)
    empty = await session.autocomplete("/price coin:", "coin")
    assert [c["value"] for c in empty] == ["BTC", "ETH", "SOL", "BNB", "XRP", "PEPE"]


async def test_mentions_in_input_never_ping(session: OfflineSession) -> None:
    await session.invoke('/price "coin:@everyone <@&123>"')
    payload = message_payload(session.fake.messages()[-1])
    assert payload["allowed_mentions"] == {"parse": []}


async def test_status_reports_sources(app: App, session: OfflineSession, clock: FrozenClock) -> None:
    app.store.sync.record_success("binance-spot", NOW - timedelta(seconds=40), "2 tickers")
    app.store.sync.record_success("okx-spot", NOW - timedelta(hours=3), "2 tickers")
    app.store.sync.record_failure("binance-futures", NOW, "HTTP 503 on /fapi/v1/ticker/24hr")
    await session.invoke("/status")
    [embed] = message_payload(session.fake.messages()[-1])["embeds"]
    summary, answers, mood = embed["description"].split("\n")
    assert summary == "🟢 1 ok · 🟡 1 stale · 🔴 1 failing"
    assert answers.startswith("Answers: ")
    assert mood == "Fear & Greed: no reading collected yet (alternative.me, daily)."
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert "binance-spot" not in fields  # only what is not ok is listed
    assert fields["okx-spot"].startswith("🟡 stale\nlast success 3 h ago")
    assert "🔴 failing" in fields["binance-futures"]
    assert "HTTP 503" in fields["binance-futures"]


async def test_status_stays_within_discords_limits_when_everything_fails(
    app: App, session: OfflineSession
) -> None:
    """Every source failing with 2 KB error bodies: the fake refuses an oversize message, so a
    reply that arrives at all is within Discord's limits."""
    sources = [f"{venue}-{kind}" for venue in ("binance", "bybit", "okx", "coingecko") for kind in "abcdef"]
    for i, source in enumerate(sources):
        app.store.sync.record_failure(source, NOW, f"HTTP 502 body {i}: " + "<html>bad gateway</html>\n" * 90)
    for venue in ("binance", "bybit", "okx"):
        app.store.sync.open_stream_session(venue, NOW - timedelta(hours=1))
    await session.invoke("/status")
    payload = message_payload(session.fake.messages()[-1])
    [embed] = payload["embeds"]
    assert embed["description"].startswith(f"🔴 {len(sources)} failing\nAnswers: ")
    names = [f["name"] for f in embed["fields"]]
    assert names[-1] == "Liquidation streams"
    listed = set(names[:-2])
    more = embed["fields"][-2]
    assert more["name"] == f"…and {len(sources) - len(listed)} more not ok"
    assert listed | set(more["value"].split(", ")) == set(sources)  # nothing silently dropped
    assert len(embed["fields"]) <= 25
    assert all(len(f["value"]) <= 1024 for f in embed["fields"])


async def test_suggestions_are_only_tracked_coins(app: App, session: OfflineSession) -> None:
    """`notacoin` once suggested INJ, which then answered "not tracked"."""
    market = app.services.market
    tracked = set(market.tracked)
    assert {c.symbol for c in market.registry.suggest("notacoin")} - tracked  # an untracked one is close
    await session.invoke("/price coin:notacoin")
    text = message_payload(session.fake.messages()[-1])["embeds"][0]["description"]
    assert text.startswith("unknown coin 'notacoin' — did you mean ")
    suggested = set(text.split("did you mean ")[1].rstrip("?").split(", "))
    assert suggested
    assert suggested <= tracked


async def test_nothing_close_among_the_tracked_names_them(session: OfflineSession) -> None:
    await session.invoke("/price coin:zzqqxx")
    text = message_payload(session.fake.messages()[-1])["embeds"][0]["description"]
    assert text == "unknown coin 'zzqqxx'. Tracked coins: BTC, ETH, SOL, BNB, XRP, PEPE."
