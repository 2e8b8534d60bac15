"""The objective: one trial = sample, build, train with pruning, keep the best epoch's model."""

from __future__ import annotations

import keras
import optuna
from optuna.artifacts import FileSystemArtifactStore

from models import LeNetArchitecture, count_params, forward_flops
from search.artifacts import save_trial_model
from search.config import StudyConfig
from search.data import Dataset
from search.progress import Progress
from search.pruning import MONITOR, EpochReporter
from search.space import suggest, trial_seed
from search.training import train


class TrainingDiverged(Exception):
    """The loss became NaN or infinite; the trial fails, the study goes on."""


class Objective:
    """Holds what every trial needs, so that the data is loaded once per process."""

    def __init__(
        self,
        config: StudyConfig,
        dataset: Dataset,
        store: FileSystemArtifactStore,
        progress: Progress,
    ) -> None:
        self.config, self.dataset, self.store, self.progress = config, dataset, store, progress

    def __call__(self, trial: optuna.Trial) -> float:
        params = suggest(trial, self.config.search_space)
        arch = LeNetArchitecture(
            self.dataset.input_shape, len(self.dataset.class_names),
            params.conv1_channels, params.conv2_channels, params.dense_units,
        )  # fmt: skip
        trial.set_user_attr("hyperparameters", params.as_dict())
        trial.set_user_attr("param_count", count_params(arch))
        trial.set_user_attr("flops", forward_flops(arch))
        self.progress.trial_started(trial.number, params)

        reporter = EpochReporter(trial)
        progress = _EpochProgress(self.progress, params.epochs)
        seed = trial_seed(self.config.study.seed, trial.number)
        trial.set_user_attr("keras_seed", seed)
        try:
            model, times = train(arch, params, self.dataset, seed, [reporter, progress])
        except KeyboardInterrupt:
            trial.set_user_attr("fail_reason", "interrupted (Ctrl-C)")
            raise
        trial.set_user_attr("train_seconds", round(times.train_seconds, 3))
        trial.set_user_attr("validation_seconds", round(times.validation_seconds, 3))
        trial.set_user_attr("best_epoch", reporter.best_epoch)
        if reporter.diverged:
            reason = f"loss or weights became NaN or infinite in epoch {reporter.epochs_run}"
            trial.set_user_attr("fail_reason", reason)
            raise TrainingDiverged(reason)
        if reporter.pruned:
            raise optuna.TrialPruned(f"pruned after epoch {reporter.epochs_run}")

        reporter.restore_best_weights()
        trial.set_user_attr("val_loss", reporter.best_logs.get("val_loss"))
        trial.set_user_attr("artifact_id", save_trial_model(model, trial, self.store))
        return reporter.best_accuracy


class _EpochProgress(keras.callbacks.Callback):
    def __init__(self, progress: Progress, epochs: int) -> None:
        super().__init__()
        self.progress, self.epochs = progress, epochs

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        self.progress.epoch_ended(epoch + 1, self.epochs, float((logs or {}).get(MONITOR, 0.0)))
