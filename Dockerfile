# Tapewatch: the Discord bot with its scheduler. Store on the /data volume.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    TAPEWATCH_DB=/data/tapewatch.db \
    TAPEWATCH_CONFIG=/app/config/tapewatch.toml

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY cogs ./cogs
COPY config ./config
RUN pip install --no-cache-dir . \
    && useradd --create-home --uid 10001 tapewatch \
    && mkdir -p /data && chown tapewatch:tapewatch /data

USER tapewatch
VOLUME ["/data"]
CMD ["tapewatch", "run"]
