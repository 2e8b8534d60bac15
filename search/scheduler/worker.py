"""Run trials until the study has enough: the loop of every worker, in-process or spawned.

A worker reserves a trial under the study's lock (so that all workers together start exactly as
many trials as the study lacks), trains it while a heartbeat thread keeps it alive in the
storage, and records how it ended. Ctrl-C or SIGTERM (``runtime.interrupts``) fails the trial
in progress with a reason. Only a database that cannot take the record (away for longer than
its retry window, or on a full disk) leaves a trial RUNNING, for the recovery of dead workers'
trials (``scheduler.recovery``).
"""

from __future__ import annotations

import os
import resource
import socket
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from search.errors import DiskFull, LenetSearchError, StorageError
from search.runtime import interrupts
from search.scheduler.events import Progress, TrialOutcome
from search.scheduler.handle import StudyHandle
from search.scheduler.heartbeat import Heartbeat
from search.scheduler.recovery import recover_stale_trials
from search.storage import records
from search.storage.reconnecting import DatabaseAway
from search.storage.trials import ACTIVE_STATES

# The budget of a run that only a timeout ends: more trials than any deadline lets start.
NO_BUDGET = 2**31 - 1


@dataclass
class Budget:
    """Trials a run may still start, in one process (the pool shares a multiprocessing.Value)."""

    value: int

    @classmethod
    def of(cls, trials_left: int | None) -> Budget:
        return cls(NO_BUDGET if trials_left is None else trials_left)


@dataclass
class RunLimits:
    """When a worker stops starting trials."""

    n_trials: int | None  # full with this many COMPLETE, PRUNED or RUNNING; None: no limit
    budget: Any  # a Budget, or the pool's multiprocessing.Value("i"), shared by its workers
    deadline: float | None  # time.time() by which the run should end
    max_trials: int | None = None  # this process stops after running this many
    # What the run does after its trials (`run`'s student), whose time the deadline must leave.
    closing: Closing | None = None

    def may_start(self, study: optuna.Study) -> bool:
        """Whether a trial started now would end in time: before the deadline, with the time
        that what follows needs."""
        if self.deadline is None:
            return True
        last = self.deadline
        if self.closing is not None:
            last = self.closing.last_start(study, self.deadline)
        return time.time() < last


class Closing(Protocol):
    """What a run does after its trials (``search.engine.closing``): picklable, for workers."""

    def last_start(self, study: optuna.Study, deadline: float) -> float:
        """The time after which a trial started would end too late for what follows."""


def run_trials(
    handle: StudyHandle,
    objective: Callable[[optuna.Trial], float],
    limits: RunLimits,
    progress: Progress,
    failing: tuple[type[Exception], ...],
) -> int:
    """Reserve, run and record trials until the study or this run's budget is full, or this
    process ran ``limits.max_trials``; the number of trials it ran.

    ``failing`` exceptions fail their trial (with the message as ``fail_reason``) and the loop
    goes on; any other exception, Ctrl-C included, fails the trial and is raised.
    """
    ran, study = 0, handle.study
    while limits.may_start(study):
        interrupts.check()
        if limits.max_trials is not None and ran >= limits.max_trials:
            break
        trial = reserve_trial(handle, limits)
        if trial is None:
            break
        state, value, reason, error = TrialState.FAIL, None, None, None
        taken = False  # failed as dead by another worker while this one was stopped
        with Heartbeat(handle, trial):
            try:
                value, state = objective(trial), TrialState.COMPLETE
            except optuna.TrialPruned:
                state = TrialState.PRUNED
            except DatabaseAway as e:  # nothing can be recorded: the trial is left RUNNING
                raise _left_running(e, trial) from None
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
        try:
            recorded = not taken and _record_end(study, trial, state, value, reason)
        except (DatabaseAway, DiskFull) as e:  # the database could not take it
            raise _left_running(e, trial) from None
        if not recorded:
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


def _left_running(error: StorageError, trial: optuna.Trial) -> StorageError:
    return type(error)(
        f"{error}; trial {trial.number} is left RUNNING, for the next run or another worker "
        "to retry once its heartbeat is stale"
    )


def reserve_trial(handle: StudyHandle, limits: RunLimits) -> optuna.Trial | None:
    """A new RUNNING trial, or None when the study is full or this run's budget is spent."""
    recover_stale_trials(handle)  # trials of dead workers free their places first
    study = handle.study
    with handle.lock.held():
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
            try:
                return study.ask()
            except KeyError:  # behind the storage proxy, which arbitrates: the study is full
                return None


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
