"""Shared test helpers: sample payloads, a loopback fake exchange, and a bot wired to a store."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from aiohttp import web

from bot.fake_gateway import serve_loopback
from bot.store.alerts import SubscriptionRow

if TYPE_CHECKING:
    from bot.app import App

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "samples"


def sample(relpath: str) -> Any:
    """A recorded real payload (copied from ../shared/samples so CI needs only this repo)."""
    return json.loads((SAMPLES / relpath).read_text())


def documented_shape(relpath: str) -> Any:
    """A payload written in an endpoint's documented shape (no recorded sample exists)."""
    return json.loads((FIXTURES / "documented-shape" / relpath).read_text())


Route = Callable[[web.Request], Any]


class FakeExchange:
    """Recorded payloads served on 127.0.0.1; ``routes`` maps a path to a sample or a callable
    returning (status, body) so a test can inject faults."""

    def __init__(self, routes: dict[str, Any]) -> None:
        self.routes = routes
        self.hits: list[str] = []
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        self._runner, port = await serve_loopback(self._handle)
        self.url = f"http://127.0.0.1:{port}"
        return self.url

    async def close(self) -> None:
        if self._runner:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.Response:
        self.hits.append(request.path)
        route = self.routes.get(request.path)
        if route is None:
            return web.json_response({"msg": "not found"}, status=404)
        status, body = route(request) if callable(route) else (200, route)
        return web.Response(
            status=status,
            text=body if isinstance(body, str) else json.dumps(body),
            content_type="application/json",
        )


def every_venue_at(url: str) -> dict[str, dict[str, str]]:
    """Provider settings pointing every REST base URL at one loopback fake (no test may reach
    the internet, even for venues it does not serve)."""
    return {
        "binance": {"spot_url": url, "futures_url": url},
        "bybit": {"rest_url": url},
        "okx": {"rest_url": url},
        "coingecko": {"rest_url": f"{url}/api/v3"},
        "yahoo": {"rest_url": url},
        "fred": {"rest_url": url},
        "alternative": {"rest_url": url},
    }


BINANCE_ROUTES = {
    "/api/v3/ticker/24hr": lambda _r: (200, _spot_with_usdt_pairs()),
    "/fapi/v1/ticker/24hr": sample("binance-usdm/ticker-24hr-all-symbols.json"),
}


def _spot_with_usdt_pairs() -> list[dict[str, Any]]:
    """The spot sample holds BNBBTC only; the same recorded row re-keyed to tracked symbols
    gives the parser its real shape for coins we track."""
    row = sample("binance-spot/ticker-24hr.json")
    return [{**row, "symbol": "BTCUSDT"}, {**row, "symbol": "ETHUSDT", "lastPrice": "3012.50000000"}]


def open_scenario(name: str) -> Iterator[App]:
    """A bundled scenario's app on a store of its own, every venue pointed at a closed port (a
    fixture body: ``yield from open_scenario("selloff")``)."""
    import tempfile

    from bot.app import scenario_app
    from bot.scenarios import bundled
    from bot.settings import load_settings

    settings = load_settings(providers=every_venue_at("http://127.0.0.1:9"))
    with tempfile.TemporaryDirectory() as workdir:
        app = scenario_app(settings, Path(bundled()[name]), Path(workdir))
        try:
            yield app
        finally:
            app.close()


def subscription_row(
    guild_id: int, channel_id: int, at: datetime, rules: list[str] | None = None
) -> SubscriptionRow:
    """A stored alert subscription with every optional field empty (for store-level tests)."""
    return SubscriptionRow(
        guild_id=guild_id,
        channel_id=channel_id,
        coins=[],
        rules=list(rules or []),
        thresholds={},
        role_id=None,
        created_by=None,
        created_at=at,
        updated_at=at,
        muted_until=None,
        disabled_reason=None,
        disabled_at=None,
        last_alert_at=None,
        alerts_sent=0,
    )


def as_foreground_job() -> None:
    """``preexec_fn`` of a process a test stops with SIGINT, as Ctrl-C at a terminal would: a
    suite run as a background job (``./dev test &``) hands its children SIGINT ignored, and
    Python keeps ignoring it, as a program started with ``&`` should."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
