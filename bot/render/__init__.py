"""Rendering: findings in, Discord embeds / console text / charts out. No market facts are
computed here; every number shown is formatted from the finding that carries it."""
