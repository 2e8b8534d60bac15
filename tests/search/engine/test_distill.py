"""The student distilled from the ensemble: trained on its probabilities, within the size budget,
evaluated once on the test split, stored, and none (said so) where there is no ensemble."""

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from models import count_params
from search.config.settings import DistillSettings
from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.engine.distill import distill_student
from search.engine.training import _soften
from search.outputs.tables import best_report
from search.space.hyperparameters import architecture
from search.storage.artifacts import load_trial_model, open_artifact_store
from search.storage.records import (
    EnsembleChoice,
    latest_ensemble_evaluation,
    latest_student,
    store_ensemble_choice,
)
from search.storage.trials import best_trial, current_student, ensemble_members
from tests.helpers import accuracy_of, copy_of, distilled_study, stored_study


def test_softening_flattens_the_teachers_probabilities() -> None:
    p = tf.constant([[0.7, 0.2, 0.1]])
    np.testing.assert_allclose(_soften(p, 1.0).numpy(), p.numpy(), rtol=1e-5)
    softer = _soften(p, 2.0).numpy()[0]
    expected = np.sqrt([0.7, 0.2, 0.1]) / np.sqrt([0.7, 0.2, 0.1]).sum()
    np.testing.assert_allclose(softer, expected, rtol=1e-5)


def test_the_student_is_stored_within_the_budget_and_scores_what_it_stored(
    finished_study: Path, tmp_path: Path
) -> None:
    study, folder = distilled_study(finished_study, tmp_path)
    config = load_config(folder / "tiny.toml")
    data = load_dataset(config.data)
    student, ensemble = latest_student(study), latest_ensemble_evaluation(study)
    assert current_student(study) == student
    best = best_trial(study)
    assert (student.teachers, student.trial) == (ensemble.members, best.number)
    assert student.params["epochs"] == best.params.get("epochs", student.params["epochs"])
    # The best trial's network: never larger than a trial the size budget let train.
    arch = architecture(student.params, data.input_shape, len(data.class_names))
    assert student.param_count == count_params(arch) == best.user_attrs["param_count"]
    assert (student.n_val, student.n_test) == (len(data.y_val), len(data.y_test))
    assert student.single_val_accuracy == best.value
    assert np.isclose(student.difference, student.test_accuracy - student.single_test_accuracy)
    assert student.difference_low <= student.difference <= student.difference_high
    assert student.preferred == (student.val_accuracy > best.value)

    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    model = load_trial_model(store, student.artifact_id)
    assert {layer.compute_dtype for layer in model.layers} == {"float32"}
    val_accuracy = accuracy_of(model, data.x_val, data.y_val)
    test_accuracy = accuracy_of(model, data.x_test, data.y_test)
    assert (val_accuracy, test_accuracy) == (student.val_accuracy, student.test_accuracy)

    report = best_report(study)
    assert f"  student:             trial {best.number}'s network distilled" in report
    assert f"    validation:        {student.val_accuracy:.4f} (trial {best.number}:" in report


def test_a_student_meets_the_test_split_once(finished_study: Path, tmp_path: Path) -> None:
    study, folder = distilled_study(finished_study, tmp_path)
    config = load_config(folder / "tiny.toml")
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    data = load_dataset(config.data)
    stored = latest_student(study)
    relabelled = dataclasses.replace(data, y_test=(data.y_test + 1) % 3)
    ensemble = latest_ensemble_evaluation(study)
    # Other test labels: evaluated again, the student would score otherwise.
    assert distill_student(study, relabelled, store, ensemble, config.distill, 0) == stored


def test_no_ensemble_no_student_and_the_summary_says_so(
    finished_study: Path, tmp_path: Path
) -> None:
    folder = copy_of(finished_study, tmp_path)
    study = stored_study(folder)
    config = load_config(folder / "tiny.toml")
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    data = load_dataset(config.data)
    # The best trial alone scored best on validation: no ensemble.
    store_ensemble_choice(study, EnsembleChoice(5, ensemble_members(study, 5), [0.6, 0.5]))
    assert distill_student(study, data, store, None, config.distill, 0) is None
    assert latest_student(study) is None
    assert (
        "  student:             none: a student learns from the study's ensemble, and it has "
        "none" in best_report(study)
    )


def test_distill_can_be_turned_off(finished_study: Path, tmp_path: Path) -> None:
    study, folder = distilled_study(finished_study, tmp_path)
    data = load_dataset(load_config(folder / "tiny.toml").data)
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    off = DistillSettings(enabled=False)
    assert distill_student(study, data, store, latest_ensemble_evaluation(study), off, 0) is None


@pytest.mark.slow
def test_a_run_with_an_ensemble_distills_a_student(tmp_path: Path) -> None:
    """The whole `run`: trials, ensemble, student, each stored, the summary naming them."""
    from search.engine.runner import run_study
    from tests.helpers import make_image_folder, write_study

    make_image_folder(tmp_path / "shapes")
    path = write_study(
        tmp_path,
        n_trials=3,
        search_space={"epochs": 2, "conv1_channels": 8, "conv2_channels": 8, "dense_units": 16},
    )
    config = load_config(path)
    result = run_study(config, load_dataset(config.data))
    if result.ensemble is None:  # three equal networks, seeds apart: the best alone may win
        assert result.student is None
        return
    assert result.student == latest_student(result.study)
    assert result.student.teachers == result.ensemble.members
