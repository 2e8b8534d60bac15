"""A timeout is a budget for the trials and what follows them: the time a trial may still start."""

import datetime

import optuna
import pytest

from search.engine.closing import (
    EVALUATIONS,
    Closing,
    closing_seconds,
    typical_trial_seconds,
)
from search.storage import records


def trial(seconds: float, value: float | None, **attrs: object) -> optuna.trial.FrozenTrial:
    start = datetime.datetime(2026, 12, 3, 9, 0, 0)
    state = optuna.trial.TrialState.COMPLETE if value else optuna.trial.TrialState.PRUNED
    return optuna.trial.FrozenTrial(
        number=0,
        state=state,
        value=value,
        datetime_start=start,
        datetime_complete=start + datetime.timedelta(seconds=seconds),
        params={},
        distributions={},
        user_attrs=attrs,
        system_attrs={},
        intermediate_values={} if value else {1: 0.5},
        trial_id=0,
    )


@pytest.fixture
def study() -> optuna.Study:
    """Two trials of 100 s and 40 s, a pruned one of 30 s and one over the size budget."""
    study = optuna.create_study(direction="maximize")
    study.add_trial(
        trial(
            100,
            0.9,
            **{
                records.HYPERPARAMETERS: {"epochs": 8},
                records.EPOCHS_RUN: 8,
                records.TRAIN_SECONDS: 72.0,
                records.VALIDATION_SECONDS: 8.0,
            },
        )
    )
    study.add_trial(trial(40, 0.8))
    study.add_trial(trial(30, None))
    study.add_trial(trial(0.01, None, **{records.OVER_BUDGET: "too big"}))
    return study


def test_a_trial_is_as_long_as_the_median_of_those_that_completed(study: optuna.Study) -> None:
    assert typical_trial_seconds(study) == 70  # of 100 and 40; the pruned 30 s left out
    pruned_only = optuna.create_study()
    too_big = trial(0.01, None, **{records.OVER_BUDGET: "too big"})  # never trained
    pruned_only.add_trials([trial(30, None), trial(50, None), too_big])
    assert typical_trial_seconds(pruned_only) == 40  # before any completed: those that trained
    assert typical_trial_seconds(optuna.create_study()) == 0


def test_the_student_takes_as_many_of_the_best_trials_epochs(study: optuna.Study) -> None:
    # 72 s of training and 8 s of validation over 8 epochs: 9 s and 1 s an epoch.
    evaluations = (EVALUATIONS + 2 * 5) * 1  # and each of 5 members on validation and test
    teachers = 5 * 9 / 3  # five forward passes over the training images
    assert closing_seconds(study, Closing(True, None, 5)) == evaluations + teachers + 8 * 10
    assert closing_seconds(study, Closing(True, 3, 5)) == evaluations + teachers + 3 * 10
    assert closing_seconds(study, Closing(distills=False)) == EVALUATIONS * 1
    assert closing_seconds(optuna.create_study(), Closing(True, None, 5)) == 0


def test_teachers_that_see_the_mirror_image_too_take_twice_as_long() -> None:
    study = optuna.create_study(direction="maximize")
    attrs = {records.EPOCHS_RUN: 8, records.TRAIN_SECONDS: 72.0, records.VALIDATION_SECONDS: 8.0}
    mirrored = {records.HYPERPARAMETERS: {"epochs": 8, "flip": 1}, **attrs}
    study.add_trial(trial(100, 0.9, **mirrored))
    assert closing_seconds(study, Closing(True, None, 5)) == 13 + 2 * 5 * 9 / 3 + 8 * 10


def test_trials_stop_starting_a_trial_and_a_student_before_the_deadline(
    study: optuna.Study,
) -> None:
    closing = Closing(True, None, 5)
    assert closing.last_start(study, 1000.0) == 1000 - 70 - closing_seconds(study, closing)
