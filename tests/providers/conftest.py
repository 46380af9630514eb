"""Fixtures for the REST provider tests: recorded sample bodies, coin registries whose venue ids
match the samples' symbols, and an :class:`HttpClient` over a scripted transport whose sleeps
are recorded instead of slept."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from bot.coins import Coin, CoinRegistry
from bot.providers.http import HttpClient
from bot.settings import HttpSettings

REPO_SAMPLES = Path(__file__).resolve().parents[1] / "fixtures" / "samples"
"""Byte-for-byte copies of the samples these tests use, so CI needs only this repository."""


def load_sample(relpath: str) -> Any:
    return json.loads((REPO_SAMPLES / relpath).read_text(encoding="utf-8"))


def with_ids(registry: CoinRegistry, symbol: str, **ids: Any) -> CoinRegistry:
    """A copy of ``registry`` where ``symbol`` has other venue ids, e.g. the docs' ``BNBBTC``."""
    coins = [dataclasses.replace(c, **ids) if c.symbol == symbol else c for c in registry.coins.values()]
    return CoinRegistry(coins)


def synthetic_coins(n: int) -> list[Coin]:
    """``n`` coins with the default venue ids, for request-budget tests at 100 coins."""
    return [
        Coin(
            symbol=f"C{i:03d}",
            name=f"Coin {i}",
            coingecko=f"coin-{i}",
            binance_spot=f"C{i:03d}USDT",
            binance_perp=f"C{i:03d}USDT",
            bybit=f"C{i:03d}USDT",
            okx=f"C{i:03d}-USDT-SWAP",
        )
        for i in range(n)
    ]


@pytest.fixture
def sample() -> Callable[[str], Any]:
    return load_sample


@pytest.fixture
def registry() -> CoinRegistry:
    return CoinRegistry.load()


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def ok(body: Any) -> httpx.Response:
    return httpx.Response(200, json=body)


class FakeVenue:
    """A scripted ``httpx.MockTransport`` handler: replies by URL path, in order, the last reply
    repeating; every request is recorded."""

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests]

    def params(self, index: int = -1) -> dict[str, str]:
        return dict(self.requests[index].url.params)

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get(request.url.path)
        if not queue:
            return httpx.Response(404, json={"msg": f"no route for {request.url.path}"})
        reply = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(reply, Exception):
            raise reply
        if isinstance(reply, httpx.Response):
            return reply
        return reply(request)


@pytest.fixture
def fake() -> FakeVenue:
    return FakeVenue()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def http_settings() -> HttpSettings:
    return HttpSettings(timeout_seconds=5, retries=2, backoff_base_seconds=0.5, backoff_max_seconds=30)


@pytest.fixture
async def http(
    fake: FakeVenue, sleeps: list[float], http_settings: HttpSettings
) -> AsyncIterator[HttpClient]:
    """An HttpClient whose transport is ``fake`` and whose backoff sleeps only record the wait."""

    async def record(seconds: float) -> None:
        sleeps.append(seconds)

    async with HttpClient(http_settings, transport=httpx.MockTransport(fake.handler), sleep=record) as client:
        yield client
