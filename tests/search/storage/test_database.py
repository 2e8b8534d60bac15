"""Optuna databases opened, created only when asked, anything else refused."""

import sqlite3
import threading
import time
from pathlib import Path

import optuna
import pytest
import sqlalchemy
from optuna.storages._rdb import models

from search.errors import StorageError
from search.storage.database import load_study, open_storage, pasteable_url, study_lock


def sqlite_url(path: Path) -> str:
    return f"sqlite:///{path}"


def test_new_database_is_created_only_when_asked(tmp_path: Path) -> None:
    path = tmp_path / "new.db"
    with pytest.raises(StorageError) as error:
        open_storage(sqlite_url(path), create=False)
    assert str(error.value) == f"no study database at {path}; `lenet-search run` creates it"
    assert not path.exists()
    open_storage(sqlite_url(path), create=True)
    assert path.is_file()


def test_opening_a_database_still_being_made_waits_for_its_maker(tmp_path: Path) -> None:
    # The moment of another process's creation: Optuna's tables made, its revision not yet
    # stamped, the maker holding the study lock. Opening then used to stamp it a second time
    # ("UNIQUE constraint failed: alembic_version.version_num" in the maker).
    url = sqlite_url(tmp_path / "new.db")
    models.BaseModel.metadata.create_all(sqlalchemy.create_engine(url))
    holding, releasing = threading.Event(), threading.Event()

    def maker() -> None:
        with study_lock(url):
            holding.set()
            time.sleep(0.5)
            releasing.set()

    thread = threading.Thread(target=maker)
    thread.start()
    holding.wait()
    open_storage(url, create=False)
    assert releasing.is_set()  # the open waited for the lock
    thread.join()
    with study_lock(url):  # the lock can be taken again by a thread that holds it
        optuna.create_study(study_name="s", storage=open_storage(url, create=True))
    assert [s.study_name for s in optuna.get_all_study_summaries(url)] == ["s"]


def test_database_of_another_program_is_refused_and_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE customers (id INTEGER)")
    before = path.read_bytes()
    for create in (True, False):
        with pytest.raises(StorageError) as error:
            open_storage(sqlite_url(path), create=create)
        assert str(error.value) == (
            f"sqlite:///{path} is not an Optuna database (it has other tables: customers)"
        )
    assert path.read_bytes() == before


def test_file_that_is_not_sqlite_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("hello")
    with pytest.raises(StorageError) as error:
        open_storage(sqlite_url(path), create=True)
    assert str(error.value) == f"{path} is not an Optuna database (it is not an SQLite file)"
    assert path.read_text() == "hello"


def test_unknown_study_name_lists_the_studies_there(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path / "s.db")
    storage = open_storage(url, create=True)
    for name in ("alpha", "beta"):
        optuna.create_study(study_name=name, storage=storage)
    assert load_study(storage, "beta").study_name == "beta"
    with pytest.raises(StorageError) as error:
        load_study(open_storage(url, create=False), "gamma")
    assert str(error.value) == f'no study named "gamma" in {url}; studies there: "alpha", "beta"'


def test_postgresql_storage_and_its_study_lock(postgres_url: str) -> None:
    import threading
    import time

    from search.storage.database import study_lock

    storage = open_storage(postgres_url, create=True)
    optuna.create_study(study_name="pg", storage=storage, direction="maximize")
    assert load_study(open_storage(postgres_url, create=False), "pg").study_name == "pg"
    # The advisory lock is held by one holder at a time, across connections.
    order = []

    def second() -> None:
        with study_lock(postgres_url):
            order.append("second")

    with study_lock(postgres_url):
        thread = threading.Thread(target=second)
        thread.start()
        time.sleep(0.5)
        order.append("first")
    thread.join()
    assert order == ["first", "second"]


def _waits_for(url: str, held: str | None, wanted: str | None) -> bool:
    """Whether another thread, taking ``wanted``'s lock (None: the database's), waits while
    this one holds ``held``'s."""
    taken = threading.Event()

    def other() -> None:
        with study_lock(url, wanted):
            taken.set()

    with study_lock(url, held):
        thread = threading.Thread(target=other)
        thread.start()
        waited = not taken.wait(timeout=1.0)
    thread.join()
    return waited


def test_postgresql_study_locks_are_per_study_under_the_databases(postgres_url: str) -> None:
    from search.storage.database import _lock_engine

    # Workers of different studies on one server no longer queue on each other.
    assert not _waits_for(postgres_url, "a", "b")
    assert _waits_for(postgres_url, "a", "a")
    # Making the schema or a study holds the whole database.
    assert _waits_for(postgres_url, "a", None)
    assert _waits_for(postgres_url, None, "a")
    for _ in range(20):  # a reservation per trial reuses the lock's connection
        with study_lock(postgres_url, "a"):
            pass
    assert _lock_engine(postgres_url).pool.checkedin() <= 2  # one a thread that took locks
    with study_lock(postgres_url, "a"), pytest.raises(RuntimeError) as error:
        with study_lock(postgres_url):
            pass
    assert str(error.value) == (
        "the database's lock taken inside a study's lock: they could deadlock"
    )


def test_a_database_in_a_missing_folder_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "typo" / "s.db"
    with pytest.raises(StorageError) as error:
        open_storage(sqlite_url(path), create=True)
    assert str(error.value) == (
        f"cannot make a database at {path}: the folder {tmp_path / 'typo'} does not exist"
    )
    assert not path.parent.exists()


@pytest.mark.parametrize(
    ("url", "pasteable"),
    [
        (
            "postgresql://lenet:s3cret@db.example/studies",
            ("postgresql://lenet@db.example/studies", True),
        ),
        (
            "postgresql://lenet@db.example/studies",
            ("postgresql://lenet@db.example/studies", False),
        ),
        ("sqlite:////tmp/tiny.db", ("sqlite:////tmp/tiny.db", False)),
        (
            "mysql://lenet:s3cret@db.example/studies",
            ("mysql://lenet:***@db.example/studies", False),
        ),
    ],
)
def test_a_url_to_paste_leaves_its_password_out(url: str, pasteable: tuple[str, bool]) -> None:
    # A hidden password (***) pasted back would be taken for the password; libpq reads the
    # real one from PGPASSWORD or ~/.pgpass when the URL has none.
    assert pasteable_url(url) == pasteable


@pytest.mark.parametrize("step", ["unlock", "rollback"])
def test_a_lock_whose_server_went_away_is_let_go_without_error(
    postgres_url: str, step: str
) -> None:
    from search.storage.database import _lock_engine

    # The server drops the lock's connection as the lock is let go: before its unlock, or
    # between the unlock and the ROLLBACK of close() (seen in CI as a server stopped).
    engine = _lock_engine(postgres_url)
    killer = sqlalchemy.create_engine(postgres_url, poolclass=sqlalchemy.pool.NullPool)

    killed = []

    def kill(connection: sqlalchemy.engine.Connection, *_: object) -> None:
        pid = connection.connection.dbapi_connection.info.backend_pid
        with killer.connect() as other:
            query = sqlalchemy.text("SELECT pg_terminate_backend(:pid)")
            killed.append(other.execute(query, {"pid": pid}).scalar())

    def on_unlock(connection, cursor, statement, *_: object) -> None:  # noqa: ANN001
        if "unlock_all" in statement:
            kill(connection)

    listener = ("before_cursor_execute", on_unlock) if step == "unlock" else ("rollback", kill)
    try:
        with study_lock(postgres_url, "gone"):
            sqlalchemy.event.listen(engine, *listener)
    finally:
        sqlalchemy.event.remove(engine, *listener)
    assert killed == [True]
    with study_lock(postgres_url, "gone"):  # the next lock gets a live connection
        pass
