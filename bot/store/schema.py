"""Versioned schema. Each migration runs once, in order, inside a transaction; the version
lives in ``PRAGMA user_version`` so a store opened by an older build is upgraded in place.
"""

from __future__ import annotations

import sqlite3

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
ALL_COINS = "*"  # the market-wide row of the hourly liquidation roll-up

MIGRATIONS: list[str] = [
    # 1: market data, liquidations with per-minute roll-ups, health
    """
    CREATE TABLE tickers (
        coin TEXT NOT NULL, venue TEXT NOT NULL, market TEXT NOT NULL,
        price REAL NOT NULL, change_24h_pct REAL, change_7d_pct REAL,
        high_24h REAL, low_24h REAL, quote_volume_24h REAL, market_cap REAL,
        ts_ms INTEGER NOT NULL, fetched_ms INTEGER NOT NULL,
        PRIMARY KEY (coin, venue, market)
    );
    CREATE TABLE candles (
        coin TEXT NOT NULL, venue TEXT NOT NULL, market TEXT NOT NULL, interval TEXT NOT NULL,
        open_ms INTEGER NOT NULL, open REAL NOT NULL, high REAL NOT NULL, low REAL NOT NULL,
        close REAL NOT NULL, volume REAL NOT NULL, quote_volume REAL, taker_buy_quote REAL,
        PRIMARY KEY (coin, interval, venue, market, open_ms)
    ) WITHOUT ROWID;
    CREATE TABLE open_interest (
        coin TEXT NOT NULL, venue TEXT NOT NULL, ts_ms INTEGER NOT NULL,
        oi_usd REAL NOT NULL, oi_coin REAL,
        PRIMARY KEY (coin, venue, ts_ms)
    ) WITHOUT ROWID;
    CREATE TABLE funding (
        coin TEXT NOT NULL, venue TEXT NOT NULL, ts_ms INTEGER NOT NULL,
        rate REAL NOT NULL, interval_hours REAL NOT NULL,
        PRIMARY KEY (coin, venue, ts_ms)
    ) WITHOUT ROWID;
    CREATE TABLE long_short (
        coin TEXT NOT NULL, venue TEXT NOT NULL, ts_ms INTEGER NOT NULL, long_share REAL NOT NULL,
        PRIMARY KEY (coin, venue, ts_ms)
    ) WITHOUT ROWID;
    CREATE TABLE liquidations (
        venue TEXT NOT NULL, event_id TEXT NOT NULL, coin TEXT NOT NULL, side TEXT NOT NULL,
        price REAL NOT NULL, qty REAL NOT NULL, usd REAL NOT NULL,
        ts_ms INTEGER NOT NULL, minute_ms INTEGER NOT NULL,
        PRIMARY KEY (venue, event_id)
    );
    CREATE INDEX liquidations_coin_ts ON liquidations (coin, ts_ms);
    CREATE INDEX liquidations_minute ON liquidations (minute_ms);
    CREATE TABLE liq_minute (
        coin TEXT NOT NULL, minute_ms INTEGER NOT NULL, side TEXT NOT NULL, venue TEXT NOT NULL,
        usd REAL NOT NULL, events INTEGER NOT NULL, max_usd REAL NOT NULL,
        PRIMARY KEY (coin, minute_ms, side, venue)
    ) WITHOUT ROWID;
    CREATE INDEX liq_minute_time ON liq_minute (minute_ms);
    CREATE TABLE stream_sessions (
        venue TEXT NOT NULL, connected_ms INTEGER NOT NULL, disconnected_ms INTEGER,
        PRIMARY KEY (venue, connected_ms)
    );
    CREATE TABLE macro (
        series TEXT NOT NULL, interval TEXT NOT NULL, ts_ms INTEGER NOT NULL,
        symbol TEXT NOT NULL, source TEXT NOT NULL, close REAL NOT NULL,
        PRIMARY KEY (series, interval, ts_ms)
    ) WITHOUT ROWID;
    CREATE TABLE global_stats (
        source TEXT NOT NULL, ts_ms INTEGER NOT NULL, total_market_cap_usd REAL NOT NULL,
        market_cap_change_24h_pct REAL, btc_dominance_pct REAL, eth_dominance_pct REAL,
        PRIMARY KEY (source, ts_ms)
    );
    CREATE TABLE source_health (
        source TEXT PRIMARY KEY, last_success_ms INTEGER, last_error TEXT, last_error_ms INTEGER,
        consecutive_failures INTEGER NOT NULL DEFAULT 0, disabled_reason TEXT, detail TEXT
    );
    """,
    # 2: breadth over the top coins by market cap (latest snapshot per coin)
    """
    CREATE TABLE market_breadth (
        cg_id TEXT PRIMARY KEY, symbol TEXT NOT NULL, change_24h_pct REAL, market_cap REAL,
        ts_ms INTEGER NOT NULL
    );
    """,
    # 3: hourly liquidation roll-ups, per coin and for the whole market (coin '*'), so a 30-day
    #    baseline or a market-wide window reads hundreds of rows, not millions
    """
    CREATE TABLE liq_hour (
        coin TEXT NOT NULL, hour_ms INTEGER NOT NULL, side TEXT NOT NULL, venue TEXT NOT NULL,
        usd REAL NOT NULL, events INTEGER NOT NULL, max_usd REAL NOT NULL,
        PRIMARY KEY (coin, hour_ms, side, venue)
    ) WITHOUT ROWID;
    INSERT INTO liq_hour SELECT coin, minute_ms / 3600000 * 3600000, side, venue, SUM(usd), SUM(events), MAX(max_usd)
        FROM liq_minute GROUP BY 1, 2, 3, 4;
    INSERT INTO liq_hour SELECT '*', hour_ms, side, venue, SUM(usd), SUM(events), MAX(max_usd)
        FROM liq_hour GROUP BY 2, 3, 4;
    """,
    # 4: alerts: a guild's channel subscriptions (one per channel; a channel belongs to one guild,
    #    so channel_id is unique too), each alert's state per channel x coin x rule (so a restart
    #    never re-sends), and the daily briefs
    """
    CREATE TABLE alert_subscriptions (
        guild_id INTEGER NOT NULL, channel_id INTEGER NOT NULL,
        coins TEXT NOT NULL DEFAULT '[]', rules TEXT NOT NULL DEFAULT '[]',
        thresholds TEXT NOT NULL DEFAULT '{}', role_id INTEGER, created_by INTEGER,
        created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, muted_until_ms INTEGER,
        disabled_reason TEXT, disabled_ms INTEGER, last_alert_ms INTEGER,
        alerts_sent INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (guild_id, channel_id)
    );
    CREATE UNIQUE INDEX alert_subscriptions_channel ON alert_subscriptions (channel_id);
    CREATE TABLE alert_state (
        guild_id INTEGER NOT NULL, channel_id INTEGER NOT NULL, coin TEXT NOT NULL, rule TEXT NOT NULL,
        state TEXT NOT NULL, fired_ms INTEGER, rearmed INTEGER NOT NULL DEFAULT 0, score REAL,
        updated_ms INTEGER NOT NULL,
        PRIMARY KEY (channel_id, coin, rule)
    ) WITHOUT ROWID;
    CREATE INDEX alert_state_guild ON alert_state (guild_id);
    CREATE TABLE alert_briefs (
        guild_id INTEGER NOT NULL, channel_id INTEGER NOT NULL, local_time TEXT NOT NULL,
        timezone TEXT NOT NULL, next_due_ms INTEGER NOT NULL, last_sent_ms INTEGER,
        created_by INTEGER, disabled_reason TEXT, disabled_ms INTEGER,
        PRIMARY KEY (guild_id, channel_id)
    );
    CREATE UNIQUE INDEX alert_briefs_channel ON alert_briefs (channel_id);
    CREATE INDEX alert_briefs_due ON alert_briefs (next_due_ms);
    """,
    # 5: top traders' long share per coin, venue and basis (position size or accounts)
    """
    CREATE TABLE top_traders (
        coin TEXT NOT NULL, venue TEXT NOT NULL, basis TEXT NOT NULL, ts_ms INTEGER NOT NULL,
        long_share REAL NOT NULL,
        PRIMARY KEY (coin, venue, basis, ts_ms)
    ) WITHOUT ROWID;
    """,
    # 6: the market-wide per-minute sums (every coin's minutes of a window's partial hours) read
    #    from the index alone instead of a table seek per coin and minute
    """
    CREATE INDEX liq_minute_time_sums ON liq_minute (minute_ms, side, venue, usd, events, max_usd);
    DROP INDEX liq_minute_time;
    """,
    # 7: personal price watches, delivered by DM; a user whose DMs are closed is paused
    """
    CREATE TABLE watches (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        user_id INTEGER NOT NULL, coin TEXT NOT NULL, direction TEXT NOT NULL,
        price REAL NOT NULL, note TEXT NOT NULL DEFAULT '',
        armed INTEGER NOT NULL, created_ms INTEGER NOT NULL,
        fired_ms INTEGER, fired_count INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX watches_user ON watches (user_id);
    CREATE TABLE watch_users (
        user_id INTEGER PRIMARY KEY, paused_ms INTEGER NOT NULL, reason TEXT NOT NULL
    );
    """,
    # 8: time marks. Heartbeats a long-running process writes (the bot's Discord
    #    gateway), so `tapewatch health` can tell a live bot from one whose gateway has been down
    #    for minutes; and watermarks (how far pruning has thinned old points)
    """
    CREATE TABLE marks (
        name TEXT PRIMARY KEY, ts_ms INTEGER NOT NULL, detail TEXT NOT NULL DEFAULT ''
    );
    """,
    # 9: per-server settings (/settings): the coin shortlist, the default window and the alert
    #    defaults new subscriptions start from; one row per guild, NULL = the bot's default
    """
    CREATE TABLE guild_settings (
        guild_id INTEGER PRIMARY KEY, shortlist TEXT, default_window TEXT, alert_thresholds TEXT,
        updated_ms INTEGER NOT NULL, updated_by INTEGER
    );
    """,
    # 10 (issue 17): the tracked set that follows the market — the coins discovered with their
    #    venue ids (so a restart knows them without the network; those below the cut too, so a
    #    coin asked for by name is known) and each newly tracked coin's history backfill per venue
    """
    CREATE TABLE tracked_coins (
        symbol TEXT PRIMARY KEY, name TEXT NOT NULL, coingecko TEXT NOT NULL,
        binance_spot TEXT NOT NULL, binance_perp TEXT NOT NULL, bybit TEXT NOT NULL,
        okx TEXT NOT NULL, perp_multiplier REAL NOT NULL, aliases TEXT NOT NULL DEFAULT '',
        position INTEGER NOT NULL, added_ms INTEGER NOT NULL,
        tracked INTEGER NOT NULL DEFAULT 1  -- 0: ranked and listed but below the cut (known, not tracked)
    );
    CREATE TABLE coin_backfill (
        symbol TEXT NOT NULL, venue TEXT NOT NULL, done_ms INTEGER, error TEXT NOT NULL DEFAULT '',
        PRIMARY KEY (symbol, venue)
    ) WITHOUT ROWID;
    """,
    # 11 (issue 17): each large-liquidation message a channel was sent, with the events it
    #    carried (recorded before the post, so a restart never re-sends and a cascade is batched
    #    per channel per minute), and the daily Fear & Greed index with the source's own label
    """
    CREATE TABLE large_liq_posts (
        channel_id INTEGER NOT NULL, sent_ms INTEGER NOT NULL, guild_id INTEGER NOT NULL,
        newest_ms INTEGER NOT NULL, events TEXT NOT NULL,
        PRIMARY KEY (channel_id, sent_ms)
    ) WITHOUT ROWID;
    CREATE INDEX large_liq_posts_newest ON large_liq_posts (channel_id, newest_ms);
    CREATE TABLE fear_greed (
        source TEXT NOT NULL, ts_ms INTEGER NOT NULL, value INTEGER NOT NULL, label TEXT NOT NULL,
        PRIMARY KEY (source, ts_ms)
    ) WITHOUT ROWID;
    """,
    # 12 (issue 18): the alert outbox. A channel message the engine decided on is written in the
    #    same transaction as the alert states (or brief / large-liquidation record) that decided
    #    it, formatted; posters claim rows (the process whose gateway shards hold the guild
    #    first), post them with their nonce, and mark them done: a crash anywhere loses nothing,
    #    and the nonce keeps a re-post after a crash mid-post from landing twice
    """
    CREATE TABLE alert_outbox (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        guild_id INTEGER NOT NULL, channel_id INTEGER NOT NULL,
        kind TEXT NOT NULL,  -- alerts | large | brief
        nonce TEXT NOT NULL, body TEXT NOT NULL, alerts INTEGER NOT NULL,
        created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL,
        next_ms INTEGER NOT NULL,  -- not tried before: the end of a claim, or a retry's backoff
        claimed_by TEXT, attempts INTEGER NOT NULL DEFAULT 0,
        done_ms INTEGER, outcome TEXT, detail TEXT, message_id INTEGER
    );
    CREATE INDEX alert_outbox_waiting ON alert_outbox (next_ms) WHERE done_ms IS NULL;
    CREATE INDEX alert_outbox_done ON alert_outbox (done_ms);
    """,
]

SCHEMA_VERSION = len(MIGRATIONS)


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the schema to :data:`SCHEMA_VERSION`; returns the version found before.

    Each step runs under ``BEGIN IMMEDIATE`` (the write lock, waiting on the busy timeout) and
    re-reads the version inside it, so processes opening a new store at once never both create
    the tables: the second sees the first's version and skips the step."""
    (found,) = conn.execute("PRAGMA user_version").fetchone()
    if found > SCHEMA_VERSION:
        raise RuntimeError(f"store schema v{found} is newer than this build (v{SCHEMA_VERSION})")
    version = int(found)
    while version < SCHEMA_VERSION:
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            (version,) = conn.execute("PRAGMA user_version").fetchone()
            if version >= SCHEMA_VERSION:
                break
            for statement in MIGRATIONS[version].split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {version + 1}")
        version += 1
    return int(found)
