"""Market-data sources: one module per venue over the shared HTTP layer in ``http``."""
