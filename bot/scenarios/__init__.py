"""Scenario files: a pinned market state that can be loaded into a store, replayed, and exported
back from a real store. The bundled samples live in ``config/scenarios/`` (built by
``python -m tools.generate_scenarios``); answers drawn from them must be labelled sample data."""

from bot.scenarios.export import dumps_scenario, export_scenario, write_scenario
from bot.scenarios.load import (
    SAMPLE_DATA,
    ScenarioError,
    apply_scenario,
    is_sample_store,
    load_scenario,
    parse_scenario,
)
from bot.scenarios.model import Scenario, format_relative, format_time, resolve_time, schema_json
from bot.settings import PROJECT_ROOT

SCENARIO_DIR = PROJECT_ROOT / "config" / "scenarios"
"""Where the bundled scenarios live."""


def bundled() -> dict[str, str]:
    """Bundled scenario names → file paths (``.json`` or ``.json.gz``), for a demo to offer."""
    found: dict[str, str] = {}
    for path in sorted(SCENARIO_DIR.glob("*.json*")):
        name = path.name.removesuffix(".gz").removesuffix(".json")
        if name != "schema":
            found[name] = str(path)
    return found


__all__ = [
    "SAMPLE_DATA",
    "SCENARIO_DIR",
    "Scenario",
    "ScenarioError",
    "apply_scenario",
    "bundled",
    "dumps_scenario",
    "export_scenario",
    "format_relative",
    "format_time",
    "is_sample_store",
    "load_scenario",
    "parse_scenario",
    "resolve_time",
    "schema_json",
    "write_scenario",
]
