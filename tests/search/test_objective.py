"""The objective's pictures: a COMPLETE trial uploads its learning curves and confusion matrix."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import optuna
import pytest
from optuna.trial import TrialState

from search import records
from search.artifacts import open_artifact_store
from search.config import load_config
from search.data import load_dataset
from search.objective import Objective
from search.progress import Progress
from search.training import EpochResult
from search.trial_pictures import (
    CONFUSION_FILE,
    CURVES_FILE,
    confusion_counts,
    confusion_matrix_png,
    learning_curves_png,
)
from tests.conftest import write_study

PNG = b"\x89PNG\r\n\x1a\n"


class DecidedPruner(optuna.pruners.BasePruner):
    """The pruner's decision, fixed: the objective and the study around it are real."""

    def __init__(self, prune: bool) -> None:
        self.decision = prune

    def prune(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> bool:
        return self.decision


def artifacts_of(trial: optuna.trial.FrozenTrial) -> dict[str, dict]:
    """The trial's artifacts by file name, as optuna-dashboard lists them."""
    metas = [json.loads(v) for k, v in trial.system_attrs.items() if k.startswith("artifacts:")]
    return {meta["filename"]: meta for meta in metas}


@pytest.mark.parametrize(("prune", "state"), [(False, "COMPLETE"), (True, "PRUNED")])
def test_a_complete_trial_uploads_its_pictures_and_a_pruned_one_none(
    tmp_path: Path, image_folder: Path, prune: bool, state: str
) -> None:
    path = write_study(tmp_path, edits={"epochs = { low = 1, high = 3 }": "epochs = 2"})
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


def test_the_confusion_matrix_counts_true_classes_down_and_predictions_across() -> None:
    counts = confusion_counts(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_pictures_are_pngs_for_one_epoch_and_for_many_classes() -> None:
    one_epoch = [EpochResult(1, 0.9, 1.0, 0.5, 1.0, 0.1, np.array([0, 1]))]
    assert learning_curves_png(one_epoch, best_epoch=1).startswith(PNG)
    rng = np.random.default_rng(0)
    names = [f"class number {n}" for n in range(40)]  # too many to name or count in cells
    y = rng.integers(0, 40, 500)
    assert confusion_matrix_png(y, rng.integers(0, 40, 500), names).startswith(PNG)


def test_drawing_is_imported_only_when_a_picture_is_drawn() -> None:
    script = "import sys, search.trial_pictures; assert 'matplotlib' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
