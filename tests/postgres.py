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
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def server(bindir: Path) -> Iterator[str]:
    """Start a server and yield the URL of an empty database "lenet" on it."""
    folder = Path(tempfile.mkdtemp(prefix="lenet-search-pg-"))
    data, log = folder / "data", folder / "server.log"
    port = free_port()
    as_postgres: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as "postgres"
        shutil.chown(folder, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]

    def run(*command: str) -> None:
        subprocess.run([*as_postgres, *command], check=True, capture_output=True, text=True)

    run(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-h 127.0.0.1 -p {port} -k {folder} -c fsync=off"
    run(str(bindir / "pg_ctl"), "-D", str(data), "-o", options, "-l", str(log), "-w", "start")
    try:
        run(
            str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "lenet"
        )
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/lenet"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)
