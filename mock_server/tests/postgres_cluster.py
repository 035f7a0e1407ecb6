"""A throwaway PostgreSQL cluster for tests: initdb into a temp dir, a free port, its unix socket in the same
dir, trust auth; stopped (and removed) at the end. Used by the store suite and the durability tests.

The binaries come from Debian's `postgresql` package (/usr/lib/postgresql/<version>/bin; `.ci/run` installs
it). initdb refuses to run as root, so as root the cluster runs as the `postgres` user. A cluster that
cannot start raises `PostgresUnavailableError`: tests that need it fail, never skip.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PostgresCluster", "PostgresUnavailableError", "find_bin_dir", "postgres_cluster"]


class PostgresUnavailableError(RuntimeError):
    pass


def find_bin_dir() -> Path:
    """The newest installed server binaries (or `KDK_PG_BIN`)."""
    override = os.environ.get("KDK_PG_BIN")
    candidates = [Path(override)] if override else sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True)
    for path in candidates:
        if (path / "initdb").exists() and (path / "pg_ctl").exists():
            return path
    raise PostgresUnavailableError(
        "PostgreSQL server binaries not found (no /usr/lib/postgresql/*/bin/initdb): install Debian's `postgresql`"
        " package (.ci/run does) or set KDK_PG_BIN"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PostgresCluster:
    directory: Path
    port: int
    user: str

    @property
    def url(self) -> str:
        """A `--state` URL for the cluster's `postgres` database over its unix socket."""
        return f"postgresql://{self.user}@/postgres?host={self.directory}&port={self.port}"

    def database(self, name: str) -> str:
        """A fresh, empty database on the cluster; its URL."""
        import psycopg

        with psycopg.connect(self.url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url.replace("/postgres?", f"/{name}?")


def _as_owner(argv: list[str], owner: str | None) -> list[str]:
    return ["runuser", "-u", owner, "--", *argv] if owner else argv


@contextmanager
def postgres_cluster(settings: dict[str, str] | None = None) -> Iterator[PostgresCluster]:
    """A throwaway cluster (see the module); `settings`: more server settings (`-c name=value`)."""
    bindir = find_bin_dir()
    owner = "postgres" if os.geteuid() == 0 else None
    directory = Path(tempfile.mkdtemp(prefix="kdk-pg-"))
    data = directory / "data"
    if owner:
        shutil.chown(directory, owner, owner)
    port = _free_port()
    run = subprocess.run
    try:
        done = run(
            _as_owner(
                [str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "kdk", "--no-sync", "-E", "UTF8"], owner
            ),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise PostgresUnavailableError(f"initdb failed: {done.stderr.strip() or done.stdout.strip()}")
        options = (
            f"-c listen_addresses='' -c unix_socket_directories={directory} -p {port} "
            # Throwaway, so no crash safety to keep: no fsync, no full-page images in the WAL, and checkpoints
            # spaced by 4 GB of WAL (a demo load's COPY: ~15% less server CPU per resource at 30k profiles).
            "-c fsync=off -c full_page_writes=off -c max_wal_size=4GB -c max_connections=200"
        ) + "".join(f" -c {name}={value}" for name, value in (settings or {}).items())
        done = run(
            _as_owner(
                [
                    str(bindir / "pg_ctl"),
                    "-D",
                    str(data),
                    "-l",
                    str(directory / "log"),
                    "-o",
                    options,
                    "-w",
                    "-t",
                    "60",
                    "start",
                ],
                owner,
            ),
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            log = (directory / "log").read_text() if (directory / "log").exists() else ""
            raise PostgresUnavailableError(f"pg_ctl start failed: {done.stderr.strip()} {log[-2000:]}")
        yield PostgresCluster(directory, port, "kdk")
    finally:
        if (data / "postmaster.pid").exists():
            run(
                _as_owner([str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "-w", "stop"], owner),
                capture_output=True,
            )
        for _ in range(20):
            shutil.rmtree(directory, ignore_errors=True)
            if not directory.exists():
                break
            time.sleep(0.1)
