"""A study's trials counted by state, once for the run's progress, the tables and the report."""

import optuna
from optuna.trial import TrialState, create_trial

from search.storage import records
from search.storage.records import EnsembleChoice, store_ensemble_choice
from search.storage.trials import (
    StudyTally,
    best_trial,
    count_done,
    ensemble_members,
    first_failure,
    latest_ensemble,
    tally,
)


def test_a_study_is_counted_by_state_and_said_in_optunas_order() -> None:
    study = optuna.create_study(direction="maximize")
    assert (best_trial(study), count_done(study), first_failure(study)) == (None, 0, None)
    assert tally(study).summary() == "0 trials"
    for state, value in (
        (TrialState.COMPLETE, 0.7),
        (TrialState.COMPLETE, 0.9),
        (TrialState.PRUNED, None),
        (TrialState.FAIL, None),
    ):
        study.add_trial(create_trial(state=state, value=value))
    study.ask()  # one running
    counted = tally(study)
    assert counted == StudyTally(2, 1, 1, 1, 0, best_number=1, best_value=0.9)
    assert (counted.done, counted.total) == (3, 5)
    assert counted.summary() == "5 trials: 1 running, 2 complete, 1 pruned, 1 fail"
    assert count_done(study) == 3
    assert first_failure(study) == "no reason recorded"


def test_the_first_failure_gives_its_reason() -> None:
    study = optuna.create_study()
    study.add_trial(
        create_trial(state=TrialState.FAIL, user_attrs={records.FAIL_REASON: "NaN loss"})
    )
    assert first_failure(study) == "NaN loss"


def test_a_tally_adds_the_trials_a_run_ends() -> None:
    counted = StudyTally()
    counted.add(3, "PRUNED", None)
    counted.add(4, "COMPLETE", 0.8)
    counted.add(5, "COMPLETE", 0.7)
    counted.add(6, "FAIL", None)
    assert (counted.complete, counted.pruned, counted.failed) == (2, 1, 1)
    assert (counted.best_number, counted.best_value) == (4, 0.8)


def test_one_trial_is_one_trial() -> None:
    assert StudyTally(complete=1).summary() == "1 trial: 1 complete"
    assert StudyTally(complete=1, pruned=1).summary() == "2 trials: 1 complete, 1 pruned"


def add_complete(study: optuna.Study, *values: float) -> None:
    for value in values:
        attrs = {records.ARTIFACT_ID: f"model-{len(study.trials)}"}
        study.add_trial(create_trial(state=TrialState.COMPLETE, value=value, user_attrs=attrs))


def test_an_ensemble_cut_by_the_size_budget_is_current_until_a_trial_ranks_above_the_cut() -> None:
    study = optuna.create_study(direction="maximize")
    add_complete(study, 0.9, 0.8, 0.7)
    # Of the 5 best, the budget let trials 0 and 1 in and kept trial 2 out.
    store_ensemble_choice(study, EnsembleChoice(5, [0, 1], [0.9, 0.92], left_out=2))
    assert latest_ensemble(study).current
    add_complete(study, 0.6)  # ranked after the trial kept out: the same choice again
    assert latest_ensemble(study).current
    add_complete(study, 0.85)  # ranked second: a new choice would consider it
    assert not latest_ensemble(study).current


def test_an_ensemble_of_fewer_trials_than_its_size_is_stale_once_another_completes() -> None:
    study = optuna.create_study(direction="maximize")
    add_complete(study, 0.9, 0.8)
    store_ensemble_choice(study, EnsembleChoice(5, [0, 1], [0.9, 0.92]))
    assert latest_ensemble(study).current
    add_complete(study, 0.6)  # a third of the 5 best: considered next time
    assert not latest_ensemble(study).current


def test_of_trials_equally_accurate_the_surer_is_best_everywhere() -> None:
    study = optuna.create_study(direction="maximize")
    for value, loss in ((0.9, 0.2), (1.0, 0.5), (1.0, 0.1), (1.0, 0.1)):
        attrs = {records.ARTIFACT_ID: "m", records.VAL_LOSS: loss}
        study.add_trial(create_trial(state=TrialState.COMPLETE, value=value, user_attrs=attrs))
    assert best_trial(study).number == 2  # the lower loss; of equal losses the earlier
    assert ensemble_members(study, 3) == [2, 3, 1]
    assert (tally(study).best_number, tally(study).best_value) == (2, 1.0)
    counted = StudyTally()  # as the run's progress adds the trials that end
    for trial in study.trials:
        counted.add(
            trial.number, "COMPLETE", trial.value, val_loss=trial.user_attrs[records.VAL_LOSS]
        )
    assert counted.best_number == 2
