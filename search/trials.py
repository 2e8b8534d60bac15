"""Reading finished trials: which count as done, the best one, and what each trained with."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from search import records
from search.progress import StudyTally

# Trials that count towards a study's n_trials; failed ones do not, so a later run tops them up.
DONE_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
# Trials that hold a place in the study: done, or running now.
ACTIVE_STATES = (*DONE_STATES, TrialState.RUNNING)


def count_done(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=DONE_STATES))


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The COMPLETE trial of highest validation accuracy, or None before one completes."""
    try:
        return study.best_trial
    except ValueError:
        return None


def first_failure(study: optuna.Study) -> str | None:
    """The recorded reason of the study's first failed trial, if any failed."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        return trial.user_attrs.get(records.FAIL_REASON, "no reason recorded")
    return None


def tally(study: optuna.Study) -> StudyTally:
    """The study's finished trials, counted by state, and its best trial."""
    trials = study.get_trials(deepcopy=False)
    count = {state: sum(t.state == state for t in trials) for state in TrialState}
    best = best_trial(study)
    return StudyTally(
        complete=count[TrialState.COMPLETE],
        pruned=count[TrialState.PRUNED],
        failed=count[TrialState.FAIL],
        best_number=best.number if best else None,
        best_value=best.value if best else None,
    )
