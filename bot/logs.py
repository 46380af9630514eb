"""Logging set-up for the command line: plain or JSON lines, and secrets redacted from every
line at every level (discord.py's debug log shows callback URLs that carry interaction tokens,
and webhook URLs carry webhook tokens)."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime

PLAIN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"
REDACTED = "<redacted>"

_PATTERNS = (
    # /interactions/<id>/<token>/callback and /webhooks/<application id>/<interaction token>
    re.compile(r"(/interactions/\d+/)[A-Za-z0-9_.\-]+"),
    re.compile(r"(/webhooks/\d+/)[A-Za-z0-9_.\-]+"),
    # a bot token anywhere: three base64url parts, the first the bot's id
    re.compile(r"()[A-Za-z0-9_\-]{23,28}\.[A-Za-z0-9_\-]{6,7}\.[A-Za-z0-9_\-]{27,}"),
    re.compile(r"((?:Authorization|authorization)['\"]?\s*[:=]\s*['\"]?Bot )[^\s'\",}]+"),
)


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self.secrets = [s for s in secrets if len(s) >= 6]

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        return text


class RedactingFormatter(logging.Formatter):
    """Formats as its base does, then redacts the whole line (message, arguments, traceback)."""

    def __init__(self, base: logging.Formatter, redact: Redactor) -> None:
        super().__init__()
        self.base = base
        self.redact = redact

    def format(self, record: logging.LogRecord) -> str:
        return self.redact(self.base.format(record))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message (and the traceback, if any)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(level: int, *, fmt: str = "plain", secrets: Iterable[str] = ()) -> Redactor:
    """The root handler on stderr, formatted as ``fmt`` (``plain`` or ``json``), redacting
    ``secrets`` and every token-shaped string. Returns the redactor so a secret learnt later
    (the token from the settings) can be added."""
    redact = Redactor(secrets)
    base: logging.Formatter = JsonFormatter() if fmt == "json" else logging.Formatter(PLAIN_FORMAT)
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(base, redact))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    return redact
