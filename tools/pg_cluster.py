"""A throwaway PostgreSQL cluster on a loopback port, for the tests and the benchmarks.

PostgreSQL refuses to run as root, so when we are root the cluster belongs to the ``postgres``
user (``runuser``); its folder, socket and log live in a temporary directory that goes with it.
Databases are created per test (:meth:`Cluster.new_database`) and dropped after.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
import uuid
from pathlib import Path

import psycopg


class NoCluster(Exception):
    """No PostgreSQL server could be started here (the message says why)."""


def find_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's layout), or None."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """``start()`` a fresh cluster, ``new_database()`` per test, ``stop()`` at the end."""

    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="tapewatch-pg-"))
        self.port = _free_port()
        self.bin: Path | None = None
        self._as: list[str] = []

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def _run(self, *args: str) -> None:
        assert self.bin is not None
        cmd = [*self._as, str(self.bin / args[0]), *args[1:]]  # our own fixed arguments
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
        if done.returncode:
            raise NoCluster(f"{args[0]} failed: {(done.stderr or done.stdout).strip()[-300:]}")

    def start(self, *, durable: bool = False) -> Cluster:
        """``durable``: fsync on (commits asynchronous, like SQLite's WAL with synchronous=NORMAL),
        for benchmarks; off for tests, where the cluster is thrown away."""
        self.bin = find_bin()
        if self.bin is None:
            raise NoCluster("no PostgreSQL installed (no /usr/lib/postgresql/*/bin/initdb)")
        if os.geteuid() == 0:
            if shutil.which("runuser") is None:
                raise NoCluster("running as root without runuser: cannot start PostgreSQL as another user")
            self._as = ["runuser", "-u", "postgres", "--"]
            try:
                shutil.chown(self.dir, "postgres")
            except (LookupError, OSError) as exc:
                raise NoCluster(f"no postgres user to own the cluster ({exc})") from None
        data = self.dir / "data"
        self._run("initdb", "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync", "-E", "UTF8")
        opts = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c synchronous_commit=off "
        opts += (
            "-c max_connections=200"
            if durable
            else "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(data), "-o", opts, "-l", str(self.dir / "log"), "start", "-w")
        return self

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        name = "t_" + uuid.uuid4().hex[:12]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        if self.bin is not None and (self.dir / "data" / "postmaster.pid").exists():
            with contextlib.suppress(NoCluster):
                self._run("pg_ctl", "-D", str(self.dir / "data"), "stop", "-m", "fast")
        shutil.rmtree(self.dir, ignore_errors=True)
