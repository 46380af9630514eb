from __future__ import annotations

import pytest

from bot.cli import main


def test_run_without_token_exits_2_with_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["run"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("DISCORD_TOKEN is not set")


def test_bad_config_never_echoes_the_token(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "MTIz.secret-token-value.xyz")
    monkeypatch.setenv("TAPEWATCH_HTTP__TIMEOUT_SECONDS", "-1")
    assert main(["run"]) == 2
    out = capsys.readouterr()
    assert "config error: http.timeout_seconds" in out.err
    assert "secret-token-value" not in out.err + out.out


def test_ask_rejects_unknown_command(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", f"{tmp_path}/s.db", "ask", "/nope"]) == 2
    assert "unknown command /nope" in capsys.readouterr().err


def test_ask_prints_readable_text(tmp_path: object, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--db", f"{tmp_path}/s.db", "ask", "/status"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Tapewatch status")
    assert "(only you can see this)" in out


def test_shard_options_are_checked_in_one_line() -> None:
    from bot.cli_run import UsageError, parse_shards

    assert parse_shards(None, None) is None
    assert parse_shards(4, None) == (4, [0, 1, 2, 3])
    assert parse_shards(8, "0-2,5") == (8, [0, 1, 2, 5])
    for count, ids, message in (
        (2, "2", "each from 0 to 1"),
        (2, "x", "use ranges and numbers"),
        (0, None, "from 1 to 4096"),
        (None, "0", "needs --shard-count"),
    ):
        with pytest.raises(UsageError, match=message):
            parse_shards(count, ids)
