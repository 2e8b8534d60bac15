"""Pruners from the study file, and the Keras callback that reports to them."""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import optuna

from search.config import PrunerSettings

MONITOR = "val_accuracy"


def make_pruner(settings: PrunerSettings, max_epochs: int) -> optuna.pruners.BasePruner:
    """The configured pruner; its steps are epochs (1 = after the first epoch)."""
    if settings.kind == "median":
        return optuna.pruners.MedianPruner(
            n_startup_trials=settings.n_startup_trials, n_warmup_steps=settings.n_warmup_steps
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


class EpochReporter(keras.callbacks.Callback):
    """Report validation accuracy to Optuna after every epoch and stop a trial it prunes.

    Our own rather than optuna-integration's ``TFKerasPruningCallback``: the same ~10 lines, one
    dependency fewer, and it also keeps the weights of the best epoch (the weights a trial's value
    stands for) and notices a loss that turned NaN or infinite.
    """

    def __init__(self, trial: optuna.Trial) -> None:
        super().__init__()
        self.trial = trial
        self.epochs_run = 0
        self.best_epoch = 0
        self.best_accuracy = -math.inf
        self.best_logs: dict[str, float] = {}
        self.best_weights: list[Any] | None = None
        self.diverged = False
        self.pruned = False

    def on_epoch_end(self, epoch: int, logs: dict[str, float] | None = None) -> None:
        logs = logs or {}
        self.epochs_run = epoch + 1
        self.trial.set_user_attr("epochs_run", self.epochs_run)
        # Keras clips probabilities inside the loss, so NaN weights can still show a finite
        # loss: look at the weights too (cheap at LeNet sizes).
        weights = self.model.get_weights()
        if not math.isfinite(logs.get("loss", math.nan)) or not _all_finite(weights):
            self.diverged = True
            self.model.stop_training = True
            return
        accuracy = float(logs[MONITOR])
        if accuracy > self.best_accuracy:
            self.best_accuracy, self.best_epoch = accuracy, self.epochs_run
            self.best_logs = {key: float(value) for key, value in logs.items()}
            self.best_weights = weights
        self.trial.report(accuracy, step=self.epochs_run)
        # After the last epoch there is nothing left to save: keep the trained model.
        last_epoch = self.epochs_run >= self.params.get("epochs", math.inf)
        if not last_epoch and self.trial.should_prune():
            self.pruned = True
            self.model.stop_training = True

    def restore_best_weights(self) -> None:
        if self.best_weights is not None:
            self.model.set_weights(self.best_weights)


def _all_finite(arrays: list[np.ndarray]) -> bool:
    return all(np.isfinite(array).all() for array in arrays)
