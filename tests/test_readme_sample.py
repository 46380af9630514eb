"""The README's sample of a reply with its controls is what the real code produces."""

from __future__ import annotations

import re
from pathlib import Path

from tools.readme_sample import sample

README = Path(__file__).parents[1] / "README.md"


async def test_the_readme_sample_is_generated_from_the_real_code() -> None:
    found = re.search(
        r"<!-- sample:controls -->\n```\n(.*?)\n```\n<!-- /sample:controls -->", README.read_text(), re.S
    )
    assert found is not None, "the README lost its controls sample"
    assert found.group(1) == await sample(), "run `python -m tools.readme_sample` and paste its output"
