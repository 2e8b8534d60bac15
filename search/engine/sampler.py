"""The TPE sampler, reseeded per trial so that runs and workers never replay each other."""

from __future__ import annotations

import optuna

from search.space.suggest import trial_seed
from search.storage.optuna_internals import reseed_tpe


class TrialSeededTPESampler(optuna.samplers.TPESampler):
    """TPE whose random draws for a trial depend on the study seed and the trial number alone.

    A plain ``TPESampler(seed=...)`` starts the same random sequence in every process, so a
    resumed study would sample its first trials again, and two workers would sample alike. Here
    trial k draws from ``trial_seed(seed, k)``: one worker still gets the same parameters for the
    same seed, and every run or worker, taking new trial numbers, gets new ones.
    """

    def __init__(self, seed: int, n_startup_trials: int) -> None:
        super().__init__(seed=seed, n_startup_trials=n_startup_trials)
        self._study_seed = seed

    def before_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        # Optuna has no public way to set a sampler's seed per trial.
        reseed_tpe(self, trial_seed(self._study_seed, trial.number))
        super().before_trial(study, trial)
