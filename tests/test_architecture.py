"""The layering, specified: an AST walk over ``bot/`` and ``cogs/`` that fails when a module
imports up the layers or when two modules import each other (directly or round a loop).

Every import counts, a function-local one too; only imports under ``if TYPE_CHECKING:`` are
left out (they never run). The README's "Layout" section draws the same map.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("bot", "cogs")

# Layer → the module prefixes in it (the longest matching prefix wins).
LAYERS: dict[str, tuple[str, ...]] = {
    "base": (
        "bot",
        "bot.clock",
        "bot.models",
        "bot.fmt",
        "bot.errors",
        "bot.columns",
        "bot.heap",
        "bot.interactions",
        "bot.fake_discord",
        "bot.fake_gateway",
        "bot.discord_limits",
        "bot.timeparse",
        "bot.job_ids",
        "bot.progress",
    ),
    "analysis": ("bot.analysis",),
    "views": ("bot.views",),
    "config": ("bot.settings", "bot.coins", "bot.universe"),
    "providers": ("bot.providers",),
    "store": ("bot.store",),
    "streams": ("bot.streams",),
    "collector": (
        "bot.collector",
        "bot.collector_report",
        "bot.collect_progress",
        "bot.jobs",
        "bot.tracking",
    ),
    "services": ("bot.services",),
    "alerts-data": ("bot.alerts.config", "bot.alerts.messages", "bot.alerts.models"),
    "alerts": ("bot.alerts",),
    "render": ("bot.render",),
    "scenarios": ("bot.scenarios",),
    "chat": ("bot.client", "bot.controls", "bot.dispatch", "bot.offline", "bot.replies", "bot.presence"),
    "cogs": ("cogs",),
    "app": ("bot.app", "bot.background"),
    "entry": (
        "bot.cli",
        "bot.cli_run",
        "bot.cli_data",
        "bot.console",
        "bot.__main__",
        "bot.defaults",
        "bot.alerts_cli",
        "bot.store_cli",
    ),
}

# Layer → the layers it may import from (besides itself). Data flows providers/streams →
# store → services (which run the pure analysis and build the view models of ``bot.views``)
# → render (which formats view models, never asking a service) → cogs; alerts sit beside the
# services and emit data (``alerts-data``) that render formats and the chat layer posts.
ALLOWED: dict[str, set[str]] = {
    "base": set(),
    "analysis": {"base"},
    "views": {"base", "analysis"},
    "config": {"base", "analysis"},
    "providers": {"base", "config"},
    "store": {"base", "config"},
    "streams": {"base", "config", "providers", "store"},
    "collector": {"base", "config", "providers", "store", "streams"},
    "services": {"base", "config", "analysis", "views", "store"},
    "alerts-data": {"base", "config", "analysis", "views"},
    "alerts": {"base", "config", "analysis", "views", "store", "collector", "services", "alerts-data"},
    "render": {"base", "config", "analysis", "views", "alerts-data"},
    "scenarios": {"base", "config", "store"},
    "chat": {"base", "config", "analysis", "views", "services", "alerts-data", "alerts", "render"},
    "cogs": {"base", "config", "analysis", "views", "services", "alerts-data", "alerts", "render", "chat"},
    "app": {
        "base",
        "config",
        "analysis",
        "views",
        "providers",
        "store",
        "streams",
        "collector",
        "services",
        "alerts-data",
        "alerts",
        "render",
        "scenarios",
        "chat",
    },
    "entry": set(LAYERS) - {"entry"},
}


def module_files() -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = module_files()


def _type_checking_only(tree: ast.AST) -> set[int]:
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                skipped.update(id(n) for n in ast.walk(inner))
    return skipped


def _imported(node: ast.Import | ast.ImportFrom, module: str, path: Path) -> Iterator[str]:
    if isinstance(node, ast.Import):
        yield from (alias.name for alias in node.names)
        return
    if node.level:
        package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
        base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else []))
    else:
        base = node.module or ""
    yield base
    for alias in node.names:
        if f"{base}.{alias.name}" in MODULES:  # `from bot.alerts import store` imports a module
            yield f"{base}.{alias.name}"


def imports_of(module: str) -> set[str]:
    path = MODULES[module]
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_only(tree)
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in skipped:
            found.update(name for name in _imported(node, module, path) if name in MODULES and name != module)
    return found


GRAPH = {m: imports_of(m) for m in MODULES}


def layer_of(module: str) -> str:
    best, best_len = None, -1
    for layer, prefixes in LAYERS.items():
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = layer, len(prefix)
    assert best is not None, f"{module} is in no layer: add it to LAYERS"
    return best


def test_every_module_has_a_layer() -> None:
    for module in MODULES:
        layer_of(module)


def test_the_layer_map_is_acyclic() -> None:
    done: set[str] = set()

    def visit(layer: str, path: tuple[str, ...]) -> None:
        assert layer not in path, f"the layer map loops: {' → '.join((*path, layer))}"
        if layer in done:
            return
        for lower in ALLOWED[layer]:
            visit(lower, (*path, layer))
        done.add(layer)

    for layer in LAYERS:
        visit(layer, ())


def test_no_module_imports_up_the_layers() -> None:
    wrong = {
        f"{m} ({layer_of(m)}) imports {i} ({layer_of(i)})"
        for m, imported in GRAPH.items()
        for i in imported
        if layer_of(i) != layer_of(m) and layer_of(i) not in ALLOWED[layer_of(m)]
    }
    assert sorted(wrong) == []


def test_render_never_imports_a_service() -> None:
    # render formats what it is given: view models (bot.views), findings and alert messages;
    # not even a TYPE_CHECKING import of a service
    wrong = sorted(
        f"{m} imports {i}"
        for m, path in MODULES.items()
        if layer_of(m) == "render"
        for i in _all_imports(path, m)
        if i == "bot.services" or i.startswith("bot.services.")
    )
    assert wrong == []
    assert "services" not in ALLOWED["render"]
    assert "services" not in ALLOWED["alerts-data"]


def test_the_runtime_imports_no_dev_code() -> None:
    # tools/, tests/ and bench/ are not installed: the bot must never need them
    wrong = sorted(
        f"{m} imports {name}"
        for m, path in MODULES.items()
        for name in _all_imports(path, m)
        if name.split(".")[0] in ("tools", "tests", "bench")
    )
    assert wrong == []


def _all_imports(path: Path, module: str) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {
        name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import | ast.ImportFrom)
        for name in _imported(node, module, path)
    }


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def connect(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                connect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            connect(v)
    return out


def test_no_import_cycles() -> None:
    assert _cycles(GRAPH) == []


@pytest.mark.parametrize(
    ("graph", "expected"),
    [
        ({"a": {"b"}, "b": {"a"}}, [["a", "b"]]),
        ({"a": {"b"}, "b": {"c"}, "c": set()}, []),
        ({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}, [["a", "b", "c"]]),
    ],
)
def test_the_cycle_finder_finds_cycles(graph: dict[str, set[str]], expected: list[list[str]]) -> None:
    assert _cycles(graph) == expected


def test_the_walk_sees_local_imports_and_skips_type_checking_ones() -> None:
    assert "bot.interactions" in GRAPH["cogs.alerts"]  # a top-level import
    assert "bot.client" not in GRAPH["cogs.alerts"]  # only under TYPE_CHECKING there
    assert "bot.console" in GRAPH["bot.cli"]  # imported inside a function
