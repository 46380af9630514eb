"""Command line of the bench. The settings directory (with the bench's coin registry) must be in
place before any ``bot`` module is imported, so everything else is imported lazily."""

from __future__ import annotations

import argparse
import tempfile
from collections.abc import Sequence
from pathlib import Path

from bench.config import prepare_config


def _ints(text: str) -> tuple[int, ...]:
    try:
        values = tuple(sorted({int(v) for v in text.split(",") if v.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or min(values) < 1:
        raise argparse.ArgumentTypeError("values must be ≥ 1")
    return values


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Tapewatch benchmarks on generated stores: one table, goals beside the figures.",
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, a few seconds (the smoke test)")
    parser.add_argument("--coins", type=_ints, help="tracked coins, comma-separated (default 10,100)")
    parser.add_argument("--days", type=_ints, help="days of history, comma-separated (default 7,30)")
    parser.add_argument("--repeat", type=int, help="runs per figure; the figure is their median (default 3)")
    parser.add_argument("--calls", type=int, help="handler calls per run (default 30)")
    parser.add_argument(
        "--budget", type=float, help="seconds per handler and store before its runs stop early (default 2.5)"
    )
    parser.add_argument(
        "--cap", type=float, help="a handler call is stopped past this many seconds (default 5)"
    )
    parser.add_argument(
        "--liq-rate", type=float, help="market-wide liquidation events per second at 100 coins (default 1)"
    )
    parser.add_argument("--interactions", type=int, help="concurrent interactions in row 4 (default 100)")
    parser.add_argument(
        "--child-seconds", type=float, help="lifetime of the run-like child of row 7 (default 20)"
    )
    parser.add_argument(
        "--year-days", type=int, help="days simulated for section 10's store size (default 365)"
    )
    parser.add_argument(
        "--only", type=_ints, metavar="SECTIONS", help="run only these sections, e.g. 4,9 (default: all)"
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON")
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="generate into DIR and keep it (default: a temp dir)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        return _run(args, args.keep)
    with tempfile.TemporaryDirectory(prefix="tapewatch-bench-") as tmp:
        return _run(args, Path(tmp))


def _run(args: argparse.Namespace, workdir: Path) -> int:
    coins = args.coins or ((2, 3) if args.quick else (10, 100))
    settings_path, symbols = prepare_config(workdir, max(coins))
    from bench.runner import run, sizes_from  # imports bot: after prepare_config

    sizes = sizes_from(args, coins)
    only = tuple(str(s) for s in args.only) if args.only else None
    return run(sizes, workdir, settings_path, tuple(symbols), args.json, only)
