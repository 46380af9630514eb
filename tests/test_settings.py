from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import ConfigError, load_settings


def test_defaults_come_from_the_toml_file() -> None:
    s = load_settings()
    assert s.providers.binance.futures_ws_url == "wss://fstream.binance.com/market"
    assert "BTC" in s.coins
    assert s.discord_token is None


def test_env_overrides_nested_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TAPEWATCH_PROVIDERS__BINANCE__SPOT_URL", "http://127.0.0.1:9999/")
    monkeypatch.setenv("TAPEWATCH_DB", "/tmp/elsewhere.db")
    s = load_settings()
    assert s.providers.binance.spot_url == "http://127.0.0.1:9999"
    assert s.db == Path("/tmp/elsewhere.db")


def test_cli_override_beats_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TAPEWATCH_DB", "/tmp/env.db")
    assert load_settings(db=tmp_path / "cli.db").db == tmp_path / "cli.db"


@pytest.mark.parametrize(
    ("key", "value", "named"),
    [
        ("TAPEWATCH_PROVIDERS__OKX__WS_URL", "https://not-a-websocket", "providers.okx.ws_url"),
        ("TAPEWATCH_JOBS__TICKERS_SECONDS", "1", "jobs.tickers_seconds"),
        ("TAPEWATCH_HTTP__RETRIES", "many", "http.retries"),
    ],
)
def test_bad_value_fails_with_one_line_naming_the_key(
    monkeypatch: pytest.MonkeyPatch, key: str, value: str, named: str
) -> None:
    monkeypatch.setenv(key, value)
    with pytest.raises(ConfigError) as err:
        load_settings()
    message = str(err.value)
    assert "\n" not in message
    assert message.startswith(f"config error: {named}:")


def test_token_from_environment_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "abc.def.ghi")
    s = load_settings()
    assert s.discord_token is not None
    assert s.discord_token.get_secret_value() == "abc.def.ghi"
    assert "abc.def.ghi" not in repr(s)
    assert "abc.def.ghi" not in s.model_dump_json()


def test_unknown_key_in_file_is_rejected(tmp_path: Path) -> None:
    cfg = tmp_path / "bad.toml"
    cfg.write_text("[jobs]\ntickers_secondz = 60\n")
    with pytest.raises(ConfigError, match=r"jobs\.tickers_secondz"):
        load_settings(cfg)


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        load_settings(tmp_path / "nope.toml")


def test_db_is_a_file_path_or_a_postgresql_url(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().db_file == Path("tapewatch.db")
    monkeypatch.setenv("TAPEWATCH_DB", "postgresql://bot:hunter2@db:5432/tapewatch")
    settings = load_settings()
    assert settings.db == "postgresql://bot:hunter2@db:5432/tapewatch"  # not mangled into a path
    assert settings.db_file is None
    assert settings.db_label == "postgresql://bot:***@db:5432/tapewatch"
    assert load_settings(db="data/x.db").db_file == Path("data/x.db")
