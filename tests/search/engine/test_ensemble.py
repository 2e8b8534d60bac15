"""The ensemble of a study's best trials: chosen on validation at the end of `run`, evaluated once
on test per set of members, chosen again when better trials complete, the same model `export`
writes."""

import dataclasses
from pathlib import Path

import numpy as np
import optuna
import pytest

from search.config.settings import SizeBudget
from search.config.study_file import load_config
from search.data.loading import load_dataset
from search.engine.ensemble import (
    choose,
    cross_fitted,
    ensemble_model,
    evaluate_ensemble_on_test,
    within_budget,
)
from search.engine.runner import run_study
from search.storage.artifacts import load_trial_model, open_artifact_store
from search.storage.records import (
    EnsembleChoice,
    latest_ensemble_evaluation,
    store_ensemble_choice,
    stored_ensemble_choice,
    stored_ensemble_evaluation,
)
from search.storage.trials import best_trial, ensemble_members
from tests.helpers import ensembled_study, stored_study


def test_the_mean_of_the_top_k_is_chosen_for_the_k_that_scores_best() -> None:
    assert EnsembleChoice(5, [7, 3, 9, 1], [0.8, 0.85, 0.85, 0.84]).members == [7, 3]
    assert EnsembleChoice(5, [7, 3], [0.9, 0.85]).members == [7]  # the best alone: none
    # Cross-fitted scores, where the choice has them, decide.
    assert EnsembleChoice(
        5, [7, 3, 9], [0.9, 0.85, 0.84], cross_fitted=[0.8, 0.81, 0.83]
    ).members == [7, 3, 9]


def test_k_is_judged_on_images_that_did_not_rank_the_trials() -> None:
    """Twenty trials alike but for chance, 300 validation images: the one ranked best on them
    owes its lead to luck there, and only the cross-fitted score sees that."""
    random = np.random.default_rng(1)
    n_trials, n_images, n_classes, skill = 20, 300, 10, 0.7
    y = random.integers(0, n_classes, n_images)
    right = random.random((n_trials, n_images)) < skill
    predicted = np.where(right, y, (y + random.integers(1, n_classes, (n_trials, n_images))) % 10)
    probabilities = np.full((n_trials, n_images, n_classes), 0.02)
    probabilities[np.arange(n_trials)[:, None], np.arange(n_images), predicted] = 0.82
    ranked = probabilities[np.argsort(-right.mean(axis=1), kind="stable")]
    choice = choose(n_trials, list(range(n_trials)), list(ranked), y)
    assert choice.val_accuracies[0] == right.mean(axis=1).max() > skill + 0.04  # luck
    assert abs(choice.cross_fitted[0] - skill) < 0.02  # none: judged on other images
    assert len(choice.cross_fitted) == n_trials
    assert choice.cross_fitted == cross_fitted(ranked, y)  # seeded: the same choice each time
    # Independent errors: the mean of a few beats any one, on either curve.
    assert len(choice.members) > 5 and choice.cross_fitted[4] > choice.cross_fitted[0] + 0.1


def test_a_choice_stored_before_k_was_cross_fitted_is_made_again(
    finished_study: Path, tmp_path: Path
) -> None:
    study, folder = ensembled_study(finished_study, tmp_path)
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    data = load_dataset(load_config(folder / "tiny.toml").data)
    members = ensemble_members(study, 5)
    store_ensemble_choice(study, EnsembleChoice(5, members, [0.5, 0.6]))  # as stored before
    evaluate_ensemble_on_test(study, data, store, 5)
    choice = stored_ensemble_choice(study)
    assert (choice.considered, len(choice.cross_fitted)) == (members, 2)
    assert choice.val_accuracies != [0.5, 0.6]  # chosen on the study's own predictions


def test_under_a_size_budget_only_members_that_fit_in_it_together_are_considered() -> None:
    study = optuna.create_study(direction="maximize")
    for params in (40_000, 30_000, 20_000, 10_000):
        study.add_trial(
            optuna.trial.create_trial(
                value=0.9, user_attrs={"param_count": params, "flops": params * 10}
            )
        )
    ranked = [0, 1, 2, 3]
    assert within_budget(study, ranked, SizeBudget()) == ranked
    assert within_budget(study, ranked, SizeBudget(max_params=100_000)) == ranked
    assert within_budget(study, ranked, SizeBudget(max_params=90_000)) == [0, 1, 2]
    assert within_budget(study, ranked, SizeBudget(max_mflops=0.5)) == [0]


def test_the_run_chose_its_ensemble_on_validation(finished_study: Path) -> None:
    study = stored_study(finished_study)
    choice = stored_ensemble_choice(study)
    assert (choice.size, choice.considered) == (5, ensemble_members(study, 5))
    assert choice.considered == [t.number for t in sorted(study.trials, key=lambda t: -t.value)]
    # The best alone, rebuilt in float32: its trial's value, give or take a bfloat16 image.
    assert abs(choice.val_accuracies[0] - best_trial(study).value) <= 1 / 12 + 1e-6
    evaluation = latest_ensemble_evaluation(study)
    assert (evaluation is None) == (len(choice.members) == 1)


def test_a_chosen_ensemble_is_evaluated_and_stored(finished_study: Path, tmp_path: Path) -> None:
    study, _ = ensembled_study(finished_study, tmp_path)
    ensemble = latest_ensemble_evaluation(study)
    assert ensemble.members == ensemble_members(study, 5)
    assert (ensemble.size, ensemble.weights, ensemble.n_val, ensemble.n_test) == (
        5,
        [0.5, 0.5],
        12,
        15,
    )
    assert ensemble.param_count == sum(t.user_attrs["param_count"] for t in study.trials)
    assert ensemble.flops == sum(t.user_attrs["flops"] for t in study.trials)
    assert np.isclose(ensemble.difference, ensemble.test_accuracy - ensemble.single_test_accuracy)
    assert ensemble.difference_low <= ensemble.difference <= ensemble.difference_high


def test_the_ensemble_is_the_mean_of_its_members_probabilities(finished_study: Path) -> None:
    study = stored_study(finished_study)
    store = open_artifact_store(finished_study / "tiny_artifacts", create=False)
    data = load_dataset(load_config(finished_study / "tiny.toml").data)
    members = ensemble_members(study, 5)
    by_number = {t.number: t for t in study.trials}
    each = [
        load_trial_model(store, by_number[n].user_attrs["artifact_id"]).predict(
            data.x_val, verbose=0
        )
        for n in members
    ]
    ensemble = ensemble_model(study, store, members).predict(data.x_val, verbose=0)
    np.testing.assert_allclose(ensemble, np.mean(each, axis=0), atol=2e-2)  # bfloat16 members
    np.testing.assert_allclose(ensemble.sum(axis=1), 1.0, rtol=1e-5)


def test_an_ensemble_meets_the_test_split_once(finished_study: Path, tmp_path: Path) -> None:
    study, folder = ensembled_study(finished_study, tmp_path)
    store = open_artifact_store(folder / "tiny_artifacts", create=False)
    data = load_dataset(load_config(folder / "tiny.toml").data)
    stored = latest_ensemble_evaluation(study)
    # Other test labels: evaluated again, the ensemble would score otherwise.
    relabelled = dataclasses.replace(data, y_test=(data.y_test + 1) % 3)
    assert evaluate_ensemble_on_test(study, relabelled, store, 5) == stored
    assert evaluate_ensemble_on_test(study, data, store, 0) is None  # size 0: no ensemble


@pytest.mark.slow
def test_a_resume_with_new_trials_chooses_again(finished_study: Path, tmp_path: Path) -> None:
    study, folder = ensembled_study(finished_study, tmp_path)
    before = latest_ensemble_evaluation(study)
    config = load_config(folder / "tiny.toml", n_trials=3)
    result = run_study(config, load_dataset(config.data))
    choice = stored_ensemble_choice(result.study)
    assert sorted(choice.considered) == [0, 1, 2]
    assert choice.considered == ensemble_members(result.study, 5)
    assert result.ensemble == latest_ensemble_evaluation(result.study)
    assert (result.ensemble is None) == (len(choice.members) == 1)
    # The earlier ensemble's one evaluation stays on the study, as every use of the test split.
    assert stored_ensemble_evaluation(result.study, before.members) == before
