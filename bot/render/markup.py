"""Discord markup as terminal text: what a reader sees in Discord, for the console and `ask`.

``**bold**`` and ``__underline__`` become bold (ANSI, or plain without colour), ``*italics*`` and
``_italics_`` italic, ``<#id>`` ``#id``, ``<@id>`` ``@user``, ``<@&id>`` ``@role``, and
``<t:unix:style>`` the time in the terminal's own timezone, as Discord shows it to each reader."""

from __future__ import annotations

import re
from datetime import UTC, datetime, tzinfo

from bot.fmt import age, ago

_TIME = re.compile(r"<t:(-?\d+)(?::([tTdDfFR]))?>")
_CHANNEL = re.compile(r"<#(\d+)>")
_ROLE = re.compile(r"<@&(\d+)>")
_USER = re.compile(r"<@!?(\d+)>")
_BOLD = re.compile(r"\*\*(.+?)\*\*|__(.+?)__", re.S)
_ITALIC = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)\*(?![\w*])|(?<![\w_])_(?!\s)([^_\n]+?)_(?![\w_])")
_FORMATS = {
    "t": "%H:%M",
    "T": "%H:%M:%S",
    "d": "%Y-%m-%d",
    "D": "%d %B %Y",
    "f": "%Y-%m-%d %H:%M %Z",
    "F": "%A %d %B %Y %H:%M %Z",
    "R": "%Y-%m-%d %H:%M %Z",
}


def local_time(unix: int, code: str = "f", *, tz: tzinfo | None = None, now: datetime | None = None) -> str:
    """``<t:unix:code>`` as text in ``tz`` (default: the machine's timezone). ``R`` is relative
    when ``now`` is given, else the absolute time."""
    at = datetime.fromtimestamp(unix, UTC)
    if code == "R" and now is not None:
        delta = at - now
        return ago(-delta) if delta.total_seconds() <= 0 else f"in {age(delta)}"
    local = at.astimezone(tz) if tz is not None else at.astimezone()
    return local.strftime(_FORMATS.get(code, _FORMATS["f"]))


def to_terminal(
    text: str, *, colour: bool = False, tz: tzinfo | None = None, now: datetime | None = None
) -> str:
    text = _TIME.sub(lambda m: local_time(int(m[1]), m[2] or "f", tz=tz, now=now), text)
    text = _CHANNEL.sub(r"#\1", text)
    text = _ROLE.sub("@role", text)
    text = _USER.sub("@user", text)
    bold, italic, reset = ("\033[1m", "\033[3m", "\033[22;23m") if colour else ("", "", "")
    text = _BOLD.sub(lambda m: f"{bold}{m[1] or m[2]}{reset}", text)
    return _ITALIC.sub(lambda m: f"{italic}{m[1] or m[2]}{reset}", text)
