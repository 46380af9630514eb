"""Freezing the start-up heap moves what start-up built out of the collector's reach."""

from __future__ import annotations

import gc

from bot.heap import freeze_startup_heap


def test_freeze_moves_survivors_to_the_permanent_generation() -> None:
    keep = [object() for _ in range(1000)]
    try:
        frozen = freeze_startup_heap()
        assert frozen == gc.get_freeze_count()
        assert frozen >= len(keep)
    finally:
        gc.unfreeze()  # the rest of the suite collects as usual
    assert gc.get_freeze_count() == 0
