"""Progress of a task made of steps (the first run's backfill, source by source), for a person
watching a terminal: on a TTY each finished step's line is printed above a bar redrawn in place;
elsewhere (a pipe, a log file, a container) one plain line per step with its count; nothing at
all where the output is machine-read (JSON logs). Hand-written: a bar, a count and a clock need
no dependency. The words (title, step lines, summary) come from the caller.

A step that was not foreseen (a fallback venue tried after the first failed) raises the total
instead of overflowing the bar, so the count never reads "21 of 20".
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from typing import Literal, TextIO

Mode = Literal["bar", "lines", "off"]

BAR_WIDTH = 24
_CLEAR = "\r\x1b[2K"  # carriage return, erase the line


def mode_for(stream: TextIO | None, *, json_logs: bool = False) -> Mode:
    """``off`` under JSON logs, ``bar`` on a terminal, ``lines`` otherwise (no stream too)."""
    if json_logs:
        return "off"
    isatty = getattr(stream, "isatty", None)
    try:
        return "bar" if isatty is not None and isatty() else "lines"
    except ValueError:  # a closed stream
        return "lines"


def bar(done: int, total: int, width: int = BAR_WIDTH) -> str:
    """``[██████··········]``: ``done`` of ``total`` as filled cells (never more than full)."""
    filled = width if total <= 0 else min(width, done * width // total)
    return "[" + "█" * filled + "·" * (width - filled) + "]"


class Progress:
    """``step(line)`` once per finished step, then ``finish(summary)``."""

    def __init__(
        self,
        title: str,
        total: int,
        *,
        stream: TextIO | None = None,
        mode: Mode | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.title = title
        self.total = max(0, total)
        self.done = 0
        self.stream = stream if stream is not None else sys.stderr
        self.mode: Mode = mode if mode is not None else mode_for(self.stream)
        self.clock = clock
        self.started = clock()
        self.finished = False
        self._drawn = False

    @property
    def elapsed(self) -> float:
        return self.clock() - self.started

    def start(self) -> None:
        """Draw the empty bar (on a TTY), so the wait before the first step is not silent."""
        if self.mode == "bar" and not self.finished:
            self._draw()

    def step(self, line: str) -> None:
        if self.finished:
            return
        self.done += 1
        self.total = max(self.total, self.done)
        if self.mode == "lines":
            self._write(f"[{self.done}/{self.total}] {line}\n")
        elif self.mode == "bar":
            self._write(f"{_CLEAR}{line}\n")
            self._draw()

    def finish(self, summary: str) -> None:
        if self.finished:
            return
        self.finished = True
        if self.mode == "bar":
            self._write(f"{_CLEAR}{summary}\n")
        elif self.mode == "lines":
            self._write(f"{summary}\n")

    def clear(self) -> None:
        """Erase the bar (before someone else writes a line to the same terminal); the next
        step draws it again."""
        if self.mode == "bar" and self._drawn and not self.finished:
            self._write(_CLEAR)
            self._drawn = False

    def _draw(self) -> None:
        self._write(
            f"{self.title} {bar(self.done, self.total)} {self.done}/{self.total} · {self.elapsed:.0f} s"
        )
        self._drawn = True

    def _write(self, text: str) -> None:
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):  # a closed or broken output: progress is not worth a crash
            self.mode = "off"


class ClearBeforeLogs(logging.Filter):
    """On the handlers writing to the bar's terminal: erase the bar before a log line is
    written, so the line starts at the left margin instead of after the bar."""

    def __init__(self, progress: Progress) -> None:
        super().__init__()
        self.progress = progress

    def filter(self, record: logging.LogRecord) -> bool:
        self.progress.clear()
        return True
