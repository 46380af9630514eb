"""Prose lives in ``bot/render`` only: an AST walk over ``bot/analysis`` that fails when it
builds an English sentence — a string or f-string with two words or more — that could end up
in a finding's field or a reason.

Left out, as they are no answer's words: docstrings, ``raise`` messages (the developer's),
logging calls, the members of ``Literal`` types (codes such as a regime label, used as data
and named by the renderer) and the proper names in :data:`NAMES` (a macro series' name, like a
coin's symbol, is what it is called, not a sentence). Without these, the check flags each of the
44 sentences analysis used to build before the findings carried :class:`Caveat` records
(see ``test_the_walk_flags_a_sentence_in_a_finding``).

``bot/services`` is not walked: it may word the bad-input messages it raises from several
parts (e.g. the /settings checks), which this walk cannot tell from a finding's words.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCANNED = ("bot/analysis",)
# (module path, name of the module-level dict whose values are proper names)
NAMES = {("bot/analysis/macro.py", "SERIES_NAMES")}
# two words of two letters or more, separated by white space: "no data", "US dollar index"
SENTENCE = re.compile(r"[A-Za-z]{2,}\S*\s+\S*[A-Za-z]{2,}")
LOGGERS = {"log", "logger", "logging"}


def _is_literal(n: ast.AST) -> bool:
    return isinstance(n, ast.Subscript) and ast.unparse(n.value) in ("Literal", "typing.Literal")


def _is_log_call(n: ast.AST) -> bool:
    return (
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and isinstance(n.func.value, ast.Name)
        and n.func.value.id in LOGGERS
    )


def _literal_members(tree: ast.AST) -> set[str]:
    return {
        c.value
        for n in ast.walk(tree)
        if _is_literal(n)
        for c in ast.walk(n.slice)  # type: ignore[attr-defined]
        if isinstance(c, ast.Constant) and isinstance(c.value, str)
    }


def _exempt(tree: ast.Module, path: str) -> set[int]:
    """Nodes whose strings are not an answer's words (see the module docstring)."""
    out: set[int] = set()
    for n in ast.walk(tree):
        if isinstance(n, ast.Expr) and isinstance(n.value, ast.Constant):  # docstrings, bare strings
            out.add(id(n.value))
        elif isinstance(n, ast.Raise) or _is_literal(n) or _is_log_call(n):
            out.update(id(x) for x in ast.walk(n))
        elif isinstance(n, ast.Assign | ast.AnnAssign) and n.value is not None:
            targets = n.targets if isinstance(n, ast.Assign) else [n.target]
            if any(isinstance(t, ast.Name) and (path, t.id) in NAMES for t in targets):
                out.update(id(x) for x in ast.walk(n.value))
    return out


def _is_sentence(n: ast.AST, allowed: frozenset[str]) -> bool:
    return (
        isinstance(n, ast.Constant)
        and isinstance(n.value, str)
        and n.value not in allowed
        and SENTENCE.search(n.value) is not None
    )


def sentences(source: str, path: str = "", codes: frozenset[str] = frozenset()) -> list[str]:
    """The sentences ``source`` builds, as ``line: code`` (see the module docstring)."""
    tree = ast.parse(source)
    skip = _exempt(tree, path)
    allowed = codes | frozenset(_literal_members(tree))
    found: list[str] = []
    for n in ast.walk(tree):
        if id(n) in skip:
            continue
        if isinstance(n, ast.JoinedStr):
            skip.update(id(x) for x in ast.walk(n))  # its parts are judged with it
            words = " ".join(
                v.value for v in n.values if isinstance(v, ast.Constant) and isinstance(v.value, str)
            )
            if SENTENCE.search(words):
                found.append(f"{n.lineno}: {ast.unparse(n)}")
        elif _is_sentence(n, allowed):
            found.append(f"{n.lineno}: {n.value!r}")  # type: ignore[attr-defined]
    return found


def _files() -> list[Path]:
    return sorted(p for d in SCANNED for p in (ROOT / d).rglob("*.py"))


def test_analysis_builds_no_sentences() -> None:
    # codes declared anywhere in analysis (e.g. a RegimeLabel) may be used as data everywhere
    codes = frozenset(
        m for p in (ROOT / "bot/analysis").rglob("*.py") for m in _literal_members(ast.parse(p.read_text()))
    )
    wrong = [
        f"{rel}:{hit}"
        for p in _files()
        for rel in [p.relative_to(ROOT).as_posix()]
        for hit in sentences(p.read_text(encoding="utf-8"), rel, codes)
    ]
    assert wrong == [], "prose belongs in bot/render (return a code and its numbers):\n" + "\n".join(wrong)


def test_the_walk_flags_a_sentence_in_a_finding() -> None:
    source = """
def f(coin: str, n: int) -> Finding:
    notes = [f"no aligned bars {n} before the latest"]
    return Finding(insufficient=f"no liquidation data for {coin}", notes=tuple(notes), why="no peer moves")
"""
    assert sorted(hit.split(":")[0] for hit in sentences(source)) == ["3", "4", "4"]


def test_the_walk_leaves_codes_names_and_developer_text_alone() -> None:
    source = '''
"""A module docstring with words."""
from typing import Literal
Label = Literal["new longs", "spot-led selling"]
SERIES_NAMES = {"spx": "S&P 500", "dxy": "US dollar index"}


def f(x: float) -> str:
    """Says why, in words."""
    if x < 0:
        raise ValueError(f"x must be positive, got {x}")
    log.warning("the cache failed for %s", x)
    label: Label = "new longs"
    return f"{x}d" if label.startswith("spot-led") else f"{x} {label}"
'''
    assert sentences(source, "m.py") == ["5: 'US dollar index'"]  # a name outside NAMES is flagged
    assert sentences(source, "bot/analysis/macro.py") == []
