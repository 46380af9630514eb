"""Dropping events already seen: a venue resends events after a reconnect."""

from __future__ import annotations

from collections import OrderedDict


class RecentIds:
    """A bounded set of recently seen ids (oldest forgotten first)."""

    def __init__(self, maxlen: int) -> None:
        self.maxlen = maxlen
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, key: object) -> bool:
        return key in self._ids

    def add(self, key: str) -> bool:
        """Remember ``key``; True when it was not already known."""
        if key in self._ids:
            self._ids.move_to_end(key)
            return False
        self._ids[key] = None
        if len(self._ids) > self.maxlen:
            self._ids.popitem(last=False)
        return True
