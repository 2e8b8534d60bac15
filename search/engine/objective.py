"""The objective: one trial = sample, build, train with pruning, keep the best epoch's model."""

from __future__ import annotations

import gc
import math
import time
from typing import Any

import numpy as np
import optuna

from models import count_params, forward_flops
from search.config.settings import StudyConfig
from search.dashboard.pictures import upload_trial_pictures
from search.data.dataset import Dataset
from search.data.folds import networks_kept
from search.engine.cross_validation import FoldTraining, judging_folds, trial_training
from search.engine.training import EpochResult, Training, TrainingData
from search.scheduler.events import Progress
from search.space.hyperparameters import architecture, training_params, worth_showing
from search.space.suggest import suggest, trial_seed
from search.storage import records
from search.storage.artifacts import ArtifactStore, ArtifactStoreAway, save_trial_model


class TrainingDiverged(Exception):
    """The loss or the weights became NaN or infinite; the trial fails, the study goes on."""


# What fails a trial and not the run: its reason is recorded, and the next trial starts.
TRIAL_FAILURES: tuple[type[Exception], ...] = (TrainingDiverged, ArtifactStoreAway)


class Objective:
    """Holds what every trial needs, so that the data is loaded once per process."""

    def __init__(
        self,
        config: StudyConfig,
        dataset: Dataset,
        store: ArtifactStore,
        progress: Progress,
        precision: str = "float32",
    ) -> None:
        self.config, self.dataset, self.store = config, dataset, store
        self.progress, self.precision = progress, precision
        self.data = TrainingData(dataset)
        self.folds = judging_folds(config.data, dataset)  # the same for every trial
        # TensorFlow, Keras and the data are loaded for good: keep the garbage collector from
        # scanning them at every trial's clear_session() (0.5 s each time, profiled), so that
        # a collection looks only at what trials made since.
        gc.freeze()

    def __call__(self, trial: optuna.Trial) -> float:
        values = suggest(trial, self.config.search_space)
        arch = architecture(values, self.dataset.input_shape, len(self.dataset.class_names))
        params = training_params(values)
        seed = trial_seed(self.config.study.seed, trial.number)
        # With folds the model kept is the fold models averaged: that many networks' size.
        networks = networks_kept(self.config.data, self.dataset)
        param_count, flops = networks * count_params(arch), networks * forward_flops(arch)
        for key, value in (
            (records.HYPERPARAMETERS, values),
            (records.PARAM_COUNT, param_count),
            (records.FLOPS, flops),
            (records.KERAS_SEED, seed),
            (records.PRECISION, self.precision),
        ):
            trial.set_user_attr(key, value)
        for key, value in self.config.budget.overruns(param_count, flops).items():
            trial.set_constraint(key, value)  # TPE learns where the budget lies
        excess = self.config.budget.excess(param_count, flops)
        if excess is not None:  # never trained; the sampler learns from its size
            trial.set_user_attr(records.OVER_BUDGET, excess)
            raise optuna.TrialPruned(f"over the size budget: {excess}")
        self.progress.trial_started(trial.number, worth_showing(values, trial.params))

        training = trial_training(self.data, arch, params, seed, self.precision, self.folds)
        best = BestEpoch()
        for result in training.epochs():
            trial.set_user_attr(records.EPOCHS_RUN, result.epoch)
            self.progress.epoch_ended(
                trial.number, result.epoch, params.epochs, result.val_accuracy
            )
            best.add(result, training)
            if best.diverged:
                best.record(trial)
                raise TrainingDiverged(
                    f"loss or weights became NaN or infinite in epoch {result.epoch}"
                )
            trial.report(result.val_accuracy, step=result.epoch)
            # After the last epoch there is nothing left to save: keep the trained model.
            if result.epoch < params.epochs and trial.should_prune():
                best.record(trial)
                raise optuna.TrialPruned(f"pruned after epoch {result.epoch}")

        best.record(trial)
        model = training.kept_model(best.snapshot)
        saving = time.perf_counter()
        trial.set_user_attr(records.ARTIFACT_ID, save_trial_model(model, trial, self.store))
        trial.set_user_attr(records.SAVE_SECONDS, round(time.perf_counter() - saving, 3))
        if self.config.run.trial_pictures:
            self._upload_pictures(trial, best, training.y_val)
        return best.accuracy

    def _upload_pictures(self, trial: optuna.Trial, best: BestEpoch, y_val: np.ndarray) -> None:
        """The dashboard's pictures of a COMPLETE trial (``y_val``: the classes of the images
        that judged it); what they cost is recorded on it."""
        started = time.perf_counter()
        upload_trial_pictures(
            trial,
            self.store,
            best.history,
            best.epoch,
            y_val,
            best.history[best.epoch - 1].val_predicted,  # the kept model's classes
            self.dataset.class_names,
        )
        trial.set_user_attr(records.PLOT_SECONDS, round(time.perf_counter() - started, 3))


class BestEpoch:
    """The epoch of highest validation accuracy so far, with what gives its model back (the
    training's snapshot), and the time spent.

    Among epochs of equal accuracy the one of lowest validation loss: on a small split many
    epochs score the same, and the earliest of them is often a model unsure of every image.
    """

    def __init__(self) -> None:
        self.accuracy, self.epoch = -math.inf, 0
        self.snapshot: Any = None
        self.fold_accuracies: tuple[float, ...] = ()
        self.val_loss: float | None = None
        self.train_seconds = self.validation_seconds = 0.0
        self.diverged = False
        self.history: list[EpochResult] = []  # every epoch, for the learning curves

    def add(self, result: EpochResult, training: Training | FoldTraining) -> None:
        self.train_seconds += result.train_seconds
        self.validation_seconds += result.validation_seconds
        self.history.append(result)
        # Keras clips probabilities inside the loss, so NaN weights can still show a finite
        # loss: look at the weights too (cheap at LeNet sizes).
        if not math.isfinite(result.loss) or not training.weights_are_finite():
            self.diverged = True
        elif result.val_accuracy > self.accuracy or (
            result.val_accuracy == self.accuracy and result.val_loss < self.val_loss
        ):
            self.accuracy, self.epoch = result.val_accuracy, result.epoch
            self.val_loss, self.fold_accuracies = result.val_loss, result.fold_accuracies
            self.snapshot = training.snapshot()

    def record(self, trial: optuna.Trial) -> None:
        trial.set_user_attr(records.BEST_EPOCH, self.epoch)
        trial.set_user_attr(records.VAL_LOSS, self.val_loss)
        if self.fold_accuracies:
            trial.set_user_attr(records.FOLD_ACCURACIES, list(self.fold_accuracies))
        trial.set_user_attr(records.TRAIN_SECONDS, round(self.train_seconds, 3))
        trial.set_user_attr(records.VALIDATION_SECONDS, round(self.validation_seconds, 3))
