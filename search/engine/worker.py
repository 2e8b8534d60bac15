"""Run trials until the study has enough: the loop of every worker, in-process or spawned.

A worker reserves a trial under the study's lock (so that all workers together start exactly as
many trials as the study lacks), trains it while a heartbeat thread keeps it alive in the
storage, and records how it ended. Ctrl-C or SIGTERM (``runtime.interrupts``) fails the trial
in progress with a reason and never leaves it RUNNING.
"""

from __future__ import annotations

import os
import resource
import socket
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from search.engine.closing import Closing, last_start
from search.engine.events import Progress, TrialOutcome
from search.engine.recovery import recover_stale_trials
from search.errors import LenetSearchError
from search.runtime import interrupts
from search.storage import records
from search.storage.database import study_lock
from search.storage.optuna_internals import storage_of, trial_id
from search.storage.trials import ACTIVE_STATES


class Heartbeat:
    """While a trial runs (``with Heartbeat(...):``, as Optuna's ``optimize`` runs its own):
    record its heartbeat every interval, so that the study learns if this worker dies, and
    recover the trials of workers that did (``engine.recovery``)."""

    def __init__(self, study: optuna.Study, trial: optuna.Trial, storage_url: str) -> None:
        self._study, self._trial, self._storage_url = study, trial, storage_url
        self._stop = threading.Event()

    def __enter__(self) -> Heartbeat:
        storage = storage_of(self._study)
        beating = trial_id(self._trial)
        storage.record_heartbeat(beating)  # the first beat before training starts
        self._thread = threading.Thread(
            target=self._beat,
            args=(self._study, beating, self._storage_url, storage.get_heartbeat_interval()),
            name="heartbeat",
            daemon=True,
        )
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _beat(self, study: optuna.Study, beating: int, storage_url: str, interval: int) -> None:
        while not self._stop.wait(interval):
            # A database hiccup must not stop the beats: the trial would look dead to others.
            for step in (
                lambda: storage_of(study).record_heartbeat(beating),
                lambda: recover_stale_trials(study, storage_url),
            ):
                try:
                    step()
                except Exception:  # noqa: BLE001 - tried again at the next beat
                    pass


# The budget of a run that only a timeout ends: more trials than any deadline lets start.
NO_BUDGET = 2**31 - 1


@dataclass
class RunLimits:
    """When a worker stops starting trials."""

    n_trials: int | None  # full with this many COMPLETE, PRUNED or RUNNING; None: no limit
    budget: Any  # a multiprocessing.Value("i"): trials this run may still start, all workers
    deadline: float | None  # time.time() by which the run should end
    max_trials: int | None = None  # this process stops after running this many
    # What the run does after its trials (`run`'s student), whose time the deadline must leave.
    closing: Closing | None = None

    def may_start(self, study: optuna.Study) -> bool:
        """Whether a trial started now would end in time: before the deadline, with the time
        that what follows needs."""
        return self.deadline is None or time.time() < last_start(
            study, self.deadline, self.closing
        )


def run_trials(
    study: optuna.Study,
    objective: Callable[[optuna.Trial], float],
    limits: RunLimits,
    progress: Progress,
    storage_url: str,
    failing: tuple[type[Exception], ...],
) -> int:
    """Reserve, run and record trials until the study or this run's budget is full, or this
    process ran ``limits.max_trials``; the number of trials it ran.

    ``failing`` exceptions fail their trial (with the message as ``fail_reason``) and the loop
    goes on; any other exception, Ctrl-C included, fails the trial and is raised.
    """
    ran = 0
    while limits.may_start(study):
        interrupts.check()
        if limits.max_trials is not None and ran >= limits.max_trials:
            break
        trial = reserve_trial(study, limits, storage_url)
        if trial is None:
            break
        state, value, reason, error = TrialState.FAIL, None, None, None
        taken = False  # failed as dead by another worker while this one was stopped
        with Heartbeat(study, trial, storage_url):
            try:
                value, state = objective(trial), TrialState.COMPLETE
            except optuna.TrialPruned:
                state = TrialState.PRUNED
            except failing as e:
                reason = str(e)
            except KeyboardInterrupt as e:
                reason, error = "interrupted (Ctrl-C)", e
            except UpdateFinishedTrialError:
                taken = True
            except LenetSearchError as e:  # the user's to mend (a full disk): said, not a bug
                reason, error = str(e), e
            except Exception as e:  # a bug: record the trial as failed, then let it surface
                reason, error = f"{type(e).__name__}: {e}", e
        if taken or not _record_end(study, trial, state, value, reason):
            # This process was stopped (SIGSTOP, a preempted machine, a long swap) past the
            # grace period: another worker failed its trial and retries it; the retry stands.
            progress.note(
                f"trial {trial.number}: another worker took it for dead while this one was "
                "stopped, and retries it; this worker drops it and goes on"
            )
            if error is not None:
                raise error
            ran += 1
            continue
        epochs_run = trial.user_attrs.get(records.EPOCHS_RUN)
        excess = trial.user_attrs.get(records.OVER_BUDGET)
        outcome = TrialOutcome(
            trial.number,
            state.name,
            value,
            epochs_run,
            reason or excess,
            excess is not None,
            trial.user_attrs.get(records.VAL_LOSS),
        )
        progress.trial_ended(outcome)
        ran += 1
        if error is not None:
            raise error
    return ran


def reserve_trial(study: optuna.Study, limits: RunLimits, storage_url: str) -> optuna.Trial | None:
    """A new RUNNING trial, or None when the study is full or this run's budget is spent."""
    recover_stale_trials(study, storage_url)  # trials of dead workers free their places first
    with study_lock(storage_url, study.study_name):
        active = len(study.get_trials(deepcopy=False, states=ACTIVE_STATES))
        # A retry repeats the trial of a worker that died, so it does not spend this run's
        # budget (which stops a run whose every trial fails); study.ask() runs it first.
        waiting = study.get_trials(deepcopy=False, states=(TrialState.WAITING,))
        retry = bool(waiting) and records.RETRY_OF in waiting[0].user_attrs
        full = limits.n_trials is not None and active >= limits.n_trials
        if full or (limits.budget.value <= 0 and not retry):
            return None
        if not retry:
            limits.budget.value -= 1
        with warnings.catch_warnings():
            # Optuna warns that heartbeats belong to Study.optimize; ours are run by Heartbeat.
            warnings.filterwarnings("ignore", "Heartbeat of storage", UserWarning)
            return study.ask()


def _record_end(
    study: optuna.Study,
    trial: optuna.Trial,
    state: TrialState,
    value: float | None,
    reason: str | None,
) -> bool:
    """Record how the trial ended; False if it had ended already (another worker failed it as
    dead while this one was stopped)."""
    try:
        trial.set_user_attr(records.WORKER, f"{socket.gethostname()}:{os.getpid()}")
        trial.set_user_attr(records.WORKER_RSS_MB, round(current_rss_mb(), 1))
        if reason is not None:
            trial.set_user_attr(records.FAIL_REASON, reason)
        value = value if state == TrialState.COMPLETE else None
        study.tell(trial, value, state=state, skip_if_finished=True)
    except UpdateFinishedTrialError:
        return False
    return True


def current_rss_mb() -> float:
    """This process's resident memory now (Linux), or its peak where /proc is missing."""
    try:
        with open("/proc/self/statm") as f:
            pages = int(f.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
