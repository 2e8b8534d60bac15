"""The report's ensemble section: how the ensemble was chosen, cross-fitted or not."""

from __future__ import annotations

import optuna

from search.outputs.report.ensemble import ensemble_section
from search.storage.records import EnsembleChoice, store_ensemble_choice


def two_trial_study() -> optuna.Study:
    study = optuna.create_study(direction="maximize")
    for value, artifact in ((0.9, "a"), (0.85, "b")):
        study.add_trial(
            optuna.trial.create_trial(value=value, user_attrs={"artifact_id": artifact})
        )
    return study


def test_the_section_gives_the_cross_fitted_means_k_is_chosen_by() -> None:
    study = two_trial_study()
    store_ensemble_choice(study, EnsembleChoice(5, [0, 1], [0.9, 0.88], cross_fitted=[0.87, 0.86]))
    section = ensemble_section(study)
    assert "(top 1: 0.9000, top 2: 0.8800). k is chosen by the same means cross-fitted" in section
    assert "does not flatter (0.8700, 0.8600).</p>" in section
    assert "The best trial alone scored best: the study has no ensemble." in section


def test_a_choice_stored_before_cross_fitting_shows_the_plain_means_alone() -> None:
    study = two_trial_study()
    store_ensemble_choice(study, EnsembleChoice(5, [0, 1], [0.9, 0.88]))
    section = ensemble_section(study)
    assert "(top 1: 0.9000, top 2: 0.8800).</p>" in section
    assert "cross-fitted" not in section
