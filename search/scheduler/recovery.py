"""Trials whose worker died: failed with a reason, and tried once more with the same parameters.

A worker records a heartbeat for its running trial every ``heartbeat_interval`` seconds. Every
worker looks for trials whose last heartbeat is older than the grace period when it starts, before
each trial it reserves, and at each of its own heartbeats, so a trial whose worker was killed (or
whose machine was lost) is recovered within the grace period and one interval. The retry is a
new trial with the same parameters; it is enqueued, so the next worker to reserve a trial runs it.

Optuna's ``RetryFailedTrialCallback`` would copy the dead trial's user attributes (its fail
reason among them) into the retry, so the retry is enqueued here instead.
"""

from __future__ import annotations

import optuna
from optuna.exceptions import UpdateFinishedTrialError
from optuna.trial import TrialState

from search.scheduler.handle import StudyHandle
from search.storage import records
from search.storage.optuna_internals import grace_period, stale_trial_ids, storage_of


def recover_stale_trials(handle: StudyHandle) -> list[int]:
    """Fail and retry every trial whose worker stopped sending heartbeats; their numbers."""
    recovered, study = [], handle.study
    with handle.lock.held():  # one worker recovers each trial, once
        for trial_id in stale_trial_ids(study):
            reason = (
                f"its worker sent no heartbeat for over {grace_period(study)} s "
                "(the process died or its machine was lost)"
            )
            number = fail_and_retry(study, trial_id, reason)
            if number is not None:
                recovered.append(number)
    return recovered


def fail_and_retry(study: optuna.Study, trial_id: int, reason: str) -> int | None:
    """Fail a RUNNING trial with ``reason`` and enqueue its retry (a retry is not retried).

    Returns the trial's number, or None if it had already ended (another process got there).
    """
    storage = storage_of(study)
    trial = storage.get_trial(trial_id)
    if trial.state != TrialState.RUNNING:
        return None
    try:
        storage.set_trial_user_attr(trial_id, records.FAIL_REASON, reason)
        if not storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
            return None
    except UpdateFinishedTrialError:
        return None
    if records.RETRY_OF not in trial.user_attrs and trial.params:
        study.enqueue_trial(trial.params, user_attrs={records.RETRY_OF: trial.number})
    return trial.number
