"""The one evaluation on the test split, and the per-image predictions it keeps."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import optuna
import pytest

from search.engine.evaluation import evaluate_best_on_test, load_predictions
from search.storage import records
from search.storage.artifacts import open_artifact_store
from search.storage.records import stored_test_evaluation
from search.storage.trials import best_trial
from tests.helpers import stored_study, study_with_mistakes


def test_the_run_kept_each_test_images_prediction(finished_study: Path) -> None:
    study = stored_study(finished_study)
    evaluation = stored_test_evaluation(study, best_trial(study).number)
    store = open_artifact_store(finished_study / "tiny_artifacts", create=False)
    predictions = load_predictions(store, evaluation.predictions_id)
    n = records.study_record(study, records.DATA)["sizes"]["test"]
    assert len(predictions.y_true) == len(predictions.y_pred) == evaluation.n_images == n
    assert predictions.probabilities.shape == (n, 3)
    assert predictions.probabilities.dtype == np.float16
    assert np.allclose(predictions.probabilities.astype(np.float32).sum(axis=1), 1, atol=1e-2)
    assert (predictions.y_pred == predictions.probabilities.argmax(axis=1)).all()
    wrong = predictions.y_true != predictions.y_pred
    assert len(predictions.wrong_images) == len(predictions.wrong_index) == wrong.sum()
    assert np.mean(~wrong) == pytest.approx(evaluation.accuracy)  # Keras counts in float32
    # An artifact of the study (a finished trial takes no more), so the dashboard lists it.
    listed = optuna.artifacts.get_all_artifact_meta(study)
    assert [meta.filename for meta in listed] == ["test_predictions.npz"]


def test_evaluation_stores_the_predictions_once(finished_study: Path, tmp_path: Path) -> None:
    study, dataset = study_with_mistakes(finished_study, tmp_path)
    artifacts = Path(study.user_attrs[records.ARTIFACT_DIR])
    store = open_artifact_store(artifacts, create=False)
    before = set(artifacts.iterdir())

    evaluation = evaluate_best_on_test(study, dataset, store)
    predictions = load_predictions(store, evaluation.predictions_id)
    assert evaluation.trial == best_trial(study).number
    assert len(predictions.y_true) == evaluation.n_images == len(dataset.y_test)
    assert (predictions.y_true == dataset.y_test).all()
    wrong = np.flatnonzero(predictions.y_true != predictions.y_pred)
    assert len(wrong) >= len(dataset.y_test) // 2  # the changed labels, at least
    assert (predictions.wrong_index == wrong).all()
    assert len(predictions.wrong_images) == len(wrong)
    expected = np.rint(dataset.x_test[wrong] * 255).astype(np.uint8)
    assert predictions.wrong_images.dtype == np.uint8
    assert (predictions.wrong_images == expected).all()
    assert evaluation.accuracy == pytest.approx(1 - len(wrong) / len(dataset.y_test))
    assert {path.name for path in set(artifacts.iterdir()) - before} == {evaluation.predictions_id}

    # The same best trial is never evaluated again: no second file, the same record.
    assert evaluate_best_on_test(study, dataset, store) == evaluation
    assert len(set(artifacts.iterdir()) - before) == 1
    assert stored_test_evaluation(study, evaluation.trial) == evaluation
