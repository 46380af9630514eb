"""The metrics store: one SQLite file the collectors write and the commands read."""

from bot.store.db import AsyncStore, Store

__all__ = ["AsyncStore", "Store"]
