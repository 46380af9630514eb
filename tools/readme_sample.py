"""Print the README's sample of a reply with its controls, from the real code: ``/why coin:SOL``
on the bundled ``coin_crash`` scenario through the real bot against the loopback fake Discord,
rendered as the console renders it (the embed, then its rows of buttons), then the same message
after its author pressed "4h" (edited in place). ``python -m tools.readme_sample``; a test keeps
the README's copy equal to this output."""

from __future__ import annotations

import asyncio
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

from bot.app import scenario_app
from bot.client import TapewatchBot
from bot.offline import OfflineSession
from bot.render.text import message_to_text
from bot.scenarios import bundled
from bot.settings import load_settings

COMMAND = "/why coin:SOL"
PRESS = "4h"


def _latest(stored: dict[str, dict[str, Any]]) -> dict[str, Any]:
    return next(m for m in reversed(stored.values()) if m.get("embeds"))


async def sample() -> str:
    """The reply, and the headline and buttons of the same message after the press."""
    with tempfile.TemporaryDirectory(prefix="tapewatch-sample-") as workdir:
        app = scenario_app(load_settings(), Path(bundled()["coin_crash"]), Path(workdir))
        try:
            async with OfflineSession(TapewatchBot(services=app.services)) as session:
                await session.invoke(COMMAND)
                message = _latest(session.fake.stored)
                first = message_to_text(message, tz=UTC, now=app.clock())
                button = next(
                    c for row in message["components"] for c in row["components"] if c["label"] == PRESS
                )
                await session.click(message, button["custom_id"])
                edited = session.fake.stored[message["id"]]
        finally:
            app.close()
    after = message_to_text({**edited, "embeds": [{"title": edited["embeds"][0]["title"]}]}, tz=UTC)
    return f"{first}\n\n(the author presses {PRESS}: the same message, edited in place)\n\n{after}"


def main() -> None:
    print(asyncio.run(sample()))


if __name__ == "__main__":
    main()
