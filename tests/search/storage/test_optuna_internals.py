"""The private Optuna APIs lenet-search relies on, checked against the installed Optuna: if one
changes, these fail first, naming it."""

import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search.storage.optuna_internals import (
    grace_period,
    has_heartbeats,
    reseed_tpe,
    stale_trial_ids,
    storage_of,
    trial_id,
    trial_study_id,
)


def test_a_studys_storage_and_a_trials_id() -> None:
    study = optuna.create_study()
    trial = study.ask()
    assert storage_of(study) is study._storage
    assert storage_of(study).get_trial(trial_id(trial)).number == trial.number
    study.tell(trial, 1.0)
    frozen = study.trials[0]
    assert trial_id(frozen) == trial_id(trial)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_stale_trials_are_found_after_the_grace_period(tmp_path: Path) -> None:
    storage = optuna.storages.RDBStorage(
        f"sqlite:///{tmp_path}/h.db", heartbeat_interval=1, grace_period=2
    )
    study = optuna.create_study(storage=storage)
    assert grace_period(study) == 2
    trial = study.ask()
    storage_of(study).record_heartbeat(trial_id(trial))
    never_beat = study.ask()  # its worker died before its first heartbeat
    assert stale_trial_ids(study) == []
    time.sleep(3.2)  # the database's clock counts whole seconds
    assert stale_trial_ids(study) == sorted([trial_id(trial), trial_id(never_beat)])
    assert study.trials[0].state == TrialState.RUNNING  # found, not failed: that is ours to do


def test_reseeding_tpe_repeats_its_draws() -> None:
    def first_draws(seed: int) -> list[float]:
        sampler = optuna.samplers.TPESampler(seed=123, n_startup_trials=2)
        study = optuna.create_study(sampler=sampler)
        draws = []
        for _ in range(4):  # start-up (random) trials, then TPE's own
            reseed_tpe(sampler, seed)
            trial = study.ask()
            draws.append(trial.suggest_float("x", 0, 1))
            study.tell(trial, draws[-1])
        return draws

    assert first_draws(7) == first_draws(7)
    assert first_draws(7) != first_draws(8)


@pytest.mark.filterwarnings("ignore:Heartbeat of storage:UserWarning")
def test_a_trials_study_and_whether_a_storage_has_heartbeats(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/s.db"
    plain = optuna.create_study(study_name="a", storage=url)
    beating = optuna.create_study(
        study_name="b",
        storage=optuna.storages.RDBStorage(url, heartbeat_interval=1, grace_period=2),
    )
    trial = beating.ask()
    assert trial_study_id(storage_of(plain), trial_id(trial)) == beating._study_id
    assert has_heartbeats(beating) and not has_heartbeats(plain)
    assert stale_trial_ids(plain) == []
