"""Tapewatch: a Discord bot that explains crypto market moves from a local metrics store."""

__version__ = "0.1.0"
