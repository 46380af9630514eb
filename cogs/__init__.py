"""Slash commands, one cog per topic; each cog parses, asks a service, renders."""
