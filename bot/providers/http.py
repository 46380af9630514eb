"""The one HTTP layer every provider uses.

Timeouts, retries with exponential backoff and jitter on timeouts and 5xx, ``Retry-After`` on
429/418, and a per-venue request budget, so that no provider re-implements them and a test can
swap the transport (``httpx.MockTransport``) or the sleep.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from bot.settings import HttpSettings

log = logging.getLogger(__name__)

Sleep = Callable[[float], Awaitable[None]]


class ProviderError(Exception):
    """A source could not give a usable answer; carries the source name for logs and health."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class TransientError(ProviderError):
    """Worth retrying: a timeout, a connection error, a 5xx, or a 429/418 with its wait."""

    def __init__(
        self, source: str, reason: str, retry_after: float | None = None, *, unreachable: bool = False
    ) -> None:
        super().__init__(source, reason)
        self.retry_after = retry_after
        self.unreachable = unreachable  # no connection at all (DNS, refused), not a slow or busy venue


class GeoBlocked(ProviderError):
    """HTTP 451/403: the venue refuses this IP; retrying will not help, use the fallback."""


class BadPayload(ProviderError):
    """The body is not the JSON we know: malformed, drifted, or with absurd values."""


def _retry_after(response: httpx.Response) -> float | None:
    raw = response.headers.get("Retry-After")
    if raw is None:
        return None
    try:
        return max(0.0, float(raw))
    except ValueError:
        return None


class HttpClient:
    """Owns the connection pool; hands out one :class:`VenueClient` per source."""

    def __init__(
        self,
        settings: HttpSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.timeout_seconds),
            transport=transport,
            headers={"User-Agent": "tapewatch/0.1 (+https://github.com/tapewatch)"},
            follow_redirects=False,
        )

    def venue(self, source: str, base_url: str, requests_per_minute: int) -> VenueClient:
        return VenueClient(self, source, base_url, requests_per_minute)

    async def aclose(self) -> None:
        await self._client.aclose()

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


class VenueClient:
    """GETs JSON (or text) from one source within its request budget."""

    def __init__(self, http: HttpClient, source: str, base_url: str, requests_per_minute: int) -> None:
        self.http = http
        self.source = source
        self.base_url = base_url.rstrip("/")
        # A bucket of a tenth of the minute's budget refilled continuously: bursts stay polite.
        per_second = requests_per_minute / 60.0
        self._limiter = AsyncLimiter(max(1.0, per_second * 6), 6.0)
        self.requests = 0  # counted for the benchmark "requests per refresh cycle"

    async def get_json(self, path: str, params: dict[str, Any] | None = None) -> Any:
        return await self._get(path, params, text=False)

    async def get_text(self, path: str, params: dict[str, Any] | None = None) -> str:
        """The body as text (a CSV download): same budget, retries and status handling."""
        return str(await self._get(path, params, text=True))

    async def _get(self, path: str, params: dict[str, Any] | None, *, text: bool) -> Any:
        settings = self.http.settings

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            if isinstance(exc, TransientError) and exc.retry_after is not None:
                return min(exc.retry_after, settings.backoff_max_seconds)
            return float(
                wait_exponential_jitter(
                    multiplier=settings.backoff_base_seconds,
                    max=settings.backoff_max_seconds,
                    jitter=settings.backoff_base_seconds,
                )(state)
            )

        retrying = AsyncRetrying(
            stop=stop_after_attempt(settings.retries + 1),
            wait=wait,
            # an unreachable host (DNS failure, connection refused) fails at once: retrying only
            # makes an offline first run wait in silence
            retry=retry_if_exception(lambda e: isinstance(e, TransientError) and not e.unreachable),
            sleep=self.http._sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                return await self._get_once(path, params, text)
        raise AssertionError("unreachable")  # pragma: no cover - tenacity reraises

    async def _get_once(self, path: str, params: dict[str, Any] | None, text: bool = False) -> Any:
        url = f"{self.base_url}{path}"
        async with self._limiter:
            self.requests += 1
            try:
                response = await self.http._client.get(url, params=params)
            except httpx.TimeoutException as exc:
                raise TransientError(self.source, f"timeout on {path}") from exc
            except httpx.ConnectError as exc:
                raise TransientError(
                    self.source, f"cannot connect ({exc}) on {path}", unreachable=True
                ) from exc
            except httpx.TransportError as exc:
                raise TransientError(self.source, f"{type(exc).__name__} on {path}") from exc
        status = response.status_code
        if status in (429, 418):
            raise TransientError(
                self.source, f"HTTP {status} (rate limited) on {path}", _retry_after(response)
            )
        if status in (451, 403):
            raise GeoBlocked(self.source, f"HTTP {status}: access from this location is refused")
        if status >= 500:
            raise TransientError(self.source, f"HTTP {status} on {path}", _retry_after(response))
        if status >= 400:
            raise ProviderError(self.source, f"HTTP {status} on {path}: {response.text[:200]}")
        if text:
            return response.text
        try:
            return response.json()
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise BadPayload(self.source, f"malformed JSON from {path}") from exc
