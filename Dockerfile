# Tapewatch: the Discord bot with its scheduler and liquidation streams.
# Build: docker build -t tapewatch .   Run: docker run -e DISCORD_TOKEN -v tapewatch-data:/data tapewatch
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TAPEWATCH_DB=/data/tapewatch.db \
    TAPEWATCH_CONFIG=/app/config/tapewatch.toml \
    MPLCONFIGDIR=/tmp/matplotlib

WORKDIR /app
# Dependencies first, from the lock file (pinned, with hashes): this layer is rebuilt only when
# the lock changes, not on every code change.
COPY requirements.lock ./
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY bot ./bot
COPY cogs ./cogs
COPY config ./config
RUN pip install --no-cache-dir --no-deps . \
    && groupadd --gid 10001 tapewatch \
    && useradd --create-home --uid 10001 --gid 10001 tapewatch \
    && mkdir -p /data \
    && chown 10001:10001 /data

USER 10001:10001
VOLUME ["/data"]
# Unhealthy when no collector job has run (or none succeeded) for 3 ticker intervals, or the
# Discord gateway heartbeat is over 5 minutes old.
HEALTHCHECK --interval=60s --timeout=10s --start-period=120s --retries=3 CMD ["tapewatch", "health", "--require-gateway"]
# docker stop sends SIGTERM: the bot flushes buffered liquidations, closes its stream sessions
# and stops the scheduler, as on Ctrl-C.
STOPSIGNAL SIGTERM
CMD ["tapewatch", "run"]
