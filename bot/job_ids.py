"""The scheduler's job ids that several layers name (the collector registers them; alerts, the
watch job and the answer warm-up run after them)."""

TICKERS_JOB = "refresh-tickers"
