"""Open an Optuna storage and the studies in it, refusing anything that is not Optuna's."""

from __future__ import annotations

import optuna
import sqlalchemy
import sqlalchemy.engine

from search.errors import StorageError
from search.storage_url import sqlite_path

SQLITE_HEADER = b"SQLite format 3\x00"
OPTUNA_TABLE = "version_info"  # every Optuna RDB schema has it, since the first version
# A worker that stops sending heartbeats (killed, machine lost) has its RUNNING trial failed by
# the next worker or run, so that no trial stays RUNNING for ever.
HEARTBEAT_SECONDS = 60
GRACE_SECONDS = 180


def display_url(url: str) -> str:
    """The URL with any password hidden, for messages."""
    return sqlalchemy.engine.make_url(url).render_as_string(hide_password=True)


def open_storage(url: str, *, create: bool) -> optuna.storages.RDBStorage:
    """Open the database at ``url``; ``create`` allows a new one (only ``run`` creates).

    Raises:
        StorageError: no database there (and ``create`` is false), or one that is not Optuna's.
    """
    path = sqlite_path(url)
    if path is not None:
        if not path.exists():
            if not create:
                raise StorageError(f"no study database at {path}; `lenet-search run` creates it")
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise StorageError(f"cannot make a database at {path}: {e.strerror}") from None
        elif not path.is_file() or _read_header(path) != SQLITE_HEADER:
            raise StorageError(f"{path} is not an Optuna database (it is not an SQLite file)")
    _check_is_optuna(url, create)
    engine_kwargs = {"connect_args": {"timeout": 60}} if path is not None else {}
    try:
        return optuna.storages.RDBStorage(
            url,
            engine_kwargs=engine_kwargs,
            skip_table_creation=not create,
            heartbeat_interval=HEARTBEAT_SECONDS,
            grace_period=GRACE_SECONDS,
        )
    except Exception as e:  # noqa: BLE001 - driver errors vary by database
        raise StorageError(f"cannot open {display_url(url)}: {_first_line(e)}") from None


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


def _check_is_optuna(url: str, create: bool) -> None:
    """Look at the tables before Optuna does: it would add its own to any database."""
    engine = sqlalchemy.create_engine(url)
    try:
        tables = set(sqlalchemy.inspect(engine).get_table_names())
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


def _read_header(path) -> bytes:  # noqa: ANN001
    with open(path, "rb") as f:
        return f.read(len(SQLITE_HEADER))


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__
