"""Scenarios through the command line, as a user runs them: ask/console from a bundled file,
import into the store, export a state and replay it to the same answers."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import time_machine

from bot.cli import main
from bot.scenarios import bundled

SELLOFF = bundled()["selloff"]


def ask(capsys: pytest.CaptureFixture[str], *args: str) -> dict:  # type: ignore[type-arg]
    assert main([*args]) == 0
    return json.loads(capsys.readouterr().out)  # type: ignore[no-any-return]


def fields(payload: dict) -> list[dict]:  # type: ignore[type-arg]
    return payload["embeds"][0]["fields"]  # type: ignore[no-any-return]


def test_ask_from_a_scenario_is_labelled_sample_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = ask(
        capsys, "--db", str(tmp_path / "unused.db"), "ask", "--scenario", SELLOFF, "/price coin:ETH", "--json"
    )
    embed = payload["embeds"][0]
    assert embed["title"].startswith("ETH $")
    assert embed["footer"]["text"].startswith("🧪 sample data (selloff), not the live market")
    assert not (tmp_path / "unused.db").exists()  # a scenario never touches the configured store


def test_the_bundled_selloff_shows_fear_and_greed_in_why_and_status(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    payload = ask(capsys, "--db", str(tmp_path / "unused.db"), "ask", "--scenario", SELLOFF, "/why", "--json")
    context = next(f for f in fields(payload) if f["name"] == "Context")
    assert context["value"] == "Fear & Greed 19/100, Extreme Fear (alternative.me, daily; 15 h old)"
    assert main(["--db", str(tmp_path / "unused.db"), "ask", "--scenario", SELLOFF, "/status"]) == 0
    assert "Fear & Greed 19/100, Extreme Fear (alternative.me, daily; 15 h old)" in capsys.readouterr().out


def test_bad_scenario_file_is_one_line_naming_the_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"format": 1, "name": "x", "now": "2026-01-01T00:00:00Z", "coins": ["NOPE"]}))
    assert main(["ask", "--scenario", str(bad), "/status"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith(f"{bad}: coins")


def test_import_then_export_replays_to_the_same_answers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # One instant for import, export and both answers: the replay's clock stops at the export's
    # "now", so the live answers must be asked at that same instant to compare like with like.
    with time_machine.travel(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=False):
        _import_export_replay(tmp_path, capsys)


def _import_export_replay(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "live.db")
    assert main(["--db", db, "import", SELLOFF]) == 0
    assert "imported sample data (selloff)" in capsys.readouterr().out
    out = tmp_path / "captured.json.gz"
    assert main(["--db", db, "export", str(out), "--name", "captured"]) == 0
    capsys.readouterr()
    for command in ("/liquidations coin:BTC window:24h", "/levels coin:ETH", "/why coin:SOL"):
        live = ask(capsys, "--db", db, "ask", command, "--json")
        replay = ask(capsys, "ask", "--scenario", str(out), command, "--json")
        assert fields(replay) == fields(live), command
        assert live["embeds"][0]["footer"]["text"].startswith("🧪 sample data from an imported scenario")


def test_health_reports_a_stalled_scheduler(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = str(tmp_path / "h.db")
    assert main(["--db", db, "health"]) == 1
    assert "no store" in capsys.readouterr().out
    assert main(["--db", db, "import", SELLOFF]) == 0  # records source health at the current time
    capsys.readouterr()
    assert main(["--db", db, "health"]) == 0
    assert main(["--db", db, "health", "--max-age", "0"]) == 1


def test_console_demo_answers_from_piped_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("/why\n/levels coin:btc\n/nope\nquit\n"))
    monkeypatch.chdir(tmp_path)
    assert main(["--db", str(tmp_path / "c.db"), "console", "--demo"]) == 0
    out = capsys.readouterr().out
    assert "Answering from sample data (selloff)" in out
    assert "Market: BTC −6.1% in 24h: a long liquidation cascade" in out
    assert "[chart: charts/levels-1.png]" in out
    assert (tmp_path / "charts" / "levels-1.png").read_bytes().startswith(b"\x89PNG")
    assert "error: unknown command /nope" in out


def test_export_carries_the_tracked_set(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A store whose tracked set follows the market exports that set's registry coins beside the
    config's (a coin outside config/coins.toml is named as left out: its scenario would not load)."""
    from bot.coins import Coin, CoinRegistry
    from bot.store import Store

    db = tmp_path / "live.db"
    with time_machine.travel(datetime(2026, 11, 26, 12, 0, tzinfo=UTC), tick=False):
        assert main(["--db", str(db), "import", SELLOFF]) == 0
        store = Store(db)
        registry = CoinRegistry.load()
        odd = Coin(symbol="ODD", name="Odd", coingecko="odd", binance_spot="ODDUSDT")
        store.save_tracked([registry.get("BTC"), registry.get("INJ"), odd], datetime.now(UTC), {})
        store.close()
        out = tmp_path / "tracked.json"
        assert main(["--db", str(db), "export", str(out), "--name", "tracked"]) == 0
    assert "left out 1 tracked coin(s) not in config/coins.toml: ODD" in capsys.readouterr().out
    coins = json.loads(out.read_text())["coins"]
    assert "INJ" in coins
    assert "ODD" not in coins
    assert main(["ask", "--scenario", str(out), "/price coin:BTC", "--json"]) == 0


def test_console_presses_the_buttons_of_the_last_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    piped = "press 1h\n/why\npress 1h\npress 1h\npress nope\npress delete\nquit\n"
    monkeypatch.setattr("sys.stdin", io.StringIO(piped))
    monkeypatch.chdir(tmp_path)
    assert main(["--db", str(tmp_path / "p.db"), "console", "--demo"]) == 0
    out = capsys.readouterr().out
    assert "error: no answer with buttons yet" in out
    assert "[1h] [4h] [● 24h] [7d]" in out
    assert "[● 1h] [4h] [24h] [7d]" in out  # edited in place to the 1h answer
    assert "1h is what the answer shows already" in out
    assert "error: no button 'nope'; buttons: 1h, 4h, 24h, 7d, Chart, Liquidations, Delete" in out
    assert out.rstrip().endswith("(deleted)")
