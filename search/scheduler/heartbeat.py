"""A running trial kept alive in the storage, as Optuna's ``optimize`` keeps its own
(``with Heartbeat(...):``, as in ``optuna/study/_optimize.py``)."""

from __future__ import annotations

import threading

import optuna

from search.scheduler.handle import StudyHandle
from search.scheduler.recovery import recover_stale_trials
from search.storage.grpc_proxy import HEARTBEAT_ATTR, ProxyStorage
from search.storage.optuna_internals import has_heartbeats, storage_of, trial_id
from search.storage.retry import failing_fast


class Heartbeat:
    """While a trial runs (``with Heartbeat(...):``, as Optuna's ``optimize`` runs its own):
    record its heartbeat every interval, so that the study learns if this worker dies, and
    recover the trials of workers that did (``scheduler.recovery``)."""

    def __init__(self, handle: StudyHandle, trial: optuna.Trial) -> None:
        self._handle, self._trial = handle, trial
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def __enter__(self) -> Heartbeat:
        storage, beating = storage_of(self._handle.study), trial_id(self._trial)
        if isinstance(storage, ProxyStorage):  # the proxy records it (scheduler.proxy)
            self._record = lambda: storage.set_trial_system_attr(beating, HEARTBEAT_ATTR, 1)
            interval = self._handle.heartbeat_interval
        elif has_heartbeats(self._handle.study):
            self._record = lambda: storage.record_heartbeat(beating)
            interval = storage.get_heartbeat_interval()
        else:  # a storage opened without heartbeats (a test's)
            return self
        self._record()  # the first beat before training starts
        self._thread = threading.Thread(
            target=self._beat, args=(interval,), name="heartbeat", daemon=True
        )
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _beat(self, interval: int) -> None:
        while not self._stop.wait(interval):
            # A database hiccup must not stop the beats: the trial would look dead to others.
            # Each is tried once, not for the retry window: the trial's end must not wait
            # for a beat, and the next one comes at the next interval anyway.
            for step in (
                self._record,
                lambda: recover_stale_trials(self._handle),
            ):
                try:
                    with failing_fast():
                        step()
                except Exception:  # noqa: BLE001 - tried again at the next beat
                    pass
