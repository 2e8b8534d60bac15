"""The one use of the test split: evaluate the best trial's saved model, once per best trial."""

from __future__ import annotations

from dataclasses import dataclass

import optuna

from search.artifacts import ArtifactStore, load_trial_model
from search.data import Dataset
from search.errors import StorageError
from search.trials import best_trial

TEST_KEY_PREFIX = "test_evaluation_trial_"


@dataclass(frozen=True)
class TestEvaluation:
    trial: int
    loss: float
    accuracy: float


def stored_test_evaluation(study: optuna.Study, trial_number: int) -> TestEvaluation | None:
    """The test result stored for ``trial_number``, if that trial was ever evaluated."""
    stored = study.user_attrs.get(f"{TEST_KEY_PREFIX}{trial_number}")
    if stored is None:
        return None
    return TestEvaluation(trial_number, stored["loss"], stored["accuracy"])


def saved_model_id(trial: optuna.trial.FrozenTrial) -> str:
    """The artifact id of a COMPLETE trial's saved model."""
    if "artifact_id" not in trial.user_attrs:
        raise StorageError(
            f"trial {trial.number} has no saved model (it was not run by lenet-search)"
        )
    return trial.user_attrs["artifact_id"]


def evaluate_best_on_test(
    study: optuna.Study, dataset: Dataset, store: ArtifactStore
) -> TestEvaluation | None:
    """Test loss and accuracy of the best trial, computed only when the best trial is new.

    The result is stored on the study under the trial's number, so every use of the test split
    stays visible in the database. Returns None when no trial has completed.
    """
    best = best_trial(study)
    if best is None:
        return None
    stored = stored_test_evaluation(study, best.number)
    if stored is not None:
        return stored
    model = load_trial_model(store, saved_model_id(best))
    loss, accuracy = model.evaluate(dataset.x_test, dataset.y_test, batch_size=1024, verbose=0)
    result = TestEvaluation(best.number, float(loss), float(accuracy))
    study.set_user_attr(
        f"{TEST_KEY_PREFIX}{best.number}", {"loss": result.loss, "accuracy": result.accuracy}
    )
    return result
