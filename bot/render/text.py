"""Console rendering of the message payload Discord would receive: embeds as titled sections."""

from __future__ import annotations

import os
import sys
from datetime import datetime, tzinfo
from typing import Any

from bot.render import style
from bot.render.markup import local_time, to_terminal

_ANSI = {style.UP: "32", style.DOWN: "31", style.WARN: "33", style.ERROR: "33", style.INFO: "36"}


def use_colour(stream: Any = None) -> bool:
    stream = sys.stdout if stream is None else stream
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def _paint(text: str, colour: int | None, enabled: bool) -> str:
    code = _ANSI.get(colour or -1)
    return f"\033[1;{code}m{text}\033[0m" if enabled and code else text


def _button(component: dict[str, Any]) -> str:
    """A button as ``[📈 Chart]``; the one showing already (selected, not pressable) ``[● 24h]``."""
    emoji = (component.get("emoji") or {}).get("name")
    text = " ".join(t for t in (emoji, component.get("label")) if t)
    return f"[● {text}]" if component.get("disabled") else f"[{text}]"


def message_to_text(
    payload: dict[str, Any],
    *,
    colour: bool = False,
    attachments: dict[str, Any] | None = None,
    tz: tzinfo | None = None,
    now: datetime | None = None,
) -> str:
    """Render a message payload (content + embeds) as readable plain text, Discord's markup as
    the terminal shows it (times in ``tz``, the machine's own by default); ``attachments``
    maps an attached file's name to where it was saved, shown instead of ``attachment://``."""
    out: list[str] = []

    def md(text: str) -> str:
        return to_terminal(text, colour=colour, tz=tz, now=now)

    if payload.get("content"):
        out.append(md(str(payload["content"])))
    for embed in payload.get("embeds") or []:
        title = embed.get("title")
        if title:
            out.append(_paint(title, embed.get("color"), colour))
            out.append("─" * min(72, max(8, len(title))))
        if embed.get("description"):
            out.append(md(embed["description"]))
        for field in embed.get("fields") or []:
            out.append("")
            out.append(_paint(field["name"], style.INFO, colour))
            out.extend("  " + line for line in md(str(field["value"])).splitlines())
        footer = (embed.get("footer") or {}).get("text")
        stamp = embed.get("timestamp")
        if stamp:  # Discord shows it beside the footer, in the reader's timezone
            when = local_time(int(datetime.fromisoformat(stamp).timestamp()), "f", tz=tz)
            footer = f"{footer} · {when}" if footer else when
        if footer:
            out.append("")
            out.append(f"— {footer}")
        image = (embed.get("image") or {}).get("url")
        if image:
            name = image.removeprefix("attachment://")
            out.append(f"[chart: {(attachments or {}).get(name, image)}]")
    rows = [
        " ".join(_button(c) for c in row.get("components", [])) for row in payload.get("components") or []
    ]
    if any(rows):
        out.append("")
        out.extend(r for r in rows if r)
    if payload.get("flags", 0) & 64:
        out.append("(only you can see this)")
    return "\n".join(out)
