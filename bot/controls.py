"""Reply controls: the buttons under /why, /liquidations and /levels — the window (1h · 4h · 24h
· 7d), a chart, cross-links between the three answers, and delete.

Everything a press needs is in the button's ``custom_id`` (``tapewatch:ctl:<action>:<answer>
[+]:<coin or *>:<window or ->:<author id>``, at most about 70 characters of Discord's 100), and
the button is a :class:`discord.ui.DynamicItem` registered at start, so a press is answered with
no memory of the message, after a restart too. The author's press edits the message in place;
anyone else gets their own private copy to explore (their copy's buttons are theirs); only the
author may delete. Answers come from the services' answer cache, and every press is
acknowledged within Discord's 3 s (a deferred update for an edit, "thinking…" for a copy).
Edits and deletes go through the interaction's token, so they work where the bot is only
user-installed.
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, Literal, Protocol

import discord

from bot.errors import UserFacingError
from bot.interactions import acknowledge, delete_in_place, edit_in_place, expired, send, within_deadline
from bot.render.charts import ChartRenderer, ChartSpec
from bot.render.controls import (
    CANNOT_ANSWER,
    LABELS,
    LEVELS_NEED_A_COIN,
    NO_CHART,
    NOT_YOURS_DELETE,
    WINDOWS,
    Action,
)
from bot.render.levels import levels_chart, levels_embed
from bot.render.liquidations import liquidations_chart, liquidations_embed
from bot.render.why import why_embed
from bot.replies import reply_error
from bot.services import MarketService
from bot.services.levels import LevelsService
from bot.services.liquidations import LiquidationsService
from bot.services.why import WhyService

Kind = Literal["why", "liq", "lvl"]
DEFAULT_WINDOW = "24h"  # /why's default window (the command's own default)
PREFIX = "tapewatch:ctl"
TEMPLATE = (
    PREFIX + r":(?P<action>1h|4h|24h|7d|chart|why|liq|lvl|del):(?P<kind>why|liq|lvl)(?P<chart>\+)?"
    r":(?P<coin>\*|[A-Z0-9]{1,20}):(?P<window>1h|4h|24h|7d|30d|-):(?P<author>[0-9]{1,20})"
)


class AnswerServices(Protocol):
    """What the controls read (the app's ``Services``), named here so this layer needs no app."""

    market: MarketService
    why: WhyService
    liquidations: LiquidationsService
    levels: LevelsService
    charts: ChartRenderer


@dataclass(frozen=True)
class Shown:
    """What a message shows, and for whom: all a button press needs to answer."""

    kind: Kind
    coin: str | None  # a tracked symbol, or None for the market / all coins
    window: str | None  # None: the answer's own default (/liquidations: several windows)
    author: int
    chart: bool = False  # /why with its chart attached

    def custom_id(self, action: Action) -> str:
        return (
            f"{PREFIX}:{action}:{self.kind}{'+' if self.chart else ''}:{self.coin or '*'}:"
            f"{self.window or '-'}:{self.author}"
        )

    def after(self, action: Action) -> Shown:
        """What the message shows once ``action`` is pressed (delete aside)."""
        if action in WINDOWS:
            return replace(self, window=action)
        if action == "chart":
            return replace(self, chart=True)
        if action == "why":
            window = self.window if self.window in WINDOWS else DEFAULT_WINDOW
            return Shown("why", self.coin, window, self.author)
        if action == "liq":
            return Shown("liq", self.coin, self.window if self.kind == "why" else None, self.author)
        return Shown("lvl", self.coin, None, self.author)


def actions(shown: Shown, *, deletable: bool) -> list[list[Action]]:
    """The buttons of a message, row by row: the windows, then chart, cross-links and delete."""
    rows: list[list[Action]] = []
    if shown.kind in ("why", "liq"):
        rows.append(list(WINDOWS))
    second: list[Action] = []
    if shown.kind == "why":
        second.append("chart")
    if shown.kind != "why":
        second.append("why")
    if shown.kind != "lvl" and shown.coin is not None:
        second.append("lvl")
    if shown.kind != "liq":
        second.append("liq")
    if deletable:
        second.append("del")
    rows.append(second)
    return rows


class ControlButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=TEMPLATE):
    """One reply control; its state is its ``custom_id``."""

    def __init__(self, shown: Shown, action: Action, *, row: int = 0) -> None:
        self.shown = shown
        self.action = action
        label, emoji = LABELS[action]
        current = (action in WINDOWS and action == shown.window) or (action == "chart" and shown.chart)
        style = discord.ButtonStyle.danger if action == "del" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(
                label=label,
                emoji=emoji,
                style=discord.ButtonStyle.primary if current else style,
                disabled=current,  # what the message shows already: selected, not pressable
                custom_id=shown.custom_id(action),
                row=row,
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ControlButton:
        window = None if match["window"] == "-" else match["window"]
        shown = Shown(
            kind=match["kind"],  # type: ignore[arg-type]  # the template admits only Kinds
            coin=None if match["coin"] == "*" else match["coin"],
            window=window,
            author=int(match["author"]),
            chart=bool(match["chart"]),
        )
        return cls(shown, match["action"])  # type: ignore[arg-type]  # the template admits only Actions

    async def interaction_check(self, interaction: discord.Interaction[Any]) -> bool:
        return not expired(interaction)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        try:
            await press(interaction, self.shown, self.action)
        except Exception as exc:
            await reply_error(interaction, exc, what=f"control {self.custom_id}")


def controls_view(shown: Shown, *, deletable: bool = True) -> discord.ui.View:
    """The message's buttons. The view is stopped before it is sent: presses are answered by
    :class:`ControlButton`'s registration, so discord.py need not keep every message's view."""
    view = discord.ui.View(timeout=None)
    for row, line in enumerate(actions(shown, deletable=deletable)):
        for action in line:
            view.add_item(ControlButton(shown, action, row=row))
    view.stop()
    return view


async def press(interaction: discord.Interaction[Any], shown: Shown, action: Action) -> None:
    """Answer a press: in place for the message's author, a private copy for anyone else."""
    services: AnswerServices | None = getattr(interaction.client, "services", None)
    if services is None:
        raise UserFacingError(CANNOT_ANSWER)
    mine = interaction.user.id == shown.author
    if action == "del":
        if not mine:
            raise UserFacingError(NOT_YOURS_DELETE)
        await delete_in_place(interaction)
        return
    target = shown.after(action)
    if mine:
        message = interaction.message
        private = bool(message is not None and message.flags.ephemeral)
        await answer(interaction, services, target, in_place=True, deletable=not private)
    else:
        mine_now = replace(target, author=interaction.user.id)
        await answer(interaction, services, mine_now, ephemeral=True, deletable=False)


@dataclass
class Prepared:
    """An answer ready to send: its embed, what it shows (the window resolved) and, when it has
    one, the chart still to draw."""

    embed: discord.Embed
    shown: Shown
    chart: ChartSpec | None = None
    chart_key: str = ""
    filename: str = "chart.png"


async def prepare(services: AnswerServices, shown: Shown, guild_id: int | None = None) -> Prepared:
    """Read the answer ``shown`` names (through the answer cache) and render its embed; a window
    not given is the server's default (``/settings``), the majors line its shortlist."""
    coin = services.market.resolve(shown.coin) if shown.coin else None
    guilds = services.market.guilds
    if shown.kind == "why":
        window = await guilds.window(guild_id, shown.window) or DEFAULT_WINDOW
        shown = replace(shown, window=window)
        answer = await services.why.why(coin, window, majors=await guilds.majors(guild_id))
        embed = why_embed(answer)
        if not shown.chart:
            return Prepared(embed, shown)
        view = await services.liquidations.liquidations(coin, window)
        spec = liquidations_chart(view)
        if spec is None and len(embed.fields) < 25:
            embed.add_field(name=NO_CHART[0], value=NO_CHART[1], inline=False)
        return _with_chart(embed, shown, spec, f"liq:{shown.coin}:{window}", view.now)
    if shown.kind == "liq":
        shown = replace(shown, window=await guilds.window(guild_id, shown.window, fallback=None))
        liq = await services.liquidations.liquidations(coin, shown.window)
        return _with_chart(
            liquidations_embed(liq),
            shown,
            liquidations_chart(liq),
            f"liq:{shown.coin}:{shown.window}",
            liq.now,
        )
    if coin is None:
        raise UserFacingError(LEVELS_NEED_A_COIN)
    levels = await services.levels.levels(coin)
    if not levels.hourly:
        return Prepared(levels_embed(levels), shown)
    return _with_chart(
        levels_embed(levels),
        shown,
        levels_chart(levels),
        f"levels:{levels.coin}",
        levels.now,
        name="levels.png",
    )


def _with_chart(
    embed: discord.Embed,
    shown: Shown,
    spec: ChartSpec | None,
    key: str,
    now: datetime,
    *,
    name: str = "liquidations.png",
) -> Prepared:
    """The embed showing its chart, still to be drawn (cached per subject, window and minute)."""
    if spec is None:
        return Prepared(embed, shown)
    embed.set_image(url=f"attachment://{name}")
    return Prepared(embed, shown, spec, f"{key}:{now:%Y%m%d%H%M}", name)


async def answer(
    interaction: discord.Interaction[Any],
    services: AnswerServices,
    shown: Shown,
    *,
    in_place: bool = False,
    ephemeral: bool = False,
    deletable: bool = True,
) -> None:
    """Send (or, ``in_place``, edit to) the answer ``shown`` names with its controls, within
    Discord's deadline: a cached answer replies at once, the rest defer first, and a chart is
    always drawn after the acknowledgement."""
    ready = await within_deadline(
        interaction, prepare(services, shown, interaction.guild_id), ephemeral=ephemeral, update=in_place
    )
    file = None
    if ready.chart is not None:
        await acknowledge(interaction, ephemeral=ephemeral, update=in_place)
        png = await services.charts.render(ready.chart, ready.chart_key)
        file = discord.File(io.BytesIO(png), filename=ready.filename)
    view = controls_view(ready.shown, deletable=deletable and not ephemeral)
    if in_place:
        await edit_in_place(interaction, embed=ready.embed, file=file, view=view)
    else:
        await send(interaction, embed=ready.embed, file=file, view=view, ephemeral=ephemeral)
