"""Reading a study's trials: which count as done, the best one, and how many end each way."""

from __future__ import annotations

import math
from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from search.storage import records
from search.words import plural

# Trials that count towards a study's n_trials; failed ones do not, so a later run tops them up.
DONE_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
# Trials that hold a place in the study: done, or running now.
ACTIVE_STATES = (*DONE_STATES, TrialState.RUNNING)


def count_done(study: optuna.Study) -> int:
    return len(study.get_trials(deepcopy=False, states=DONE_STATES))


def rank(value: float, val_loss: float | None, number: int) -> tuple[float, float, int]:
    """How COMPLETE trials are ordered, best (smallest) first: by validation accuracy; of equal
    ones the surer, by validation loss (on a small split many trials score the same); then the
    earlier."""
    return (-value, math.inf if val_loss is None else val_loss, number)


def _rank_of(trial: optuna.trial.FrozenTrial) -> tuple[float, float, int]:
    return rank(trial.value, trial.user_attrs.get(records.VAL_LOSS), trial.number)


def best_trial(study: optuna.Study) -> optuna.trial.FrozenTrial | None:
    """The best COMPLETE trial (``rank``), or None before one completes."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    return min(complete, key=_rank_of, default=None)


def ranked_trials(study: optuna.Study) -> list[optuna.trial.FrozenTrial]:
    """The COMPLETE trials, best first (``rank``)."""
    return sorted(study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)), key=_rank_of)


def ensemble_members(study: optuna.Study, size: int) -> list[int]:
    """The numbers of the ``size`` best COMPLETE trials (``rank``), best first, among those
    with a saved model."""
    complete = [
        t
        for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if records.ARTIFACT_ID in t.user_attrs
    ]
    return [t.number for t in sorted(complete, key=_rank_of)[:size]]


@dataclass(frozen=True)
class LatestEnsemble:
    """The ensemble `run` chose last, and whether it still considers the study's best trials
    (a `worker` may have completed better ones since)."""

    choice: records.EnsembleChoice
    evaluation: records.EnsembleEvaluation | None  # None: the best trial alone scored best
    current: bool


def latest_ensemble(study: optuna.Study) -> LatestEnsemble | None:
    """None before `run` chose any ensemble (fewer than 2 complete trials, or size 0)."""
    choice = records.stored_ensemble_choice(study)
    if choice is None:
        return None
    ranked = ensemble_members(study, choice.size)
    if choice.left_out is not None:  # trials ranked after the one it kept out change nothing
        ranked = ranked[: len(choice.decided_by)]
    current = ranked == choice.decided_by
    return LatestEnsemble(choice, records.latest_ensemble_evaluation(study), current)


def current_student(study: optuna.Study) -> records.StudentEvaluation | None:
    """The student of the study's latest ensemble, if `run` made one."""
    latest, student = latest_ensemble(study), records.latest_student(study)
    if latest is None or latest.evaluation is None or student is None:
        return None
    return student if student.teachers == latest.evaluation.members else None


def first_failure(study: optuna.Study) -> str | None:
    """The recorded reason of the study's first failed trial, if any failed."""
    for trial in study.get_trials(deepcopy=False, states=(TrialState.FAIL,)):
        return trial.user_attrs.get(records.FAIL_REASON, "no reason recorded")
    return None


@dataclass
class StudyTally:
    """A study's trials counted by state, and its best trial; the run's progress adds to it."""

    complete: int = 0
    pruned: int = 0  # after training started
    failed: int = 0
    running: int = 0
    waiting: int = 0
    over_budget: int = 0  # pruned before training: over [search_space]'s size budget
    best_number: int | None = None
    best_value: float | None = None
    best_val_loss: float | None = None

    @property
    def done(self) -> int:
        return self.complete + self.pruned + self.over_budget  # Optuna's COMPLETE and PRUNED

    @property
    def total(self) -> int:
        return self.done + self.failed + self.running + self.waiting

    def add(
        self,
        number: int,
        state: str,
        value: float | None,
        over_budget: bool = False,
        val_loss: float | None = None,
    ) -> None:
        """A trial of this run that ended: "COMPLETE" (with its value and validation loss),
        "PRUNED" or "FAIL"."""
        if over_budget:
            self.over_budget += 1
        elif state == "COMPLETE":
            self.complete += 1
            assert value is not None
            if self.best_value is None or rank(value, val_loss, number) < rank(
                self.best_value, self.best_val_loss, self.best_number
            ):
                self.best_number, self.best_value = number, value
                self.best_val_loss = val_loss
        elif state == "PRUNED":
            self.pruned += 1
        else:
            self.failed += 1

    def by_state(self) -> str:
        """ "6 complete, 4 pruned": the states that have trials, in Optuna's order."""
        counts = (
            (self.running, "running"),
            (self.complete, "complete"),
            (self.pruned, "pruned"),
            (self.failed, "fail"),
            (self.waiting, "waiting"),
            (self.over_budget, "over budget"),
        )
        return ", ".join(f"{n} {state}" for n, state in counts if n)

    def summary(self) -> str:
        """ "10 trials: 6 complete, 4 pruned"; "1 trial: 1 complete"."""
        if not self.total:
            return "0 trials"
        return f"{plural(self.total, 'trial')}: {self.by_state()}"


def tally(study: optuna.Study) -> StudyTally:
    """The study's trials, counted by state, and its best trial."""
    trials = study.get_trials(deepcopy=False)
    count = {state: sum(t.state == state for t in trials) for state in TrialState}
    over = sum(
        t.state == TrialState.PRUNED and records.OVER_BUDGET in t.user_attrs for t in trials
    )
    best = best_trial(study)
    return StudyTally(
        complete=count[TrialState.COMPLETE],
        pruned=count[TrialState.PRUNED] - over,
        over_budget=over,
        failed=count[TrialState.FAIL],
        running=count[TrialState.RUNNING],
        waiting=count[TrialState.WAITING],
        best_number=best.number if best else None,
        best_value=best.value if best else None,
        best_val_loss=best.user_attrs.get(records.VAL_LOSS) if best else None,
    )
