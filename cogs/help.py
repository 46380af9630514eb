"""/help: every command with an example, or one command in detail, read from the command tree."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.errors import UserFacingError
from bot.interactions import send
from bot.render.help import CommandDoc, OptionDoc, command_embed, overview_embed
from cogs._common import everywhere

if TYPE_CHECKING:
    from bot.client import TapewatchBot

Node = app_commands.Command[Any, ..., Any] | app_commands.Group


def _default(p: app_commands.Parameter) -> str | None:
    value = p.default
    if p.required or value is None or value is discord.utils.MISSING:
        return None
    return str(value)


def describe(node: Node) -> CommandDoc:
    """A command (or group) of the tree as plain data for the renderer."""
    if isinstance(node, app_commands.Group):
        subs = tuple(describe(c) for c in node.commands)
        return CommandDoc(name=node.qualified_name, description=node.description, subcommands=subs)
    options = tuple(
        OptionDoc(
            name=p.name,
            description=p.description,
            required=p.required,
            choices=tuple(str(c.value) for c in p.choices),
            default=_default(p),
        )
        for p in node.parameters
    )
    return CommandDoc(name=node.qualified_name, description=node.description, options=options)


def command_docs(tree: app_commands.CommandTree[Any]) -> list[CommandDoc]:
    return [
        describe(c)
        for c in sorted(tree.get_commands(), key=lambda c: c.name)
        if isinstance(c, app_commands.Command | app_commands.Group)
    ]


def find(docs: list[CommandDoc], name: str) -> CommandDoc | None:
    wanted = " ".join(name.lower().lstrip("/").split())
    stack = list(docs)
    while stack:
        doc = stack.pop()
        if doc.name == wanted:
            return doc
        stack.extend(doc.subcommands)
    return None


class HelpCog(commands.Cog):
    def __init__(self, tree: app_commands.CommandTree[Any]) -> None:
        self.tree = tree

    @app_commands.command(name="help", description="What every command answers, with examples")
    @app_commands.describe(command="One command in detail: its options, windows, defaults and figures")
    @everywhere
    async def help(
        self, interaction: discord.Interaction, command: app_commands.Range[str, 1, 60] | None = None
    ) -> None:
        docs = command_docs(self.tree)
        if command is None:
            await send(interaction, embed=overview_embed(docs), ephemeral=True)
            return
        doc = find(docs, command)
        if doc is None:
            names = ", ".join(d.name for d in docs)
            raise UserFacingError(f"no command /{command.lstrip('/')}; commands: {names}")
        await send(interaction, embed=command_embed(doc), ephemeral=True)

    @help.autocomplete("command")
    async def command_autocomplete(
        self, interaction: discord.Interaction, current: str
    ) -> list[app_commands.Choice[str]]:
        names = [c.qualified_name for c in self.tree.walk_commands()]
        typed = current.lower().lstrip("/")
        return [app_commands.Choice(name=f"/{n}", value=n) for n in sorted(names) if typed in n][:25]


async def setup(bot: TapewatchBot) -> None:
    await bot.add_cog(HelpCog(bot.tree))
