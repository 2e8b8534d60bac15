"""Open an Optuna storage and the studies in it, refusing anything that is not Optuna's.

Several processes share one study (``run --workers``, or more ``run`` commands at once): they
create it and reserve its trials one at a time under ``study_lock``, and on SQLite every writing
transaction takes the write lock when it begins, so that none fails with "database is locked".
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import optuna
import sqlalchemy
import sqlalchemy.engine

from search.errors import StorageError
from search.storage.grpc_proxy import open_proxy
from search.storage.reconnecting import (
    DatabaseAway,
    ReconnectingRDBStorage,
    is_connection_lost,
)
from search.storage.retry import retried
from search.storage.url import grpc_address, sqlite_path

SQLITE_HEADER = b"SQLite format 3\x00"
OPTUNA_TABLE = "version_info"  # every Optuna RDB schema has it, since the first version
ALEMBIC_TABLE = "alembic_version"  # Optuna's schema revision, written last when it makes one
_held = threading.local()  # the storage URLs whose study lock this thread holds


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)


def pasteable_url(url: str) -> tuple[str, bool]:
    """The URL as a command can take it back, and whether a password was left out of it: a
    PostgreSQL URL's is (libpq reads it from PGPASSWORD or ~/.pgpass); another's is hidden."""
    parsed = sqlalchemy.engine.make_url(url)
    if parsed.get_backend_name() != "postgresql" or not parsed.password:
        return display_url(url), False
    without = parsed._replace(password=None)  # URL.set(password=None) would keep it
    return without.render_as_string(hide_password=False), True


def open_storage(
    url: str,
    *,
    create: bool,
    writer: bool | None = None,
    heartbeat: tuple[int, int] | None = None,
    retry_seconds: float | None = None,
) -> optuna.storages.BaseStorage:
    """Open the database at ``url``; ``create`` allows a new one (only ``run`` creates).

    ``writer`` (default: ``create``) is for processes that run trials beside others; on SQLite
    their transactions then begin immediately (see ``_begin_immediate``). ``heartbeat`` is the
    interval and grace period, in seconds, of the trials' heartbeats, for processes that run
    trials (``search.scheduler.recovery``); None for those that only read. With
    ``retry_seconds``, its calls wait that long for a database that went away
    (``storage.reconnecting``); without, a command that only reads says so at once.

    A ``grpc://host:port`` URL opens the storage proxy there (``storage.grpc_proxy``), whose
    own storage does the rest.

    Raises:
        StorageError: no database there (and ``create`` is false), or one that is not Optuna's.
    """
    address = grpc_address(url)
    if address is not None:
        return open_proxy(url, *address, retry_seconds=retry_seconds or 0)
    path = sqlite_path(url)
    if path is not None:
        # SQLite takes an empty file for an empty database (`sqlite3 x.db` leaves one behind).
        if not path.exists() or (path.is_file() and path.stat().st_size == 0):
            if not create:
                raise StorageError(f"no study database at {path}; `lenet-search run` creates it")
            _require_folder(path)
        elif not path.is_file() or _read_header(path) != SQLITE_HEADER:
            raise StorageError(f"{path} is not an Optuna database (it is not an SQLite file)")
    finished = _check_is_optuna(url, create)
    # SQLite waits up to 60 s for a lock; a server's pooled connection is pinged before use
    # (after a restart it is a dead one).
    engine_kwargs: dict[str, Any] = (
        {"connect_args": {"timeout": 60}} if path is not None else {"pool_pre_ping": True}
    )
    # Optuna writes its version rows on every open that finds them missing, so two processes
    # opening a database that is still being made would both write them (UNIQUE constraint
    # failed: alembic_version). Such opens take the study lock, which the maker holds.
    try:
        with study_lock(url) if create or not finished else nullcontext():
            options: dict[str, Any] = dict(
                engine_kwargs=engine_kwargs,
                skip_table_creation=not create,
                heartbeat_interval=heartbeat[0] if heartbeat else None,
                grace_period=heartbeat[1] if heartbeat else None,
            )
            if retry_seconds is None:
                storage = optuna.storages.RDBStorage(url, **options)
            else:
                storage = ReconnectingRDBStorage(
                    url, retry_seconds=retry_seconds, display=display_url(url), **options
                )
    except Exception as e:  # noqa: BLE001 - driver errors vary by database
        raise StorageError(f"cannot open {display_url(url)}: {_first_line(e)}") from None
    if path is not None and (create if writer is None else writer):
        _begin_immediate(storage.engine)
    return storage


def _begin_immediate(engine: sqlalchemy.engine.Engine) -> None:
    """Make every transaction on this SQLite engine take the write lock when it begins.

    SQLite's default (deferred) transaction reads first and asks for the write lock later; when
    two processes do that at once, one gets "database is locked" at once, without waiting for
    the busy timeout. Optuna's storage reads before it writes in many transactions, so several
    workers hit this. With BEGIN IMMEDIATE they queue on the busy timeout instead (SQLAlchemy's
    documented recipe for pysqlite).
    """

    @sqlalchemy.event.listens_for(engine, "connect")
    def _no_implicit_begin(dbapi_connection, record) -> None:  # noqa: ANN001
        dbapi_connection.isolation_level = None  # pysqlite then leaves BEGIN to us

    @sqlalchemy.event.listens_for(engine, "begin")
    def _begin(connection) -> None:  # noqa: ANN001
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    engine.dispose()  # connections made before the listeners would still begin deferred


def lock_path(database: Path) -> Path:
    """The file whose flock guards an SQLite database: ``<database>.lock`` beside it."""
    return database.with_name(database.name + ".lock")


class StudyLock:
    """The lock every process that uses one storage shares: one study's with ``study_name``,
    the whole database's without. The URL is read once, here.

    Creating a study, and reserving a trial (counting the trials there are, then asking for a
    new one), must be done by one process at a time, or two workers both see room for the last
    trial. SQLite: an flock on ``<database>.lock`` beside the file, for the whole database
    (SQLite writes one transaction at a time anyway). PostgreSQL: advisory locks, on a
    connection kept for them: a study's lock holds the database's lock shared and its own key
    exclusively, so that the workers of different studies on one server do not queue on each
    other's reservations; the database's lock (making the schema or a study) holds its key
    exclusively. Other storages get no lock (behind the gRPC proxy, the proxy's storage
    arbitrates reservations). A thread that holds a lock may take it again, or any study's lock
    inside the database's (``open_storage`` inside a study's creation); never the database's
    inside a study's.
    """

    def __init__(self, url: str, study_name: str | None = None, retry_seconds: float = 0) -> None:
        self.url, self.study_name, self.retry_seconds = url, study_name, retry_seconds
        self._path = sqlite_path(url)
        backend = None if self._path else sqlalchemy.engine.make_url(url).get_backend_name()
        self._postgres = backend == "postgresql"

    @contextmanager
    def held(self) -> Iterator[None]:
        """``with lock.held():`` the lock is this thread's."""
        held: set[tuple[str, str | None]] = _held.__dict__.setdefault("locks", set())
        url, study_name = self.url, self.study_name
        if (url, study_name) in held or (url, None) in held:
            yield
            return
        if study_name is None and any(held_url == url for held_url, _ in held):
            raise RuntimeError(
                "the database's lock taken inside a study's lock: they could deadlock"
            )
        held.add((url, study_name))
        try:
            with self._take():
                yield
        finally:
            held.discard((url, study_name))

    @contextmanager
    def _take(self) -> Iterator[None]:
        if self._path is not None:
            _require_folder(self._path)
            with open(lock_path(self._path), "a") as lock_file:
                fcntl.flock(lock_file, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(lock_file, fcntl.LOCK_UN)
        elif self._postgres:
            # The database's key is the one every lock took before studies had their own.
            database = _advisory_key("lenet-search study lock")
            locks = [("lock", database)]
            if self.study_name is not None:
                study = _advisory_key(f"study {self.study_name}")
                locks = [("lock_shared", database), ("lock", study)]
            connection = self._locked(locks)
            try:
                yield
            finally:
                try:  # unlocked, and back to the pool for the next lock
                    connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock_all()"))
                    connection.close()
                except sqlalchemy.exc.DBAPIError:
                    # The server went away, and the locks with it. close() itself may be what
                    # failed (its ROLLBACK), and leaves the connection closed and invalidated.
                    if not connection.closed:
                        connection.invalidate()
        else:
            yield

    def _locked(self, locks: list[tuple[str, int]]) -> sqlalchemy.engine.Connection:
        """A connection holding the advisory ``locks``, waiting ``retry_seconds`` for a server
        that cannot be reached."""

        def lock() -> sqlalchemy.engine.Connection:
            connection = _lock_engine(self.url).connect()
            try:
                for kind, key in locks:
                    query = sqlalchemy.text(f"SELECT pg_advisory_{kind}(:key)")
                    connection.execute(query, {"key": key})
            except Exception:
                connection.invalidate()
                raise
            return connection

        def away(e: Exception) -> DatabaseAway:
            return DatabaseAway.after(display_url(self.url), self.retry_seconds, e)

        return retried(lock, seconds=self.retry_seconds, transient=is_connection_lost, away=away)


def study_lock(url: str, study_name: str | None = None) -> AbstractContextManager[None]:
    """``StudyLock(url, study_name).held()``: for a lock taken once."""
    return StudyLock(url, study_name).held()


def _advisory_key(text: str) -> int:
    """A PostgreSQL advisory lock key (a signed 64-bit integer) for ``text``."""
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


_lock_engines: dict[tuple[int, str], sqlalchemy.engine.Engine] = {}


def _lock_engine(url: str) -> sqlalchemy.engine.Engine:
    """This process's engine for advisory locks on ``url``: its connections are reused (a
    reservation per trial used to open and close one), pinged first, as after a restart."""
    key = (os.getpid(), url)
    if key not in _lock_engines:
        _lock_engines[key] = sqlalchemy.create_engine(url, pool_pre_ping=True)
    return _lock_engines[key]


def _require_folder(path: Path) -> None:
    """A database goes into a folder that exists: a mistyped path must not make new folders."""
    if not path.parent.is_dir():
        raise StorageError(
            f"cannot make a database at {path}: the folder {path.parent} does not exist"
        )


def load_study(storage: optuna.storages.RDBStorage, name: str) -> optuna.Study:
    """Load an existing study by name.

    Raises:
        StorageError: no study of that name; the message lists the studies there are.
    """
    names = [summary.study_name for summary in storage.get_all_studies()]
    if name not in names:
        there = ", ".join(f'"{n}"' for n in names) if names else "none"
        raise StorageError(
            f'no study named "{name}" in {display_url(storage.url)}; studies there: {there}'
        )
    return optuna.load_study(study_name=name, storage=storage)


def _check_is_optuna(url: str, create: bool) -> bool:
    """Look at the tables before Optuna does: it would add its own to any database. True when
    the database is finished: Optuna stamps its ``alembic_version`` last."""
    engine = sqlalchemy.create_engine(url)
    try:
        tables = set(sqlalchemy.inspect(engine).get_table_names())
        finished = ALEMBIC_TABLE in tables and _has_rows(engine, ALEMBIC_TABLE)
    except Exception as e:  # noqa: BLE001 - driver errors vary by database
        raise StorageError(f"cannot open {display_url(url)}: {_first_line(e)}") from None
    finally:
        engine.dispose()
    if tables and OPTUNA_TABLE not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise StorageError(
            f"{display_url(url)} is not an Optuna database (it has other tables: {shown})"
        )
    if not tables and not create:
        raise StorageError(
            f"{display_url(url)} has no Optuna studies; `lenet-search run` makes one"
        )
    return finished


def _has_rows(engine: sqlalchemy.engine.Engine, table: str) -> bool:
    with engine.connect() as connection:
        row = connection.execute(sqlalchemy.text(f"SELECT 1 FROM {table} LIMIT 1")).first()
    return row is not None


def _read_header(path) -> bytes:  # noqa: ANN001
    with open(path, "rb") as f:
        return f.read(len(SQLITE_HEADER))


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
