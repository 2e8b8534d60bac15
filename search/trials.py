"""Reading finished trials: which count as done, the best one, and what each trained with."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import TrialState

# Trials that count towards a study's n_trials; failed ones do not, so a later run tops them up.
DONE_STATES = (TrialState.COMPLETE, TrialState.PRUNED)


def count_done(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=DONE_STATES))


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The COMPLETE trial of highest validation accuracy, or None before one completes."""
    try:
        return study.best_trial
    except ValueError:
        return None


def trial_params(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """Everything the trial trained with: the sampled values and the study file's fixed ones."""
    return {**trial.user_attrs.get("hyperparameters", {}), **trial.params}
