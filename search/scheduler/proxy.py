"""`lenet-search storage-proxy`: Optuna's gRPC storage proxy in front of a study database, for
more workers than the database should hold connections for (one proxy, one pool of them).

A worker behind the proxy cannot take the study's lock (``storage.database.StudyLock``), and
Optuna's gRPC API has no heartbeat calls, so the proxy's storage does both on the workers'
behalf, on the database itself:

- it arbitrates reservations: a new trial is made, or a waiting one (a retry) started, only
  under the study's lock and while the study has fewer trials complete, pruned, running or
  waiting than its ``n_trials`` (``records.N_TRIALS``); otherwise the worker is told the study
  is full (``KeyError``, which Optuna's client passes on). So a study ends with exactly
  ``n_trials`` through the proxy too, beside workers that reach the database directly;
- a worker's heartbeat arrives as a trial system attribute (``HEARTBEAT_ATTR``), which
  the proxy records as the database's own heartbeat; before each reservation it recovers the
  study's trials whose heartbeat went stale, with the study's recorded grace period.
"""

from __future__ import annotations

import threading
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from search.scheduler.handle import StudyHandle
from search.scheduler.recovery import recover_stale_trials
from search.storage import records
from search.storage.database import open_storage
from search.storage.grpc_proxy import HEARTBEAT_ATTR
from search.storage.optuna_internals import trial_study_id
from search.storage.trials import ACTIVE_STATES


class ArbitratingStorage:
    """The storage the proxy serves: ``storage`` as it is, except for reservations and
    heartbeats (above). Not a ``BaseStorage``: Optuna's servicer only calls its methods."""

    def __init__(self, storage: optuna.storages.BaseStorage, url: str, retry_seconds: float):
        self._storage, self._url, self._retry_seconds = storage, url, retry_seconds
        self._studies: dict[int, StudyHandle] = {}  # study id -> with its own heartbeat settings
        self._opening = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._storage, name)

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        if template_trial is not None:  # an enqueued trial (a retry, a warm start): WAITING
            return self._storage.create_new_trial(study_id, template_trial)
        handle = self._handle(study_id)
        with handle.lock.held():
            recover_stale_trials(handle)
            if self._full(handle.study, with_waiting=True):
                raise KeyError(f'study "{handle.study.study_name}" has its n_trials')
            return self._storage.create_new_trial(study_id)

    def set_trial_state_values(self, trial_id: int, state: TrialState, values: Any = None) -> bool:
        if state != TrialState.RUNNING:
            return self._storage.set_trial_state_values(trial_id, state, values)
        # A waiting trial started: it holds a place already, unless the study filled meanwhile.
        handle = self._handle(trial_study_id(self._storage, trial_id))
        with handle.lock.held():
            if self._full(handle.study, with_waiting=False):
                return False
            return self._storage.set_trial_state_values(trial_id, state, values)

    def set_trial_param(self, trial_id: int, *args: Any) -> None:
        try:
            self._storage.set_trial_param(trial_id, *args)
        except KeyError:  # a trial begun before this proxy (re)started, which its cache has not
            # read yet: reading its study's trials teaches it
            self._storage.get_all_trials(trial_study_id(self._storage, trial_id), deepcopy=False)
            self._storage.set_trial_param(trial_id, *args)

    def set_trial_system_attr(self, trial_id: int, key: str, value: Any) -> None:
        if key == HEARTBEAT_ATTR:
            self._storage.record_heartbeat(trial_id)
        else:
            self._storage.set_trial_system_attr(trial_id, key, value)

    def _full(self, study: optuna.Study, *, with_waiting: bool) -> bool:
        n_trials = records.study_record(study, records.N_TRIALS)
        if n_trials is None:  # until a timeout: no limit
            return False
        states = (*ACTIVE_STATES, TrialState.WAITING) if with_waiting else ACTIVE_STATES
        return len(study.get_trials(deepcopy=False, states=states)) >= n_trials

    def _handle(self, study_id: int) -> StudyHandle:
        """The study, opened with its own heartbeat settings, for its reservations."""
        with self._opening:
            if study_id not in self._studies:
                name = self._storage.get_study_name_from_id(study_id)
                recorded = optuna.load_study(study_name=name, storage=self._storage)
                settings = records.study_record(recorded, records.CONFIG)["study"]
                heartbeat = (settings["heartbeat_interval"], settings["grace_period"])
                storage = open_storage(
                    self._url, create=False, heartbeat=heartbeat, retry_seconds=self._retry_seconds
                )
                study = optuna.load_study(study_name=name, storage=storage)
                self._studies[study_id] = StudyHandle.of(study, self._url, self._retry_seconds)
            return self._studies[study_id]


def serve_proxy(url: str, host: str, port: int, retry_seconds: float) -> None:
    """Serve the storage at ``url`` on ``host:port`` until a stop signal.

    Raises:
        StorageError: the storage cannot be opened.
    """
    from optuna.storages._grpc.server import make_server

    storage = optuna.storages.get_storage(
        open_storage(url, create=True, retry_seconds=retry_seconds)  # Optuna's tables if none
    )
    server = make_server(ArbitratingStorage(storage, url, retry_seconds), host, port)
    server.start()
    try:
        server.wait_for_termination()
    finally:  # the calls under way end (1 s at most) before the process does
        server.stop(grace=1).wait()
