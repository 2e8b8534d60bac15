"""A real PostgreSQL server for the tests: Debian's binaries, a data folder of its own, 127.0.0.1
and a free port. Started once per test session, stopped at its end.

Where PostgreSQL is not installed the tests that need it skip, saying so; with
LENET_SEARCH_REQUIRE_POSTGRES=1 (which `.ci/run` sets) they fail instead.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def binaries() -> Path | None:
    """The folder of initdb and pg_ctl, or None."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    folders = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    return Path(folders[-1]) if folders else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running server: its database's URL, and pg_ctl to stop, start or restart it."""

    url: str
    pg_ctl: Callable[..., None]

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")  # as an upgrade or a failover stops it

    def start(self) -> None:
        self.pg_ctl("-w", "start")

    def restart(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "restart")


@contextmanager
def server(bindir: Path) -> Iterator[Server]:
    """Start a server with an empty database "lenet"; stopped and deleted afterwards."""
    folder = Path(tempfile.mkdtemp(prefix="lenet-search-pg-"))
    data, log = folder / "data", folder / "server.log"
    port = free_port()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as "postgres"
        shutil.chown(folder, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]

    def run(*command: str) -> None:
        subprocess.run([*as_postgres, *command], check=True, capture_output=True, text=True)

    def pg_ctl(*arguments: str) -> None:
        options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off"
        run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), *arguments)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    pg_ctl("-w", "start")
    try:
        run(
            str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "lenet"
        )
        yield Server(f"postgresql+psycopg://postgres@127.0.0.1:{port}/lenet", pg_ctl)
    finally:
        subprocess.run(  # it may be stopped already
            [*as_postgres, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(folder, ignore_errors=True)


def pg_states(url: str) -> dict[str, int]:
    """A PostgreSQL study database's trials by state."""
    import sqlalchemy

    engine = sqlalchemy.create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            sqlalchemy.text("SELECT state, COUNT(*) FROM trials GROUP BY state")
        ).fetchall()
    engine.dispose()
    return {state: n for state, n in rows}
