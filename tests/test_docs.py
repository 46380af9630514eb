"""The README stays true: every setting (and its default) is in its settings table."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel

from bot.settings import Settings

README = (Path(__file__).parents[1] / "README.md").read_text()


def setting_keys(model: type[BaseModel], prefix: str = "") -> list[tuple[str, Any]]:
    keys: list[tuple[str, Any]] = []
    for name, field in model.model_fields.items():
        if name == "discord_token":
            continue
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            keys += setting_keys(annotation, f"{prefix}{name}.")
        else:
            keys.append((f"{prefix}{name}", field.default))
    return keys


def test_every_setting_is_documented_with_its_default() -> None:
    for key, default in setting_keys(Settings):
        row = next((line for line in README.splitlines() if line.startswith(f"| `{key}` |")), None)
        assert row is not None, f"setting {key} missing from the README's settings table"
        if isinstance(default, bool | int | float | str) and key != "coins":
            shown = str(default).lower() if isinstance(default, bool) else str(default) or '""'  # empty: ""
            assert f"`{shown}`" in row, f"README default for {key} should be {shown}"


def test_token_is_documented() -> None:
    assert "| `DISCORD_TOKEN` (env only) |" in README
