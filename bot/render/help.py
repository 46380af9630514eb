"""/help: the command tree described as plain data, and the words around it.

The names, descriptions, options and choices come from the live command tree (see
``cogs/help.py``), so the help cannot drift from what Discord shows; only the examples and
what the figures mean are written here, and a test checks every command has an example."""

from __future__ import annotations

from dataclasses import dataclass, field

import discord

from bot.render import style

# One example per command (qualified name → the invocation a new member would type).
EXAMPLES: dict[str, str] = {
    "price": "/price coin:btc,eth,sol",
    "why": "/why coin:eth window:4h",
    "movers": "/movers window:24h count:5",
    "derivatives": "/derivatives coin:btc",
    "liquidations": "/liquidations coin:sol window:24h",
    "levels": "/levels coin:eth",
    "status": "/status",
    "help": "/help command:why",
    "watch add": "/watch add coin:btc below:60000 note:dip",
    "watch list": "/watch list",
    "watch remove": "/watch remove number:1",
    "alerts subscribe": "/alerts subscribe channel:#markets coins:BTC,ETH",
    "alerts list": "/alerts list",
    "alerts unsubscribe": "/alerts unsubscribe channel:#markets",
    "alerts mute": "/alerts mute duration:2h",
    "alerts test": "/alerts test channel:#markets",
    "alerts brief": "/alerts brief time:08:00 timezone:Europe/Berlin",
    "settings show": "/settings show",
    "settings shortlist": "/settings shortlist coins:btc,eth,sol",
    "settings window": "/settings window value:4h",
    "settings alerts": "/settings alerts thresholds:move_24h=8%,cooldown=2h",
    "settings reset": "/settings reset what:window",
}

BUTTONS = (
    " Buttons under the answer switch the window, attach the chart or open the other answers for "
    "the coin: on your own answer they edit it in place, on anyone else's they show you a private copy."
)

# What the figures of a top-level command mean: baselines, coverage, strength.
FIGURES: dict[str, str] = {
    "why": "Drivers are ranked by how much of the move they explain. Liquidations are compared "
    "with the coin's own 30-day baseline; beta is the move BTC explains (R² says how far to trust "
    "it). Every figure carries its window and source." + BUTTONS,
    "liquidations": "Liquidations come from the venues' public streams: a lower bound (venues "
    "report a sample), covering the time the bot has been streaming. The multiple compares the "
    "window with the coin's own 30-day average." + BUTTONS,
    "levels": "Zones are clustered swing highs and lows on 1d and 1h bars. Strength (0–1) grows "
    "with touches, volume at the price, nearby 50/200-day averages and round numbers; distance "
    "is from the price to the zone's near edge." + BUTTONS,
    "derivatives": "Funding is normalised to 8h; its percentile is against the venue's own 30 "
    "days. Basis is each perp's premium over spot.",
    "movers": "Moves are the same numbers /why states; liquidations are shown as a multiple of "
    "the coin's usual for the window.",
    "price": "The primary venue's last price with its data age; stale data is flagged, never hidden.",
    "status": "A source is stale when its last success is older than the stale limit, failing "
    "after errors with no success.",
    "alerts": "Needs Manage Server. Thresholds and defaults are in the README's alert table.",
    "settings": "Needs Manage Server. Per server: the shortlist orders the market answer's majors "
    "line and coin suggestions; the default window applies when a command is given none; alert "
    "defaults are the thresholds new subscriptions start from.",
    "watch": "Personal: sent by DM once per crossing, re-armed after the price moves back.",
}


@dataclass(frozen=True)
class OptionDoc:
    name: str
    description: str
    required: bool
    choices: tuple[str, ...] = ()
    default: str | None = None


@dataclass(frozen=True)
class CommandDoc:
    name: str  # qualified, e.g. "alerts subscribe"
    description: str
    options: tuple[OptionDoc, ...] = ()
    subcommands: tuple[CommandDoc, ...] = field(default=())

    @property
    def root(self) -> str:
        return self.name.split(" ")[0]


def usage(cmd: CommandDoc) -> str:
    parts = [f"/{cmd.name}"]
    for o in cmd.options:
        parts.append(f"{o.name}:" if o.required else f"[{o.name}:]")
    return " ".join(parts)


def _leaves(cmd: CommandDoc) -> list[CommandDoc]:
    return [leaf for sub in cmd.subcommands for leaf in _leaves(sub)] if cmd.subcommands else [cmd]


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def overview_embed(commands: list[CommandDoc]) -> discord.Embed:
    """Every command with one example each."""
    lines = []
    for cmd in commands:
        for leaf in _leaves(cmd):
            example = EXAMPLES.get(leaf.name, usage(leaf))
            lines.append(f"**/{leaf.name}** — {leaf.description}\n  e.g. `{example}`")
    embed = discord.Embed(
        title="Tapewatch commands",
        description=_clip("\n".join(lines), 4000),
        colour=style.INFO,
    )
    embed.set_footer(text="/help command:<name> for its options, windows, defaults and what the figures mean")
    return embed


def _option_line(o: OptionDoc) -> str:
    text = f"`{o.name}`{'' if o.required else ' (optional)'}: {o.description}"
    if o.choices:
        text += f" — one of {', '.join(o.choices)}"
    if o.default is not None:
        text += f"; default {o.default}"
    return text


def command_embed(cmd: CommandDoc) -> discord.Embed:
    """One command: what it answers, each (sub)command's options, an example, what the figures mean."""
    embed = discord.Embed(title=f"/{cmd.name}", description=cmd.description, colour=style.INFO)
    for leaf in _leaves(cmd)[:20]:
        lines = [_option_line(o) for o in leaf.options] or ["no options"]
        if leaf.name != cmd.name:
            lines.insert(0, leaf.description)
        lines.append(f"e.g. `{EXAMPLES.get(leaf.name, usage(leaf))}`")
        embed.add_field(name=_clip(usage(leaf), 256), value=_clip("\n".join(lines), 1024), inline=False)
    meaning = FIGURES.get(cmd.root)
    if meaning:
        embed.add_field(name="What the figures mean", value=meaning, inline=False)
    return embed
