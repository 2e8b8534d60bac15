"""The one use of the test split: evaluate the best trial's saved model, once per best trial.

Besides loss and accuracy, the evaluation keeps what each test image was classified as (an
``.npz`` in the artifact store, with the images it got wrong), so that the report can show the
confusion matrix and the mistakes without loading the data or the model again.
"""

from __future__ import annotations

import io
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import optuna
from optuna.artifacts.exceptions import ArtifactNotFound

from search.data.dataset import Dataset
from search.errors import StorageError
from search.stats import loss_and_accuracy
from search.storage import records
from search.storage.artifacts import ArtifactStore, load_trial_model
from search.storage.records import TestEvaluation, store_test_evaluation, stored_test_evaluation
from search.storage.trials import best_trial

PREDICTIONS_FILE = "test_predictions.npz"


@dataclass(frozen=True, eq=False)
class Predictions:
    """How the evaluated model classified each test image."""

    y_true: np.ndarray  # (N,) class index
    y_pred: np.ndarray  # (N,) class index: the argmax of ``probabilities``
    probabilities: np.ndarray  # (N, classes) float16
    wrong_index: np.ndarray  # (K,) where y_true != y_pred, in order
    wrong_images: np.ndarray  # (K, height, width, channels) uint8: those images, as pixels

    @classmethod
    def of(cls, y_true: np.ndarray, probabilities: np.ndarray, x: np.ndarray) -> Predictions:
        """From the labels, the model's softmax output and the scaled (0..1) images."""
        y_true = np.asarray(y_true).astype(np.int32)
        y_pred = np.argmax(probabilities, axis=1).astype(np.int32)
        wrong = np.flatnonzero(y_true != y_pred)
        pixels = np.clip(np.rint(x[wrong] * 255), 0, 255).astype(np.uint8)
        return cls(y_true, y_pred, probabilities.astype(np.float16), wrong, pixels)


def saved_model_id(trial: optuna.trial.FrozenTrial) -> str:
    """The artifact id of a COMPLETE trial's saved model."""
    if records.ARTIFACT_ID not in trial.user_attrs:
        raise StorageError(
            f"trial {trial.number} has no saved model (it was not run by lenet-search)"
        )
    return trial.user_attrs[records.ARTIFACT_ID]


def evaluate_best_on_test(
    study: optuna.Study, dataset: Dataset, store: ArtifactStore
) -> TestEvaluation | None:
    """Test loss and accuracy of the best trial, computed only when the best trial is new.

    The result is stored on the study under the trial's number, so every use of the test split
    stays visible in the database; each image's prediction goes to the artifact store. Returns
    None when no trial has completed.
    """
    best = best_trial(study)
    if best is None:
        return None
    stored = stored_test_evaluation(study, best.number)
    if stored is not None:
        return stored
    model = load_trial_model(store, saved_model_id(best))
    probabilities = model.predict(dataset.x_test, batch_size=1024, verbose=0)
    loss, accuracy = loss_and_accuracy(probabilities, dataset.y_test)
    predictions = Predictions.of(dataset.y_test, probabilities, dataset.x_test)
    predictions_id = save_predictions(study, store, predictions)
    result = TestEvaluation(best.number, loss, accuracy, len(dataset.y_test), predictions_id)
    store_test_evaluation(study, result)
    return result


def save_predictions(study: optuna.Study, store: ArtifactStore, predictions: Predictions) -> str:
    """Upload ``predictions`` as an artifact of the study and return its id.

    It belongs to the study, not the trial: Optuna lets nobody add to a finished trial.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / PREDICTIONS_FILE
        np.savez_compressed(
            path,
            y_true=predictions.y_true,
            y_pred=predictions.y_pred,
            probabilities=predictions.probabilities,
            wrong_index=predictions.wrong_index,
            wrong_images=predictions.wrong_images,
        )
        return optuna.artifacts.upload_artifact(
            artifact_store=store, file_path=str(path), study_or_trial=study
        )


def load_predictions(store: ArtifactStore, artifact_id: str) -> Predictions:
    """The predictions ``save_predictions`` stored.

    Raises:
        StorageError: they are not in ``store``, or cannot be read.
    """
    try:
        reader = store.open_reader(artifact_id)
    except ArtifactNotFound:
        raise StorageError(
            f"the test predictions {artifact_id} are not in the study's artifact store "
            "(if its folder moved, pass --artifacts DIR)"
        ) from None
    try:
        content = reader.read()
    finally:
        reader.close()
    try:
        with np.load(io.BytesIO(content), allow_pickle=False) as arrays:
            return Predictions(**{name: arrays[name] for name in arrays.files})
    except (OSError, ValueError, TypeError) as e:
        raise StorageError(f"the test predictions {artifact_id} cannot be read: {e}") from None
