"""What the local commands (``ask``, ``console``) share: the bundled demo scenario and where
the charts they receive are written. Its own module so ``cli`` and ``console`` need not import
each other."""

from __future__ import annotations

from pathlib import Path

DEMO = "selloff"  # the bundled scenario `console --demo` opens
CHART_DIR = Path("charts")  # where ask and console write the charts they receive


def bundled_scenario(name: str) -> Path:
    from bot.scenarios import bundled

    return Path(bundled()[name])
