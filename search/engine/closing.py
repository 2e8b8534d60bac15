"""Time left for what `run` does after its last trial, so that a timeout is a budget for all of it.

With a timeout, trials start until the deadline, and the last ones end a trial's length past it;
then come the test evaluations, the ensemble and the student, minutes more (measured: a 30-minute
race ran 2,034 s). So a trial starts only when, by the study's own trials so far, it and the
student after it still end by the deadline.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import optuna

from search.config.settings import StudyConfig
from search.space.hyperparameters import mirrors
from search.storage import records
from search.storage.trials import DONE_STATES, best_trial

# The evaluations after the trials, as so many validations of the best trial (the test split is
# about as large as the validation split): the best trial's test, the student's validation and
# test, and each of the ensemble's members on both splits (``EVALUATIONS + 2 * teachers``).
EVALUATIONS = 3


@dataclass(frozen=True)
class Closing:
    """What follows the trials: a student of ``student_epochs`` (None: the best trial's epochs)
    when ``distills``. Picklable: workers in other processes take it."""

    distills: bool
    student_epochs: int | None = None
    teachers: int = 0  # the ensemble's largest size: each predicts every training image

    @classmethod
    def of(cls, config: StudyConfig) -> Closing:
        distills = config.distill.enabled and config.ensemble.size >= 2
        return cls(distills, config.distill.epochs, config.ensemble.size)

    def last_start(self, study: optuna.Study, deadline: float) -> float:
        """The time after which no trial should start: one started later would, by the study's
        trials so far, end too late to leave the student and the evaluations their time (the
        scheduler's ``RunLimits.closing``)."""
        return deadline - typical_trial_seconds(study) - closing_seconds(study, self)


def typical_trial_seconds(study: optuna.Study) -> float:
    """The median length of the study's complete trials: a trial that starts may run to its end.
    Before any completed, of those that trained (pruned too); 0 before any trained.

    Not of the pruned ones beside the complete: under successive halving most trials are pruned
    at their second epoch, and a last trial planned that short took a 600-s run to 634 s.
    """
    trained = [
        trial
        for trial in study.get_trials(deepcopy=False, states=DONE_STATES)
        if trial.duration is not None and records.OVER_BUDGET not in trial.user_attrs
    ]
    complete = [t for t in trained if t.state == optuna.trial.TrialState.COMPLETE]
    lengths = [trial.duration.total_seconds() for trial in complete or trained]
    return statistics.median(lengths) if lengths else 0.0


def closing_seconds(study: optuna.Study, closing: Closing) -> float:
    """What follows the trials, timed by the best trial's epochs: the test evaluations and, when
    the run distills one, the teachers' predictions of the training images (a forward pass,
    about a third of a training step; two for a network that also sees the mirror image) and
    the student's epochs (0 before any trial completed)."""
    best = best_trial(study)
    if best is None:
        return 0.0
    attrs = best.user_attrs
    epochs_run = attrs.get(records.EPOCHS_RUN) or 1
    train = attrs.get(records.TRAIN_SECONDS, 0.0) / epochs_run
    validation = attrs.get(records.VALIDATION_SECONDS, 0.0) / epochs_run
    seconds = (EVALUATIONS + 2 * closing.teachers) * validation
    if closing.distills:
        params = records.trial_params(best)
        epochs = closing.student_epochs or params.get("epochs", epochs_run)
        views = 2 if mirrors(params) else 1
        seconds += closing.teachers * views * train / 3 + epochs * (train + validation)
    return seconds
