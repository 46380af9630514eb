"""The console shows Discord's markup as a reader in Discord would see it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.fmt import stamp
from bot.render.markup import to_terminal
from bot.render.text import message_to_text

BERLIN = ZoneInfo("Europe/Berlin")
AT = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)


def test_times_in_the_readers_timezone() -> None:
    assert to_terminal(f"next {stamp(AT)}", tz=BERLIN) == "next 2026-11-26 13:00 CET"
    assert to_terminal(f"{stamp(AT, 't')}", tz=BERLIN) == "13:00"
    relative = stamp(AT, "R")
    assert to_terminal(relative, tz=BERLIN, now=AT - timedelta(hours=2)) == "in 2 h"
    assert to_terminal(relative, tz=BERLIN, now=AT + timedelta(minutes=5)) == "5 min ago"
    assert to_terminal(relative, tz=BERLIN) == "2026-11-26 13:00 CET"  # no clock: absolute


def test_emphasis_mentions_and_channels() -> None:
    text = "**Long cascade**: _fell_ through <#123> for <@&9> and <@!5>, 3*4*5 stays"
    assert to_terminal(text) == "Long cascade: fell through #123 for @role and @user, 3*4*5 stays"
    assert to_terminal("**bold**", colour=True) == "\033[1mbold\033[22;23m"
    assert to_terminal("snake_case_name stays") == "snake_case_name stays"


def test_embed_timestamp_is_shown_beside_the_footer_in_local_time() -> None:
    payload = {
        "embeds": [
            {
                "title": "BTC",
                "description": f"**up** since {stamp(AT)}",
                "fields": [{"name": "Coverage", "value": f"covered since {stamp(AT)}"}],
                "footer": {"text": "Source: Binance spot"},
                "timestamp": AT.isoformat(),
            }
        ]
    }
    text = message_to_text(payload, tz=BERLIN)
    assert "up since 2026-11-26 13:00 CET" in text
    assert "  covered since 2026-11-26 13:00 CET" in text
    assert text.endswith("— Source: Binance spot · 2026-11-26 13:00 CET")
    assert "<t:" not in text
    assert "**" not in text
