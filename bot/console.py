"""``tapewatch console``: the slash commands at a terminal prompt, answered offline.

With a terminal it uses prompt_toolkit (history, tab completion of commands, options and
coins); piped input is read line by line, so ``echo "/price coin:btc" | tapewatch console`` works.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from discord import app_commands
from prompt_toolkit import PromptSession
from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document
from prompt_toolkit.history import FileHistory

from bot.app import App, app_for, collector_for
from bot.background import live_background
from bot.client import TapewatchBot
from bot.collect_progress import SourceProgress, json_logs
from bot.collector_report import SourceReport, failures_printed_not_logged
from bot.defaults import CHART_DIR, DEMO, bundled_scenario
from bot.offline import InvocationError, OfflineSession, message_payload, save_attachments
from bot.render.text import message_to_text, use_colour
from bot.settings import Settings

HISTORY = Path.home() / ".tapewatch_history"


def command_help(tree: app_commands.CommandTree[Any]) -> str:
    lines = ["Commands (type them as in Discord, options as name:value):"]
    for cmd in sorted(tree.walk_commands(), key=lambda c: c.qualified_name):
        if isinstance(cmd, app_commands.Group):
            continue
        opts = " ".join(f"{p.name}:…" if p.required else f"[{p.name}:…]" for p in cmd.parameters)
        lines.append(f"  /{cmd.qualified_name} {opts}".rstrip() + f"  — {cmd.description}")
    lines.append("  press LABEL  — press a button of the last answer, e.g. press 4h, press chart")
    lines.append("  help  — this list;  quit  — leave")
    return "\n".join(lines)


async def press(session: OfflineSession, label: str, *, colour: bool = False) -> str:
    """Press the button labelled ``label`` on the newest message that has buttons, as its
    author, and render what it shows afterwards (edited in place), or say it was deleted."""
    message = next((m for m in reversed(session.fake.stored.values()) if m.get("components")), None)
    if message is None:
        return "error: no answer with buttons yet"
    found = {str(c.get("label", "")).lower(): c for row in message["components"] for c in row["components"]}
    button = found.get(label.strip().lower())
    if button is None:
        return f"error: no button {label!r}; buttons: {', '.join(str(c['label']) for c in found.values())}"
    if button.get("disabled"):
        return f"{button['label']} is what the answer shows already"
    requests = await session.click(message, str(button["custom_id"]))
    files = save_attachments(requests, CHART_DIR)
    shown = session.fake.stored.get(message["id"])
    if shown is None:
        return "(deleted)"
    # a new message beside the edit: a refusal or an error, privately
    extra = [
        message_payload(r)
        for r in requests
        if r.method == "POST"
        and (r.path.startswith("/webhooks/") or ("/callback" in r.path and r.json.get("type") == 4))
    ]
    return "\n\n".join(message_to_text(p, colour=colour, attachments=files) for p in [shown, *extra])


class SlashCompleter(Completer):
    """Completes command names, then option names, then coin symbols after ``coin:``."""

    def __init__(self, tree: app_commands.CommandTree[Any], coins: list[str]) -> None:
        self.commands = {c.qualified_name: c for c in tree.walk_commands()}
        self.coins = coins

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterable[Completion]:
        text = document.text_before_cursor
        words = text.split(" ")
        current = words[-1]
        if len(words) == 1:
            for name in self.commands:
                if " " not in name and ("/" + name).startswith(current):
                    yield Completion("/" + name, start_position=-len(current))
            return
        path = " ".join(w for w in words[:-1] if ":" not in w).lstrip("/")
        command = self.commands.get(path)
        if isinstance(command, app_commands.Group):
            for sub in command.commands:
                if sub.name.startswith(current):
                    yield Completion(sub.name, start_position=-len(current))
            return
        if command is None:
            return
        if current.startswith("coin:"):
            typed = current[5:].upper()
            for coin in self.coins:
                if coin.startswith(typed):
                    yield Completion("coin:" + coin, start_position=-len(current))
            return
        for param in command.parameters:
            if (param.name + ":").startswith(current):
                yield Completion(param.name + ":", start_position=-len(current))


async def _lines(session: OfflineSession, coins: list[str]) -> Any:
    if sys.stdin.isatty():
        prompt: PromptSession[str] = PromptSession(
            history=FileHistory(str(HISTORY)), completer=SlashCompleter(session.bot.tree, coins)
        )
        while True:
            try:
                yield await prompt.prompt_async("tapewatch> ")
            except EOFError:
                return
    else:
        while True:
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line:
                return
            yield line


def _print_line(source: SourceReport) -> None:
    print("  " + source.line(), flush=True)


async def run_console(settings: Settings, *, collect: bool = True, scenario: Path | None = None) -> int:
    """Live (the default): one pass of every collector, then the prompt with the liquidation
    streams and the collector jobs running in the background, so answers fill in as the
    market moves. Where nothing live can be reached, the bundled demo scenario instead."""
    if scenario is None and collect:
        print(f"Collecting live market data into {settings.db_label} …", flush=True)
        with app_for(settings, None) as app:
            async with collector_for(app) as collector:
                progress = SourceProgress(collector, sys.stdout, json_logs=json_logs(settings), indent="  ")
                with failures_printed_not_logged():
                    progress.start()
                    await collector.run_once(progress=progress if progress.drawing else _print_line)
                    progress.finish()
                if await app.store.run(app.store.sync.count, "tickers"):
                    async with live_background(app, collector):
                        print(
                            "Liquidation streams and the collectors now run in the background: answers "
                            "fill in as they stream (the coverage line says for how long)."
                        )
                        return await prompt_loop(app)
        print(
            "No market source could be reached from here and the store holds no prices, so there is "
            f"nothing live to answer from. Opening the bundled '{DEMO}' scenario instead: every answer "
            "is labelled sample data. (Point the providers' URLs at a proxy to go live: see the README.)"
        )
        scenario = bundled_scenario(DEMO)
    with app_for(settings, scenario) as app:
        if scenario is not None:
            print(f"Answering from {app.services.data_label} (clock stopped at its time; no network).")
        return await prompt_loop(app)


async def prompt_loop(app: App) -> int:
    """Read commands until ``quit`` (or the end of the input) and print each answer."""
    colour = use_colour()
    async with OfflineSession(TapewatchBot(services=app.services)) as session:
        print(command_help(session.bot.tree))
        async for raw in _lines(session, app.market.tracked):
            line = raw.strip()
            if not line:
                continue
            if line in ("quit", "exit", "/quit"):
                break
            if line in ("help", "/help", "?"):
                print(command_help(session.bot.tree))
                continue
            if line.startswith("press "):
                print(await press(session, line.removeprefix("press "), colour=colour), flush=True)
                continue
            try:
                requests = await session.invoke(line)
            except InvocationError as exc:
                print(f"error: {exc}")
                continue
            replies = [message_payload(r) for r in session.fake.messages() if r in requests]
            files = save_attachments(requests, CHART_DIR)
            print(
                "\n\n".join(message_to_text(p, colour=colour, attachments=files) for p in replies),
                flush=True,
            )
    return 0
