"""Life cycle and truthfulness: SIGTERM handled like Ctrl-C, tokens redacted from every log
line, health that fails when every source fails or the gateway heartbeat is old, --version,
settings from .env."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.cli_data import gateway_mark
from bot.logs import JsonFormatter, RedactingFormatter, Redactor
from bot.settings import load_settings
from bot.store import Store
from bot.store.outbox import OutboxRow
from tests.helpers import as_foreground_job, every_venue_at

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "MTA4NzY1NDMyMTA5ODc2NTQzMg.GaBcDe.abcdefghijklmnopqrstuvwxyz0123456789AB"
INTERACTION = "aW50ZXJhY3Rpb246MTIzNDU2Nzg5MDEyMzQ1Njc4OTpzZWNyZXQ"


def _offline_env(db: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAPEWATCH_") and k != "DISCORD_TOKEN"}
    # every REST venue at a closed loopback port (every_venue_at: no venue added later is missed,
    # as alternative.me once was, sending this test's collector to the internet)
    for venue, urls in every_venue_at("http://127.0.0.1:9").items():
        for key, url in urls.items():
            env[f"TAPEWATCH_PROVIDERS__{venue.upper()}__{key.upper()}"] = url
    for key in ("BINANCE__FUTURES_WS_URL", "BYBIT__WS_URL", "OKX__WS_URL"):
        env[f"TAPEWATCH_PROVIDERS__{key}"] = "ws://127.0.0.1:9"
    env["TAPEWATCH_DB"] = str(db)
    return env


def test_redaction_covers_interaction_webhook_and_bot_tokens() -> None:
    redact = Redactor([TOKEN])
    line = (
        f"POST https://discord.com/api/v10/interactions/123456789012345678/{INTERACTION}/callback "
        f"then PATCH /webhooks/987654321098765432/{INTERACTION}/messages/@original "
        f"with Authorization: Bot {TOKEN} and a stray token {TOKEN[:-2]}xy"
    )
    out = redact(line)
    assert INTERACTION not in out
    assert TOKEN not in out
    assert TOKEN[:-2] not in out
    assert "/interactions/123456789012345678/<redacted>/callback" in out


@pytest.mark.parametrize("base", [logging.Formatter("%(message)s"), JsonFormatter()])
def test_every_level_and_the_traceback_are_redacted(base: logging.Formatter) -> None:
    formatter = RedactingFormatter(base, Redactor([TOKEN]))
    try:
        raise RuntimeError(f"failed on /webhooks/1/{INTERACTION}")
    except RuntimeError:
        record = logging.LogRecord(
            "discord.webhook.async_", logging.DEBUG, __file__, 1, "token %s", (TOKEN,), sys.exc_info()
        )
    text = formatter.format(record)
    assert TOKEN not in text
    assert INTERACTION not in text


def test_json_log_lines_parse() -> None:
    record = logging.LogRecord("tapewatch", logging.INFO, __file__, 1, "hello %s", ("world",), None)
    assert json.loads(JsonFormatter().format(record))["message"] == "hello world"


def _collect(tmp_path: Path, sig: signal.Signals) -> subprocess.CompletedProcess[str]:
    db = tmp_path / "c.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "collect"],
        cwd=ROOT,
        env=_offline_env(db),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=as_foreground_job,  # Ctrl-C reaches it, however the suite was started
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not db.exists():
        time.sleep(0.1)
    time.sleep(2.0)  # the jobs and the streams are running (and failing: nothing is reachable)
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()  # never left running: the test fails on its exit status
        out, err = proc.communicate(timeout=30)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_sigterm_stops_collect_cleanly(tmp_path: Path) -> None:
    done = _collect(tmp_path, signal.SIGTERM)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    assert "stopped (SIGTERM)" in done.stderr
    store = Store(tmp_path / "c.db")
    try:
        assert all(
            s.disconnected_at is not None for s in store.stream_sessions(datetime(2000, 1, 1, tzinfo=UTC))
        )
    finally:
        store.close()


def test_ctrl_c_on_collect_is_quiet(tmp_path: Path) -> None:
    done = _collect(tmp_path, signal.SIGINT)
    assert done.returncode == 130, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert "CancelledError" not in done.stderr


def _health_store(
    path: Path, *, ok: bool, failed: bool, gateway_age: timedelta | None, host: str | None = None
) -> None:
    store = Store(path)
    now = datetime.now(UTC)
    try:
        if ok:
            store.record_success("binance-spot", now - timedelta(seconds=5))
        if failed:
            store.record_failure("binance-spot", now - timedelta(seconds=2), "cannot connect")
            store.record_failure("bybit", now - timedelta(seconds=2), "cannot connect")
        if gateway_age is not None:
            store.beat(gateway_mark(host), now - gateway_age)
    finally:
        store.close()


@pytest.mark.parametrize(
    ("ok", "failed", "gateway", "extra", "healthy", "says"),
    [
        (True, False, None, [], True, "last collector run"),
        (False, True, None, [], False, "every source is failing"),
        (True, False, timedelta(minutes=30), [], False, "gateway heartbeat"),
        (True, False, timedelta(seconds=10), ["--require-gateway"], True, "gateway heartbeat"),
        (True, False, None, ["--require-gateway"], False, "no Discord gateway heartbeat"),
    ],
)
def test_health_is_truthful(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    ok: bool,
    failed: bool,
    gateway: timedelta | None,
    extra: list[str],
    healthy: bool,
    says: str,
) -> None:
    db = tmp_path / "h.db"
    _health_store(db, ok=ok, failed=failed, gateway_age=gateway)
    assert main(["--db", str(db), "health", *extra]) == (0 if healthy else 1)
    assert says in capsys.readouterr().out
    assert main(["--db", str(db), "health", "--json", *extra]) == (0 if healthy else 1)
    verdict = json.loads(capsys.readouterr().out)
    assert verdict["healthy"] is healthy


@pytest.mark.parametrize(("age", "healthy"), [(timedelta(seconds=20), True), (timedelta(minutes=6), False)])
def test_health_says_when_alert_messages_wait(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], age: timedelta, healthy: bool
) -> None:
    db = tmp_path / "h.db"
    _health_store(db, ok=True, failed=False, gateway_age=None)
    store = Store(db)
    at = datetime.now(UTC) - age
    try:
        rows = [
            OutboxRow(
                guild_id=1,
                channel_id=2,
                kind="alerts",
                nonce=f"n{k}",
                body="{}",
                alerts=1,
                created_at=at,
                expires_at=at + timedelta(minutes=15),
            )
            for k in range(2)
        ]
        store.queue_outbox(rows)
    finally:
        store.close()
    assert main(["--db", str(db), "health"]) == (0 if healthy else 1)
    out = capsys.readouterr().out
    assert "2 alert messages waiting to be posted, the oldest " in out
    assert ("is a bot process connected" in out) is not healthy


def test_a_shard_containers_health_is_its_own_gateway(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Two bot processes on one shared store, each in its own container (host): another
    container's heartbeat does not make this one's bot healthy."""
    db = tmp_path / "h.db"
    _health_store(db, ok=True, failed=False, gateway_age=timedelta(seconds=10), host="bot-1-container")
    assert main(["--db", str(db), "health", "--require-gateway"]) == 1
    assert "no Discord gateway heartbeat from this host" in capsys.readouterr().out
    assert main(["--db", str(db), "health"]) == 0  # a store-wide check: some bot is connected
    assert "gateway heartbeat 10 s ago" in capsys.readouterr().out
    store = Store(db)
    try:
        store.beat(gateway_mark(), datetime.now(UTC) - timedelta(minutes=30))  # this host's: stale
    finally:
        store.close()
    assert main(["--db", str(db), "health", "--require-gateway"]) == 1
    assert "s old (limit 300 s)" in capsys.readouterr().out


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.startswith("tapewatch ")


def test_dotenv_is_read_and_foreign_keys_ignored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        f"DISCORD_TOKEN={TOKEN}\nCOMPOSE_PROJECT_NAME=x\nTAPEWATCH_LOG_FORMAT=json\n"
    )
    settings = load_settings(ROOT / "config" / "tapewatch.toml")
    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == TOKEN
    assert settings.log_format == "json"
    assert TOKEN not in repr(settings)


def test_the_license_and_the_lock_files_exist() -> None:
    assert (ROOT / "LICENSE").read_text().startswith("MIT License")
    lock = (ROOT / "requirements.lock").read_text()
    assert "aiohttp==" in lock
    assert "--hash=sha256:" in lock


async def test_an_unreachable_host_is_not_retried() -> None:
    """DNS failure or connection refused: one attempt, no backoff sleeps (an offline first run
    reaches the sample scenario in seconds, not after every retry)."""
    import httpx

    from bot.providers.http import HttpClient, TransientError
    from bot.settings import HttpSettings

    attempts = 0
    sleeps: list[float] = []

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("[Errno -2] Name or service not known", request=request)

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    http = HttpClient(HttpSettings(retries=3), transport=httpx.MockTransport(refuse), sleep=sleep)
    try:
        with pytest.raises(TransientError) as exc:
            await http.venue("binance", "https://example.invalid", 1200).get_json("/x")
    finally:
        await http.aclose()
    assert exc.value.unreachable
    assert attempts == 1
    assert sleeps == []
