"""/help through the real discord.py path: generated from the tree, every command, within limits."""

from __future__ import annotations

from discord import app_commands

from bot.offline import OfflineSession, message_payload, parse_invocation
from bot.render.help import EXAMPLES


def leaf_names(session: OfflineSession) -> list[str]:
    return [c.qualified_name for c in session.bot.tree.walk_commands() if isinstance(c, app_commands.Command)]


async def test_overview_lists_every_command_with_an_example(session: OfflineSession) -> None:
    await session.invoke("/help")
    payload = message_payload(session.fake.messages()[-1])
    assert payload["flags"] == 64  # only the asker sees it
    text = payload["embeds"][0]["description"]
    for name in leaf_names(session):
        assert f"**/{name}** — " in text, name
        assert f"e.g. `{EXAMPLES[name]}`" in text, name


def test_every_example_is_a_valid_invocation(session: OfflineSession) -> None:
    """Examples are parsed against the tree as Discord would: a renamed option or a choice that
    no longer exists fails here."""
    assert set(EXAMPLES) == set(leaf_names(session))
    for name, example in EXAMPLES.items():
        assert parse_invocation(example, session.bot.tree).path == name.split(" ")


async def test_each_command_in_detail_shows_its_options_and_choices(session: OfflineSession) -> None:
    for cmd in session.bot.tree.get_commands():
        await session.invoke(f"/help command:{cmd.name}")
        [embed] = message_payload(session.fake.messages()[-1])["embeds"]
        assert embed["title"] == f"/{cmd.name}"
        shown = "\n".join(f["name"] + "\n" + f["value"] for f in embed["fields"])
        leaves = cmd.commands if isinstance(cmd, app_commands.Group) else [cmd]
        for leaf in leaves:
            assert isinstance(leaf, app_commands.Command)
            for p in leaf.parameters:
                assert f"`{p.name}`" in shown, (leaf.qualified_name, p.name)
                for choice in p.choices:
                    assert str(choice.value) in shown


async def test_window_choices_and_default_come_from_the_tree(session: OfflineSession) -> None:
    await session.invoke("/help command:/why")
    [embed] = message_payload(session.fake.messages()[-1])["embeds"]
    window = next(line for f in embed["fields"] for line in f["value"].split("\n") if "`window`" in line)
    # the default is the server's (/settings window), else 24h: said in the option's description
    assert window.endswith("(default: the server's, else 24h) — one of 1h, 4h, 24h, 7d")


async def test_unknown_command_is_a_private_line(session: OfflineSession) -> None:
    await session.invoke("/help command:nope")
    payload = message_payload(session.fake.messages()[-1])
    assert payload["flags"] == 64
    assert payload["embeds"][0]["description"].startswith("no command /nope; commands: alerts, derivatives")


async def test_autocomplete_offers_subcommands(session: OfflineSession) -> None:
    choices = await session.autocomplete("/help command:mute", "command")
    assert choices == [{"name": "/alerts mute", "value": "alerts mute"}]
