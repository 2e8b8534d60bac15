"""Optuna storages that ride out their server going away for a while: a restart, a
failover, a managed database's maintenance window.

Every storage call a worker makes (reserve, report, heartbeat, tell, user attributes) is tried
again while the database cannot be reached, for ``retry_seconds`` (``storage.retry``); then the
worker stops with one line, and the trial it was running is left RUNNING for another worker to
recover once its heartbeat is stale. A dropped connection rolls its transaction back, so a
call tried again does not write twice, with one gap: a commit whose reply was lost with the
connection is done again (a trial made twice, the second left RUNNING until its recovery).
"""

from __future__ import annotations

import functools
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc
import optuna
import sqlalchemy.exc

from search.errors import DiskFull, StorageError
from search.storage.retry import failing_fast, retried
from search.storage.url import sqlite_path

# The calls of Optuna's storage interface that reach the server, tried again by every
# ``Reconnecting`` storage (the database's, the storage proxy's).
STORAGE_CALLS = (
    "create_new_study",
    "delete_study",
    "set_study_user_attr",
    "set_study_system_attr",
    "get_study_id_from_name",
    "get_study_name_from_id",
    "get_study_directions",
    "get_study_user_attrs",
    "get_study_system_attrs",
    "get_all_studies",
    "create_new_trial",
    "set_trial_param",
    "get_trial_id_from_study_id_trial_number",
    "get_trial_number_from_id",
    "get_trial_param",
    "set_trial_state_values",
    "set_trial_intermediate_value",
    "set_trial_user_attr",
    "set_trial_system_attr",
    "get_trial",
    "get_trial_params",
    "get_trial_user_attrs",
    "get_trial_system_attrs",
    "get_all_trials",
    "get_n_trials",
    "get_best_trial",
)
# An RDB storage's: those, its heartbeats, and the private calls Optuna's cache
# (``optuna/storages/_cached_storage.py``) makes instead of public ones.
RETRIED_CALLS = (
    *STORAGE_CALLS,
    "record_heartbeat",
    "_get_stale_trial_ids",
    "_create_new_trial",
    "_get_trials",
    "_get_best_trial_id",
    "_set_trial_param",
)


class DatabaseAway(StorageError):
    """The study's database could not be reached for the whole retry window."""

    @classmethod
    def after(cls, display_url: str, seconds: float, error: Exception) -> DatabaseAway:
        cause = error.__cause__ or error  # what Optuna wrapped
        cause = getattr(cause, "orig", None) or cause  # the driver's own words, not SQLAlchemy's
        line = str(cause).strip().splitlines()[0]
        return cls(
            f"the study database {display_url} could not be reached for {seconds:g} s ({line})"
        )


def is_connection_lost(error: BaseException) -> bool:
    """Whether ``error`` (or what Optuna wrapped in it) says the database cannot be reached,
    rather than that a query was wrong. Never SQLite's: a file has no connection to lose (its
    locks are waited for on its busy timeout, a full disk is said at once)."""
    error = _unwrapped(error)
    if isinstance(getattr(error, "orig", None), sqlite3.Error):
        return False
    if isinstance(error, sqlalchemy.exc.DBAPIError) and error.connection_invalidated:
        return True
    if isinstance(error, sqlalchemy.exc.PendingRollbackError):  # after a connection died
        return True
    if isinstance(error, grpc.RpcError):  # the storage proxy (storage.grpc_proxy): it is down,
        # or it stopped (restarted, say) with the call under way
        return error.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    return isinstance(error, (sqlalchemy.exc.OperationalError, sqlalchemy.exc.InterfaceError))


def _unwrapped(error: BaseException) -> BaseException:
    """The database driver's error that Optuna wrapped in ``error``, or ``error`` itself."""
    if isinstance(error, optuna.exceptions.StorageInternalError) and error.__cause__:
        return error.__cause__
    return error


class Reconnecting:
    """What a storage class mixes in, before Optuna's, to wait up to ``retry_seconds`` for its
    server: the calls that ``retry_calls`` names are tried again while it cannot be reached.
    Calls made inside a retried call (a storage calls itself) are not retried on their own."""

    retry_seconds: float
    display: str  # the URL, its password hidden

    def _forget_connections(self) -> None:
        """What the storage must drop after its server went away, before it is tried again."""

    def _retried(self, call: Callable[[], Any]) -> Any:
        def away(e: Exception) -> DatabaseAway:
            return DatabaseAway.after(self.display, self.retry_seconds, e)

        def once() -> Any:
            with failing_fast():  # the calls it makes in turn are retried with it
                try:
                    return call()
                except Exception as e:
                    if is_connection_lost(e):
                        self._forget_connections()
                    raise

        return retried(once, seconds=self.retry_seconds, transient=is_connection_lost, away=away)


def retry_calls(cls: type, names: tuple[str, ...]) -> None:
    """Make ``cls``'s calls ``names`` (of the Optuna storage it subclasses) retried."""

    def retrying(plain: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(plain)
        def call(self: Reconnecting, *args: Any, **kwargs: Any) -> Any:
            return self._retried(lambda: plain(self, *args, **kwargs))

        return call

    for name in names:
        setattr(cls, name, retrying(getattr(cls, name)))


class ReconnectingRDBStorage(Reconnecting, optuna.storages.RDBStorage):
    """``RDBStorage`` whose calls wait up to ``retry_seconds`` for the database to come back.

    A subclass, not a wrapper, so that Optuna still sees an RDB storage with heartbeats (it
    wraps it in its cache, and checks ``isinstance`` for heartbeats).
    """

    def __init__(self, url: str, *, retry_seconds: float, display: str, **kwargs: Any) -> None:
        self.retry_seconds, self.display = retry_seconds, display
        super().__init__(url, **kwargs)

    def _forget_connections(self) -> None:
        # The thread's session may hold a transaction its dead connection cannot roll back
        # (SQLAlchemy: "Can't reconnect until invalid transaction is rolled back").
        try:
            self.remove_session()
        except Exception:  # noqa: BLE001 - closing over a dead connection: it is gone anyway
            pass

    def _retried(self, call: Callable[[], Any]) -> Any:
        try:
            return super()._retried(call)
        except Exception as e:
            folder = _full_folder(e, self.url)
            if folder is None:
                raise
            raise DiskFull(
                f"no space left on {folder} for the study database: free some, then run "
                "again (finished trials are kept)"
            ) from None


def _full_folder(error: Exception, url: str) -> Path | None:
    """The folder of the SQLite database at ``url`` if ``error`` says its disk is full."""
    cause = _unwrapped(error)
    full = isinstance(getattr(cause, "orig", None), sqlite3.OperationalError) and (
        "full" in str(cause.orig)
    )
    path = sqlite_path(url)
    return path.parent if full and path is not None else None


retry_calls(ReconnectingRDBStorage, RETRIED_CALLS)
