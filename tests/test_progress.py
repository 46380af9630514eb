"""The first run's progress: the generic bar (``bot.progress``) on a terminal, as plain lines
elsewhere, silent under JSON logs; and the collector's sources reported through it, by one
pass (``run_once``) and by the scheduler's first run of every job."""

from __future__ import annotations

import asyncio
import io
import logging
from pathlib import Path

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.app import build_app
from bot.clock import FrozenClock, system_clock
from bot.collect_progress import SourceProgress, collection_job_ids, json_logs, watch_first_pass
from bot.collector import Collector
from bot.jobs import job_table, register_jobs
from bot.progress import ClearBeforeLogs, Progress, bar, mode_for
from bot.providers.http import HttpClient
from bot.settings import load_settings
from tests.helpers import every_venue_at


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class Ticks:
    """A clock that moves 2 s per reading."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        self.now += 2.0
        return self.now


def test_mode_follows_the_output() -> None:
    assert mode_for(Terminal()) == "bar"
    assert mode_for(io.StringIO()) == "lines"
    assert mode_for(Terminal(), json_logs=True) == "off"
    closed = io.StringIO()
    closed.close()
    assert mode_for(closed) == "lines"


def test_bar_cells() -> None:
    assert bar(0, 4, width=8) == "[········]"
    assert bar(1, 4, width=8) == "[██······]"
    assert bar(4, 4, width=8) == "[████████]"
    assert bar(9, 4, width=8) == "[████████]"  # never past full
    assert bar(0, 0, width=4) == "[████]"  # nothing to do is done


def test_plain_lines_count_each_step_and_grow_the_total() -> None:
    out = io.StringIO()
    p = Progress("collecting", 2, stream=out)
    p.start()  # nothing to draw without a terminal
    p.step("binance/spot-tickers ok")
    p.step("binance/candles-1h FAILED  HTTP 500")
    p.step("bybit/candles-1h ok")  # a fallback nobody planned: the total grows
    p.finish("2 of 3 sources ok in 4 s")
    p.step("late")  # after the end: ignored
    assert out.getvalue().splitlines() == [
        "[1/2] binance/spot-tickers ok",
        "[2/2] binance/candles-1h FAILED  HTTP 500",
        "[3/3] bybit/candles-1h ok",
        "2 of 3 sources ok in 4 s",
    ]
    assert (p.done, p.total) == (3, 3)


def test_terminal_bar_is_redrawn_in_place_below_each_line() -> None:
    out = Terminal()
    p = Progress("collecting", 4, stream=out, clock=Ticks())
    p.start()
    p.step("a ok")
    p.finish("done")
    text = out.getvalue()
    assert text.startswith("collecting [" + "·" * 24 + "] 0/4 · 2 s")
    # the line erased, the step above it, the bar a quarter full beneath
    assert "\r\x1b[2Ka ok\ncollecting [" + "█" * 6 + "·" * 18 + "] 1/4 · 4 s" in text
    assert text.endswith("\r\x1b[2Kdone\n")


def test_off_writes_nothing() -> None:
    out = Terminal()
    p = Progress("collecting", 3, stream=out, mode="off")
    p.start()
    p.step("a")
    p.finish("done")
    assert out.getvalue() == ""
    assert p.done == 1


def test_a_broken_output_turns_progress_off() -> None:
    out = Terminal()
    p = Progress("collecting", 3, stream=out)
    out.close()
    p.step("a")  # no exception
    assert p.mode == "off"


def test_log_lines_erase_the_bar_first() -> None:
    out = Terminal()
    p = Progress("collecting", 3, stream=out)
    handler = logging.StreamHandler(out)
    handler.addFilter(ClearBeforeLogs(p))
    logger = logging.getLogger("tests.progress")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        p.start()
        logger.warning("something happened")
    finally:
        logger.removeHandler(handler)
    assert "· 0 s\r\x1b[2Ksomething happened\n" in out.getvalue()


def test_json_logs_from_settings_or_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = load_settings()
    assert not json_logs(plain)
    assert json_logs(load_settings(log_format="json"))
    monkeypatch.setenv("TAPEWATCH_LOG_FORMAT", "json")  # as the logging set-up reads it
    assert json_logs(plain)


def _unreachable(tmp_path: Path) -> dict[str, object]:
    return {
        "db": tmp_path / "p.db",
        "coins": ["BTC"],
        "providers": every_venue_at("http://127.0.0.1:9"),  # connection refused: fast, no network
        "http": {"retries": 0, "timeout_seconds": 2},
    }


async def test_one_pass_reports_every_source_as_it_completes(tmp_path: Path, clock: FrozenClock) -> None:
    settings = load_settings(**_unreachable(tmp_path))  # type: ignore[arg-type]
    app = build_app(settings, clock=clock)
    http = HttpClient(settings.http)
    try:
        collector = Collector(settings, app.store, http, app.registry, clock)
        out = io.StringIO()
        progress = SourceProgress(collector, out)
        progress.start()
        report = await collector.run_once(progress=progress)
        progress.finish()
    finally:
        await http.aclose()
        app.close()
    assert collector.on_source is None  # the pass's listener is gone after it
    lines = out.getvalue().splitlines()
    *steps, summary = lines
    # one line per source, in the order they completed; the candle fallbacks (2 more venues ×
    # 2 intervals) and FRED (Yahoo brought no series) tried after the planned ones failed, so
    # the total grew past the plan
    assert [s.source for s in report.sources] == [line.split()[1] for line in steps]
    assert len(steps) == len(report.sources) == collector.planned_sources() + 4 + 1
    assert "fred/daily" in {s.source for s in report.sources}
    assert steps[0].startswith(f"[1/{collector.planned_sources()}] binance/spot-tickers ")
    assert steps[-1].startswith(f"[{len(steps)}/{len(steps)}] ")
    assert summary == f"0 of {len(steps)} sources ok in 0 s"  # the frozen clock


async def test_the_schedulers_first_run_of_every_job_is_reported_then_the_listener_goes(
    tmp_path: Path,
) -> None:
    settings = load_settings(**_unreachable(tmp_path))  # type: ignore[arg-type]
    app = build_app(settings, clock=system_clock)  # the scheduler's first runs are due now
    http = HttpClient(settings.http)
    scheduler = AsyncIOScheduler(timezone="UTC")
    try:
        collector = Collector(settings, app.store, http, app.registry, system_clock)
        register_jobs(scheduler, collector, settings)
        ids = collection_job_ids(job_table(collector, settings), collector)
        assert len(ids) == len(collector.jobs()) == 6
        assert "prune" not in ids
        out = io.StringIO()
        progress = SourceProgress(collector, out)
        level = logging.getLogger("bot.collector").level
        end = watch_first_pass(scheduler, collector, ids, progress)
        assert logging.getLogger("bot.collector").level == logging.ERROR  # failures said once
        scheduler.start()
        for _ in range(600):  # the jobs start within their jitter (5 s)
            if progress.progress.finished:
                break
            await asyncio.sleep(0.05)
    finally:
        scheduler.shutdown(wait=False)
        await http.aclose()
        app.close()
    assert progress.progress.finished
    assert collector.on_source is None
    assert logging.getLogger("bot.collector").level == level
    end()  # the process stopping later: nothing left to end
    assert out.getvalue().count(" sources ok in ") == 1
    *steps, summary = out.getvalue().splitlines()
    assert len(steps) == len(progress.reports) >= collector.planned_sources()
    assert {line.split()[1].split("/")[1] for line in steps} >= {
        "spot-tickers",
        "candles-1d",
        "oi-history",
        "daily",
    }
    assert summary.startswith(f"0 of {len(steps)} sources ok in ")


async def test_the_bar_erases_itself_before_log_lines_on_the_terminal_until_it_ends(
    tmp_path: Path, clock: FrozenClock
) -> None:
    settings = load_settings(**_unreachable(tmp_path))  # type: ignore[arg-type]
    app = build_app(settings, clock=clock)
    http = HttpClient(settings.http)
    terminal_log, piped_log = logging.StreamHandler(Terminal()), logging.StreamHandler(io.StringIO())
    root = logging.getLogger()
    root.addHandler(terminal_log)
    root.addHandler(piped_log)
    try:
        collector = Collector(settings, app.store, http, app.registry, clock)
        progress = SourceProgress(collector, Terminal())
        progress.start()
        assert [type(f) for f in terminal_log.filters] == [ClearBeforeLogs]
        assert piped_log.filters == []
        progress.finish()
        assert terminal_log.filters == []
    finally:
        root.removeHandler(terminal_log)
        root.removeHandler(piped_log)
        await http.aclose()
        app.close()


async def test_stopping_before_the_first_pass_ends_restores_the_logs_and_erases_the_bar(
    tmp_path: Path, clock: FrozenClock
) -> None:
    settings = load_settings(**_unreachable(tmp_path))  # type: ignore[arg-type]
    app = build_app(settings, clock=clock)
    http = HttpClient(settings.http)
    scheduler = AsyncIOScheduler(timezone="UTC")
    try:
        collector = Collector(settings, app.store, http, app.registry, clock)
        out = Terminal()
        progress = SourceProgress(collector, out)
        level = logging.getLogger("bot.collector").level
        end = watch_first_pass(scheduler, collector, ["refresh-tickers"], progress)  # never started
        end()
        assert collector.on_source is None
        assert logging.getLogger("bot.collector").level == level
        assert out.getvalue().endswith("\r\x1b[2K")  # the bar erased, no summary for a pass not run
        assert not progress.progress.finished
    finally:
        await http.aclose()
        app.close()
