"""Trials of dead workers: failed with a reason once their heartbeat is stale, retried once."""

import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search.scheduler.handle import StudyHandle
from search.scheduler.recovery import fail_and_retry, recover_stale_trials
from search.storage.database import open_storage
from search.storage.optuna_internals import storage_of, trial_id
from search.storage.records import RETRY_OF

pytestmark = pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")


def study_with_heartbeats(tmp_path: Path) -> tuple[optuna.Study, StudyHandle]:
    url = f"sqlite:///{tmp_path}/r.db"
    storage = open_storage(url, create=True, heartbeat=(1, 2))
    study = optuna.create_study(study_name="r", storage=storage, direction="maximize")
    return study, StudyHandle.of(study, url)


def test_a_trial_whose_heartbeat_stopped_is_failed_with_a_reason_and_retried(
    tmp_path: Path,
) -> None:
    study, handle = study_with_heartbeats(tmp_path)
    alive, dead = study.ask(), study.ask()
    dead.suggest_int("conv1_channels", 8, 64)
    storage_of(study).record_heartbeat(trial_id(dead))
    time.sleep(3)  # beyond the grace period of 2 s
    storage_of(study).record_heartbeat(trial_id(alive))
    assert recover_stale_trials(handle) == [dead.number]
    trials = study.get_trials(deepcopy=False)
    assert [t.state for t in trials] == [TrialState.RUNNING, TrialState.FAIL, TrialState.WAITING]
    assert trials[1].user_attrs["fail_reason"] == (
        "its worker sent no heartbeat for over 2 s (the process died or its machine was lost)"
    )
    assert trials[2].user_attrs == {RETRY_OF: dead.number}
    assert recover_stale_trials(handle) == []  # once only
    retry = study.ask()  # the next trial a worker reserves is the retry, with the same values
    assert retry.number == trials[2].number
    assert retry.suggest_int("conv1_channels", 8, 64) == trials[1].params["conv1_channels"]


def test_a_retry_is_not_retried_and_an_ended_trial_is_left_alone(tmp_path: Path) -> None:
    study, _ = study_with_heartbeats(tmp_path)
    study.enqueue_trial({"conv1_channels": 9}, user_attrs={RETRY_OF: 0})
    retry = study.ask()
    retry.suggest_int("conv1_channels", 8, 64)
    assert fail_and_retry(study, trial_id(retry), "gone") == retry.number
    assert fail_and_retry(study, trial_id(retry), "gone again") is None
    assert [t.state for t in study.trials] == [TrialState.FAIL]
    assert study.trials[0].user_attrs["fail_reason"] == "gone"
