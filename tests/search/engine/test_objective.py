"""The objective: one trial sampled, trained with pruning, its model and pictures kept."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from search.config.study_file import load_config
from search.dashboard.pictures import (
    CONFUSION_FILE,
    CURVES_FILE,
)
from search.data.loading import load_dataset
from search.engine.objective import BestEpoch, Objective
from search.engine.training import EpochResult
from search.scheduler.events import Progress
from search.storage import records
from search.storage.artifacts import open_artifact_store
from tests.helpers import DecidedPruner, write_study

PNG = b"\x89PNG\r\n\x1a\n"


def artifacts_of(trial: optuna.trial.FrozenTrial) -> dict[str, dict]:
    """The trial's artifacts by file name, as optuna-dashboard lists them."""
    metas = [json.loads(v) for k, v in trial.system_attrs.items() if k.startswith("artifacts:")]
    return {meta["filename"]: meta for meta in metas}


@pytest.mark.parametrize(("prune", "state"), [(False, "COMPLETE"), (True, "PRUNED")])
def test_a_complete_trial_uploads_its_pictures_and_a_pruned_one_none(
    tmp_path: Path, image_folder: Path, prune: bool, state: str
) -> None:
    path = write_study(tmp_path, search_space={"epochs": 2})
    config = load_config(path)
    dataset = load_dataset(config.data)
    store = open_artifact_store(tmp_path / "artifacts", create=True)
    study = optuna.create_study(direction="maximize", pruner=DecidedPruner(prune))
    study.optimize(Objective(config, dataset, store, Progress()), n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState[state]
    artifacts = artifacts_of(trial)
    if state == "PRUNED":
        assert artifacts == {} and records.PLOT_SECONDS not in trial.user_attrs
        return
    assert set(artifacts) == {"model.keras", CURVES_FILE, CONFUSION_FILE}
    for name in (CURVES_FILE, CONFUSION_FILE):
        assert artifacts[name]["mimetype"] == "image/png"  # the dashboard shows it inline
        with store.open_reader(artifacts[name]["artifact_id"]) as reader:
            assert reader.read(8) == PNG
    seconds = trial.user_attrs[records.PLOT_SECONDS]
    print(f"pictures: {seconds:.3f} s of a {trial.duration.total_seconds():.2f} s trial")
    assert 0 < seconds < trial.duration.total_seconds()


@pytest.mark.parametrize(
    ("prune", "epochs", "state", "epochs_run"),
    [
        (True, 3, "PRUNED", 1),
        (False, 3, "COMPLETE", 3),
        (True, 1, "COMPLETE", 1),  # never pruned after its last epoch: nothing left to save
    ],
)
def test_objective_reports_each_epoch_and_stops_a_pruned_trial(
    tmp_path, image_folder, prune: bool, epochs: int, state: str, epochs_run: int
) -> None:
    path = write_study(tmp_path, search_space={"epochs": epochs})
    config = load_config(path)
    store = open_artifact_store(tmp_path / "artifacts", create=True)
    objective = Objective(config, load_dataset(config.data), store, Progress())
    study = optuna.create_study(direction="maximize", pruner=DecidedPruner(prune))
    study.optimize(objective, n_trials=1)
    trial = study.trials[0]
    assert trial.state == TrialState[state]
    assert sorted(trial.intermediate_values) == list(range(1, epochs_run + 1))
    assert trial.user_attrs["epochs_run"] == epochs_run
    assert ("artifact_id" in trial.user_attrs) == (state == "COMPLETE")
    if state == "COMPLETE":  # the value is the best epoch's, and its weights were saved
        assert trial.value == max(trial.intermediate_values.values())
        # One of the epochs that scored it (of equal ones, the surer: test_training).
        assert trial.intermediate_values[trial.user_attrs["best_epoch"]] == trial.value


class _Weights:
    """What BestEpoch reads of a training: its finite weights and a snapshot of them, here
    the epoch's number."""

    def __init__(self) -> None:
        self.epoch = 0

    def snapshot(self) -> list[int]:
        return [self.epoch]

    def weights_are_finite(self) -> bool:
        return True


def test_the_best_epoch_is_the_most_accurate_and_among_equals_the_surest() -> None:
    import numpy as np

    kept, training = BestEpoch(), _Weights()
    # (accuracy, loss) by epoch: 1.0 first at epoch 2, surer at 4, less sure again at 5.
    for epoch, (val_accuracy, val_loss) in enumerate(
        [(0.9, 0.5), (1.0, 0.9), (0.95, 0.2), (1.0, 0.1), (1.0, 0.3)], start=1
    ):
        training.epoch = epoch
        kept.add(EpochResult(epoch, 0.1, val_loss, val_accuracy, 1.0, 0.1, np.zeros(1)), training)
    assert (kept.epoch, kept.accuracy, kept.val_loss, kept.snapshot) == (4, 1.0, 0.1, [4])
