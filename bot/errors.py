"""The one exception type whose message is meant for the user (shown ephemerally as written)."""

from __future__ import annotations


class UserFacingError(Exception):
    """Bad input or missing data, explained in one friendly sentence. Raising it changes nothing."""
