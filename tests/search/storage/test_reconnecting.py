"""A database that goes away and comes back: a real PostgreSQL server stopped and restarted."""

from __future__ import annotations

import threading
import time

import optuna
import pytest
import sqlalchemy.exc

from search.storage.database import StudyLock, open_storage
from search.storage.reconnecting import DatabaseAway, is_connection_lost
from search.storage.retry import failing_fast
from tests.postgres import Server


def with_password(url: str) -> str:
    """The server trusts every connection: a password in the URL is accepted and ignored."""
    return url.replace("postgres@", "postgres:secret@")


def test_what_counts_as_the_database_away() -> None:
    lost = sqlalchemy.exc.OperationalError("SELECT 1", {}, Exception("connection refused"))
    wrapped = optuna.exceptions.StorageInternalError("commit failed")
    wrapped.__cause__ = lost
    wrong = sqlalchemy.exc.ProgrammingError("SELECT x", {}, Exception("no column x"))
    assert is_connection_lost(lost) and is_connection_lost(wrapped)
    assert not is_connection_lost(wrong) and not is_connection_lost(KeyError("x"))


def test_a_storage_call_waits_for_a_restarted_server(own_postgres: Server) -> None:
    storage = open_storage(own_postgres.url, create=True, retry_seconds=60)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    study.tell(study.ask(), 0.5)  # the pool holds a connection, which the restart kills
    own_postgres.stop()
    back = threading.Timer(3, own_postgres.start)
    back.start()
    started = time.monotonic()
    trial = study.ask()  # waits, then goes on
    waited = time.monotonic() - started
    back.join()
    study.tell(trial, 0.7)
    assert waited >= 2.5
    assert [t.value for t in study.trials] == [0.5, 0.7]
    own_postgres.restart()  # a fast restart: the pooled connections die, the next call reconnects
    assert len(study.get_trials()) == 2


def test_a_server_away_longer_than_the_retry_window_is_one_line(own_postgres: Server) -> None:
    url = with_password(own_postgres.url)
    storage = open_storage(url, create=True, retry_seconds=2)
    study = optuna.create_study(study_name="s", storage=storage, direction="maximize")
    own_postgres.stop()
    started = time.monotonic()
    with pytest.raises(DatabaseAway) as away:
        study.ask()
    assert 1.5 <= time.monotonic() - started < 10
    shown = url.replace(":secret@", ":***@")
    assert str(away.value).startswith(f"the study database {shown} could not be reached for 2 s (")
    assert "secret" not in str(away.value) and "\n" not in str(away.value)
    with pytest.raises(DatabaseAway) as away:  # the study's lock too
        with StudyLock(url, "s", retry_seconds=1).held():
            pass
    assert str(away.value).startswith(f"the study database {shown} could not be reached for 1 s")
    with failing_fast(), pytest.raises(sqlalchemy.exc.OperationalError):  # a heartbeat's call
        with StudyLock(url, "s", retry_seconds=60).held():
            pass


def test_every_call_optunas_cache_makes_to_the_database_is_retried() -> None:
    import inspect
    import re

    from optuna.storages import _cached_storage

    from search.storage.reconnecting import RETRIED_CALLS

    called = set(re.findall(r"self\._backend\.(\w+)\(", inspect.getsource(_cached_storage)))
    no_database = {"get_heartbeat_interval", "get_heartbeat_stale_trial_callback"}
    assert called - no_database <= set(RETRIED_CALLS)
