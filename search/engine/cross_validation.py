"""A trial judged on folds: K models trained in lockstep, one per fold of the training split.

After each epoch the K models' out-of-fold results are reported as one: the accuracy of every
training image judged by the model that did not train on it (the folds' mean, each weighted by
its size), so the pruner compares trials on K / validation_split times the images. The model
kept is the K fold models at the best epoch, averaged (the mean of their class probabilities):
K networks' size, which the objective counts against the size budget. It measured better than
one network retrained on the whole training split for as many epochs (benchmarks/folds.py).
"""

from __future__ import annotations

from collections.abc import Iterator

import keras
import numpy as np

from models import LeNetArchitecture
from search.config.settings import DataSettings
from search.data.dataset import Dataset
from search.data.folds import fold_count, stratified_folds
from search.engine.training import EpochResult, Training, TrainingData, averaged
from search.space.hyperparameters import TrainingParams
from search.stats import accuracy


def judging_folds(settings: DataSettings, dataset: Dataset) -> list[np.ndarray]:
    """The folds that judge every trial of a study (the same for all), or none: the indices of
    the training split each holds out."""
    folds = fold_count(settings.folds, len(dataset.y_val), len(dataset.y_train))
    return stratified_folds(dataset.y_train, folds, settings.split_seed) if folds > 1 else []


def trial_training(
    data: TrainingData,
    arch: LeNetArchitecture,
    params: TrainingParams,
    seed: int,
    precision: str,
    folds: list[np.ndarray],
) -> Training | FoldTraining:
    """How a trial trains: on ``folds`` where there are any, else on the training split."""
    if folds:
        return FoldTraining(data, arch, params, seed, precision, folds)
    return Training(data, arch, params, seed, precision)


def fold_seed(seed: int, fold: int) -> int:
    """The Keras seed of fold ``fold``'s model: another for each fold, fixed by the trial's."""
    return int(np.random.SeedSequence([seed, fold]).generate_state(1)[0])


class FoldTraining:
    """Trains like ``Training``, on ``folds`` (the indices of the training split each fold
    holds out); ``kept_model`` is the fold models averaged."""

    def __init__(
        self,
        data: TrainingData,
        arch: LeNetArchitecture,
        params: TrainingParams,
        seed: int,
        precision: str,
        folds: list[np.ndarray],
    ) -> None:
        self.folds = [
            Training(
                data.without(held),
                arch,
                params,
                fold_seed(seed, i),
                precision,
                fresh_session=i == 0,
                name=f"fold_{i + 1}",  # the averaged model's members need names of their own
            )
            for i, held in enumerate(folds)
        ]
        self.y_val = np.concatenate([fold.data.y_val for fold in self.folds])

    def epochs(self) -> Iterator[EpochResult]:
        """Each fold's model one epoch, then the next epoch; their results as one."""
        for results in zip(*(fold.epochs() for fold in self.folds)):
            yield self._together(results)

    def _together(self, results: tuple[EpochResult, ...]) -> EpochResult:
        judged = np.array([len(fold.data.y_val) for fold in self.folds])
        trained = np.array([fold.data.n_train for fold in self.folds])
        predicted = np.concatenate([result.val_predicted for result in results])
        return EpochResult(
            epoch=results[0].epoch,
            loss=float(np.dot([r.loss for r in results], trained) / trained.sum()),
            val_loss=float(np.dot([r.val_loss for r in results], judged) / judged.sum()),
            val_accuracy=accuracy(predicted, self.y_val),
            train_seconds=sum(result.train_seconds for result in results),
            validation_seconds=sum(result.validation_seconds for result in results),
            val_predicted=predicted,
            fold_accuracies=tuple(result.val_accuracy for result in results),
        )

    def weights_are_finite(self) -> bool:
        return all(fold.weights_are_finite() for fold in self.folds)

    def snapshot(self) -> list[list[np.ndarray]]:
        """What ``kept_model`` needs to give back this epoch's model: each fold's weights."""
        return [fold.snapshot() for fold in self.folds]

    def kept_model(self, snapshot: list[list[np.ndarray]]) -> keras.Model:
        """The fold models with the weights of ``snapshot``, averaged as one model."""
        models = [fold.kept_model(weights) for fold, weights in zip(self.folds, snapshot)]
        return averaged(models, "folds")
