"""Fuzzing the command path: hypothesis-generated invocations of every slash command in the
tree (walked, so a new command is fuzzed without editing this file), typed as a user would and
run through the real :class:`OfflineSession` (discord.py's own interaction parsing, option
conversion, cogs, services and error handler) against a store holding the bundled "selloff"
market state.

Inputs: coin strings of any Unicode (control characters, bidi overrides, emoji, ``@everyone``,
role/user/channel mentions, whitespace only, empty, up to 3,000 characters — longer than
Discord's 60 allows, as ``tapewatch ask``/``console`` accept any length), every option
combination (each optional option present or not), choice options among their choices,
integers/numbers/booleans/channels within the declared bounds, and autocomplete on every
autocompleted option.

Per example (as a member with every permission, or with only the general ones): no unhandled
error (the collecting ``command_errors`` handler stays empty); every interaction is answered;
every message payload has ``allowed_mentions == {"parse": []}`` and fits Discord's limits; and
zero writes from rejected input: a rejected input (an ephemeral error reply) changes nothing in
the store (``total_changes`` and every table's row count), the read-only commands never write,
and an accepted settings command (``/alerts ...``, ``/settings ...``) may change only its own
``alert_*`` or ``guild_settings`` tables.
At the end, the market data is byte-for-byte what it was.

One session and one event loop (an :class:`asyncio.Runner` this sync test owns) serve every
example.
"""

from __future__ import annotations

import asyncio
import hashlib
import shlex
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import discord
import pytest
from discord import app_commands
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.app import App
from bot.client import TapewatchBot
from bot.fake_discord import CHANNEL_ID
from bot.offline import InvocationError, OfflineSession, message_payload, parse_invocation
from bot.render import style
from bot.store import Store
from tests.reliability.conftest import assert_no_pings

READ_ONLY = {"price", "why", "liquidations", "levels", "status"}
# the settings tables an accepted command may write; market data never
CONFIG_PREFIXES = ("alert_", "guild_settings")
FUZZ = settings(
    max_examples=70,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
T = discord.AppCommandOptionType

MENTIONS = ["@everyone", "@here", "<@&123>", "<@456>", "<@!456>", "<#789>", "<@&1300000000000000100>"]
INTERESTING = [
    *MENTIONS,
    "btc", "$ETH", "Bitcoin", "sol", "#pepe", "XBT", "BTCUSDT", "doge", "solanaa", "eth perp",
    "", " ", "\t", "\x00", "\x1b[31mred", "\u202ebtc", "\u200b", "ＢＴＣ", "🚀", "btc\neth", "'", '"', "\\",
    "coin:btc", "a" * 60, "é" * 61, "x" * 3000, "%s%n", "{coin}", "<script>", "DROP TABLE tickers;--",
]  # fmt: skip
TEXT = st.one_of(
    st.sampled_from(INTERESTING),
    st.text(max_size=60),
    st.text(min_size=61, max_size=3000),
    st.tuples(st.sampled_from(MENTIONS), st.sampled_from(["btc", " ETH", "", "x" * 50])).map("".join),
)


# -- invocations from the tree ------------------------------------------------------------------


@dataclass(frozen=True)
class Typed:
    path: tuple[str, ...]
    options: tuple[tuple[str, Any], ...]

    @property
    def text(self) -> str:
        parts = ["/" + " ".join(self.path)]
        parts += [shlex.quote(f"{name}:{_spell(value)}") for name, value in self.options]
        return " ".join(parts)


def _spell(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _value(param: app_commands.Parameter) -> st.SearchStrategy[Any]:
    if param.choices:
        return st.sampled_from([c.value for c in param.choices])
    kind = param.type
    lo, hi = param.min_value, param.max_value
    if kind is T.string:
        return TEXT
    if kind is T.integer:
        return st.integers(int(lo) if lo is not None else -(2**53), int(hi) if hi is not None else 2**53)
    if kind is T.number:
        return st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if kind is T.boolean:
        return st.booleans()
    if kind is T.channel:
        return st.integers(10**17, 2**63 - 1).map(str)  # ids travel as strings
    return st.nothing()  # user/role/attachment options: the offline parser cannot type them


def _default(param: app_commands.Parameter) -> Any:
    """A valid value for ``param``, with mentions wherever text is free."""
    if param.choices:
        return param.choices[0].value
    kind, lo = param.type, param.min_value
    if kind is T.integer:
        return int(lo if lo is not None else 1)
    if kind is T.number:
        return float(lo if lo is not None else 1)
    if kind is T.boolean:
        return True
    if kind is T.channel:
        return str(CHANNEL_ID)
    return "@everyone <@&123>"


def _commands(tree: app_commands.CommandTree[Any]) -> list[app_commands.Command[Any, ..., Any]]:
    return [c for c in tree.walk_commands() if isinstance(c, app_commands.Command)]


def invocations(tree: app_commands.CommandTree[Any]) -> st.SearchStrategy[Typed]:
    def one(cmd: app_commands.Command[Any, ..., Any]) -> st.SearchStrategy[Typed]:
        path = tuple(cmd.qualified_name.split())
        opts = []
        for p in cmd.parameters:
            value = st.tuples(st.just(p.name), _value(p))
            opts.append(value.map(lambda v: [v]) if p.required else st.just([]) | value.map(lambda v: [v]))
        return st.tuples(*opts).map(lambda chosen: Typed(path, tuple(o for group in chosen for o in group)))

    return st.one_of(*(one(c) for c in _commands(tree)))


def completions(tree: app_commands.CommandTree[Any]) -> st.SearchStrategy[tuple[Typed, str]]:
    targets = [(c, p) for c in _commands(tree) for p in c.parameters if p.autocomplete]
    assert targets, "no autocompleted option found"

    def one(cmd: app_commands.Command[Any, ..., Any], param: app_commands.Parameter) -> Any:
        path = tuple(cmd.qualified_name.split())
        others = [p for p in cmd.parameters if p.required and p.name != param.name]
        rest = st.tuples(*(st.tuples(st.just(p.name), _value(p)) for p in others))
        return st.tuples(TEXT, rest).map(
            lambda drawn: (Typed(path, ((param.name, drawn[0]), *drawn[1])), param.name)
        )

    return st.one_of(*(one(c, p) for c, p in targets))


# -- the store must not change ------------------------------------------------------------------


def tables(store: Store) -> list[str]:
    rows = store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    return [r[0] for r in rows.fetchall()]


def counts(store: Store) -> dict[str, int]:
    with store.lock:
        return {t: store.conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in tables(store)}


def digest(store: Store) -> str:
    """The content of every market-data table (settings tables excluded)."""
    h = hashlib.sha256()
    with store.lock:
        for t in tables(store):
            if t.startswith(CONFIG_PREFIXES):
                continue
            for row in sorted(map(repr, store.conn.execute(f"SELECT * FROM {t}"))):
                h.update(row.encode())
    return h.hexdigest()


def is_error_reply(payload: dict[str, Any]) -> bool:
    embeds = payload.get("embeds") or []
    return bool(payload.get("flags", 0) & 64) and any(e.get("color") == style.ERROR for e in embeds)


# -- the test -----------------------------------------------------------------------------------


class Fuzzer:
    """One logged-in session on a loop this (sync) test owns; hypothesis drives the examples."""

    def __init__(self, app: App, errors: list[BaseException]) -> None:
        self.app = app
        self.errors = errors
        self.runner = asyncio.Runner()
        self.session = OfflineSession(TapewatchBot(services=app.services))
        self.runner.run(self.session.__aenter__())
        self.store = app.store.sync
        self.changes = self.store.conn.total_changes
        self.counts = counts(self.store)
        self.digest = digest(self.store)
        self.tree = self.session.bot.tree
        self.seen: set[str] = set()

    def close(self) -> None:
        try:
            self.runner.run(self.session.__aexit__(None, None, None))
        finally:
            self.runner.close()

    def _unchanged(self, what: str) -> None:
        assert self.store.conn.total_changes == self.changes, f"{what} wrote to the store"
        assert counts(self.store) == self.counts, f"{what} changed the store"

    def command(self, typed: Typed, admin: bool = True) -> None:
        text = typed.text
        self.session.admin = admin
        try:
            invocation = parse_invocation(text, self.tree)  # the typed line means what we meant
        except InvocationError:
            # outside the option's choices or length bounds: Discord's client refuses to send
            # it, and the offline path refuses it the same way, before anything runs
            self._unchanged(f"{text!r:.200}")
            return
        sent = {o["name"]: o["value"] for o in _leaf_options(invocation.options)}
        assert sent == dict(typed.options)
        requests = self.runner.run(self.session.invoke(text))
        assert self.errors == [], f"{text!r:.200}: unhandled {self.errors!r:.500}"
        payloads = assert_no_pings(requests)
        assert payloads, f"{text!r:.200}: never answered"
        self.seen.add(" ".join(typed.path))
        rejected = any(is_error_reply(p) for p in payloads)
        if typed.path[0] in READ_ONLY or rejected:
            self._unchanged(f"{text!r:.200}")
        else:  # an accepted settings command (e.g. /alerts subscribe) may change settings only
            now = counts(self.store)
            changed = {t for t in now if now[t] != self.counts.get(t)}
            assert all(t.startswith(CONFIG_PREFIXES) for t in changed), f"{text!r:.200} changed {changed}"
            self.changes, self.counts = self.store.conn.total_changes, now

    def complete(self, typed: Typed, option: str) -> None:
        text = typed.text
        start = len(self.session.fake.requests)
        choices = self.runner.run(self.session.autocomplete(text, option))
        requests = self.session.fake.requests[start:]
        assert self.errors == [], f"autocomplete {text!r:.200}: unhandled {self.errors!r:.500}"
        assert [r.json.get("type") for r in requests if isinstance(r.json, dict)] == [8]
        assert len(choices) <= 25
        for c in choices:
            assert 1 <= len(c["name"]) <= 100, c
            assert 1 <= len(str(c["value"])) <= 100, c
        assert_no_pings(requests)
        self._unchanged(f"autocomplete {text!r:.200}")


def _leaf_options(options: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for o in options:
        if o.get("type") in (1, 2):
            yield from _leaf_options(o.get("options", []))
        else:
            yield o


@pytest.fixture
def fuzzer(selloff_app: App, command_errors: list[BaseException]) -> Iterator[Fuzzer]:
    f = Fuzzer(selloff_app, command_errors)
    try:
        yield f
    finally:
        f.close()
    assert digest(selloff_app.store.sync) == f.digest, "the store's content changed"


def test_fuzzed_commands_never_crash_ping_or_write(fuzzer: Fuzzer) -> None:
    @FUZZ
    @given(typed=invocations(fuzzer.tree), admin=st.booleans())
    def run(typed: Typed, admin: bool) -> None:
        fuzzer.command(typed, admin)

    run()
    every = {c.qualified_name for c in _commands(fuzzer.tree)}
    # hypothesis may not draw every command in a bounded run: make sure each ran at least once
    for name in sorted(every - fuzzer.seen):
        cmd = next(c for c in _commands(fuzzer.tree) if c.qualified_name == name)
        required = [p for p in cmd.parameters if p.required]
        fuzzer.command(Typed(tuple(name.split()), tuple((p.name, _default(p)) for p in required)))


def test_fuzzed_autocomplete_never_crashes(fuzzer: Fuzzer) -> None:
    @settings(FUZZ, max_examples=40)
    @given(target=completions(fuzzer.tree))
    def run(target: tuple[Typed, str]) -> None:
        fuzzer.complete(*target)

    run()


# -- found by the fuzzer: a real crash, one minimal example each --------------------------------

UNCHECKED_CHOICES = (
    "bot/offline.py _convert/parse_invocation passes a choice option's raw text through without "
    "checking it against the parameter's choices (Discord enforces choices server-side; the offline "
    "path behind `tapewatch ask`/`console` does not), so /why window:2h reaches "
    "bot/services/why.py gather() (WINDOWS[window]) and /liquidations window:2h reaches "
    "bot/services/liquidations.py gather_liquidations() (LIQ_WINDOWS[w]): KeyError, an unhandled error "
    "and 'Something went wrong' instead of a usage error"
)


def test_a_window_outside_the_choices_is_a_usage_error(fuzzer: Fuzzer) -> None:
    failed = []
    for text in ("/why window:2h", "/liquidations window:2h", "/why coin:btc window:1D"):
        try:
            requests = fuzzer.runner.run(fuzzer.session.invoke(text))
        except InvocationError:
            continue  # rejected before dispatch, as Discord would
        payloads = [message_payload(r) for r in requests if r in fuzzer.session.fake.messages()]
        if fuzzer.errors or not all(is_error_reply(p) for p in payloads):
            failed.append((text, list(fuzzer.errors)))
        fuzzer.errors.clear()
    assert failed == []
