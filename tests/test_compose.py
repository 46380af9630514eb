"""The compose files stay runnable without Docker here: every ``tapewatch`` command a service
runs is one the CLI accepts, and the scaled set-up's roles are exactly the processes the
end-to-end role tests start (a collector, and ``run --no-collect`` as shards 0 and 1 of 2)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from bot.cli import build_parser
from bot.cli_run import parse_shards

ROOT = Path(__file__).resolve().parents[1]
COMMAND = re.compile(r"^\s*command:\s*(\[.*\])\s*$", re.MULTILINE)
SERVICE = re.compile(r"^  ([a-z0-9-]+):\s*$", re.MULTILINE)


HEALTH = re.compile(r'^\s*test:\s*\["CMD",\s*(".*)\]\s*$', re.MULTILINE)
DOCKER_CMD = re.compile(r"^(?:CMD|HEALTHCHECK .* CMD) (\[.*\])\s*$", re.MULTILINE)


def commands(path: Path) -> dict[str, list[str]]:
    """Each service's ``command`` (flow sequences of quoted strings, as JSON reads them)."""
    text = path.read_text()
    services = [(m.start(), m.group(1)) for m in SERVICE.finditer(text)]
    out: dict[str, list[str]] = {}
    for m in COMMAND.finditer(text):
        owner = [name for start, name in services if start < m.start()][-1]
        out[owner] = json.loads(m.group(1))
    return out


def every_tapewatch_command() -> list[tuple[str, list[str]]]:
    """The image's CMD and health check, each compose file's service commands and tapewatch
    health checks."""
    found = [
        ("Dockerfile", json.loads(m.group(1))) for m in DOCKER_CMD.finditer((ROOT / "Dockerfile").read_text())
    ]
    for name in ("compose.yaml", "compose.scale.yaml"):
        text = (ROOT / name).read_text()
        found += [(f"{name} {service}", argv) for service, argv in commands(ROOT / name).items()]
        found += [(f"{name} health", json.loads(f"[{m.group(1)}]")) for m in HEALTH.finditer(text)]
    return [(where, argv) for where, argv in found if argv[0] == "tapewatch"]


def test_every_command_is_one_the_cli_accepts() -> None:
    found = every_tapewatch_command()
    assert len(found) >= 6  # the image's 2, the scaled set-up's collector, 2 bots, 1 health check
    for _service, argv in found:
        args = build_parser().parse_args(argv[1:])  # exits (fails the test) on an unknown option
        if getattr(args, "shard_count", None) is not None:
            assert parse_shards(args.shard_count, args.shard_ids) is not None


def test_the_scaled_set_up_is_the_role_tests_processes() -> None:
    found = commands(ROOT / "compose.scale.yaml")
    assert found["collector"] == ["tapewatch", "collect"]
    shards = {}
    for service, argv in found.items():
        if argv[1] != "run":
            continue
        args = build_parser().parse_args(argv[1:])
        assert args.no_collect, f"{service} would collect beside the collector"
        shards[service] = parse_shards(args.shard_count, args.shard_ids)
    assert sorted(shards.values()) == [(2, [0]), (2, [1])]
    # the end-to-end tests start the same roles (tests/e2e/test_run_roles.py, test_run_takeover.py)
    for test in ("test_run_roles.py", "test_run_takeover.py"):
        source = (ROOT / "tests" / "e2e" / test).read_text()
        assert '"--no-collect", "--shard-count", "2", "--shard-ids"' in source
        assert 'start_run(config, url, "collect")' in source
