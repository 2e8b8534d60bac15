"""A study's trials counted by state, once for the run's progress, the tables and the report."""

import optuna
from optuna.trial import TrialState, create_trial

from search.storage import records
from search.storage.trials import StudyTally, best_trial, count_done, first_failure, tally


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
