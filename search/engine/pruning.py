"""Pruners from the study file. Steps are epochs: step 1 is the accuracy after the first epoch."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import optuna
from optuna.trial import FrozenTrial, TrialState

from search.config.settings import PrunerSettings
from search.data.record import judged_images
from search.stats import wilson_interval
from search.storage import records

# "auto" warm-up: no pruning before a trial has trained on this many images. One epoch of
# Fashion-MNIST; four of a 1,300-image folder, whose first epochs are a few dozen steps.
WARMUP_IMAGES = 5_000


def make_pruner(settings: PrunerSettings, max_epochs: int) -> optuna.pruners.BasePruner:
    """The configured pruner; ``max_epochs`` is Hyperband's largest budget."""
    if settings.kind == "median":
        return NoiseAwareMedianPruner(
            settings.n_startup_trials, settings.n_warmup_steps, settings.noise_margin
        )
    if settings.kind == "successive_halving":
        return optuna.pruners.SuccessiveHalvingPruner(
            min_resource=settings.min_resource, reduction_factor=settings.reduction_factor
        )
    if settings.kind == "hyperband":
        return optuna.pruners.HyperbandPruner(
            min_resource=settings.min_resource,
            max_resource=max(max_epochs, settings.min_resource),
            reduction_factor=settings.reduction_factor,
        )
    return optuna.pruners.NopPruner()


def warmup_epochs(train_images: int) -> int:
    """The "auto" ``n_warmup_steps``: epochs until a trial has trained on WARMUP_IMAGES."""
    return max(1, math.ceil(WARMUP_IMAGES / max(train_images, 1)))


def noise_gap(accuracy: float, validation_images: int, z: float) -> float:
    """How far below ``accuracy`` another network's accuracy on the same images must fall to
    be told apart from it: the distance to the Wilson interval's one-sided bound at ``z``
    (1.645: 95%); 0 when ``z`` is 0. Sound near 100%, where the normal approximation is 0."""
    if z <= 0:
        return 0.0
    lower, _ = wilson_interval(accuracy * validation_images, validation_images, z)
    return accuracy - lower


class NoiseAwareMedianPruner(optuna.pruners.BasePruner):
    """Optuna's MedianPruner, except that a trial below the median is kept while its gap to it
    is within what the validation images can tell apart (``noise_gap``): on a 143-image split
    one image is 0.7 points, and a median pruner alone prunes on one or two images.

    The images that judge a trial (``judged_images``: the validation split's, or with folds the
    training split's) and the "auto" warm-up come from the study's data record, read on the
    first call: workers build the pruner from the config alone, before any data is loaded.
    """

    def __init__(self, n_startup_trials: int, n_warmup_steps: int | None, margin: float) -> None:
        self._median = optuna.pruners.MedianPruner(n_startup_trials=n_startup_trials)
        self._n_warmup_steps = n_warmup_steps
        self._margin = margin
        self._data: dict[str, Any] | None = None

    def prune(self, study: optuna.Study, trial: FrozenTrial) -> bool:
        step = trial.last_step
        if step is None or step < self.warmup(study) or not self._median.prune(study, trial):
            return False
        values = [
            completed.intermediate_values[step]
            for completed in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
            if step in completed.intermediate_values
        ]
        median = float(np.nanmedian(values))
        best = max(trial.intermediate_values.values())
        judged = judged_images(self._record(study))
        return median - best > noise_gap(median, judged, self._margin)

    def warmup(self, study: optuna.Study) -> int:
        """The first epoch after which a trial may be pruned."""
        if self._n_warmup_steps is not None:
            return self._n_warmup_steps
        return warmup_epochs(self._record(study)["sizes"]["train"])

    def _record(self, study: optuna.Study) -> dict[str, Any]:
        if self._data is None:
            self._data = records.study_record(study, records.DATA)
        return self._data
