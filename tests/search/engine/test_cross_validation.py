"""A trial judged on folds: K models in lockstep, their results as one, one network kept."""

from __future__ import annotations

import numpy as np

from models import count_params
from search.data.folds import stratified_folds
from search.engine.cross_validation import FoldTraining
from search.engine.training import TrainingData, sub_models
from search.space.hyperparameters import TrainingParams
from search.stats import accuracy
from tests.helpers import accuracy_of
from tests.search.engine.test_training import TINY_ARCH, tiny_dataset

PARAMS = TrainingParams(epochs=3, batch_size=16, learning_rate=0.01)


def fold_training(folds: int = 3) -> FoldTraining:
    dataset = tiny_dataset()
    held = stratified_folds(dataset.y_train, folds, seed=0)
    return FoldTraining(TrainingData(dataset), TINY_ARCH, PARAMS, 5, "float32", held)


def test_each_epoch_judges_every_training_image_once_by_the_model_that_did_not_train_on_it():
    dataset = tiny_dataset()
    training = fold_training()
    held = stratified_folds(dataset.y_train, 3, seed=0)
    for fold, images in zip(training.folds, held, strict=True):
        assert np.intersect1d(fold.data.members, images).size == 0
        assert np.union1d(fold.data.members, images).size == len(dataset.y_train)
    assert np.array_equal(training.y_val, dataset.y_train[np.concatenate(held)])

    results = list(training.epochs())
    assert [r.epoch for r in results] == [1, 2, 3]
    last = results[-1]
    assert last.val_accuracy == accuracy(last.val_predicted, training.y_val)
    # The folds' accuracies, weighted by their sizes, are the value, as an exact fraction.
    correct = [round(a * len(images)) for a, images in zip(last.fold_accuracies, held)]
    assert last.val_accuracy == sum(correct) / len(dataset.y_train)
    # Each fold's accuracy is its own model's on its own images, measured anew.
    for fold, images, reported in zip(training.folds, held, last.fold_accuracies, strict=True):
        x, y = dataset.x_train[images], dataset.y_train[images]
        assert accuracy_of(fold.model, x, y) == reported


def test_the_kept_model_is_the_fold_models_of_the_best_epoch_averaged() -> None:
    x = tiny_dataset().x_train
    training = fold_training()
    for result in training.epochs():
        if result.epoch == 2:  # the best epoch, say
            snapshot = training.snapshot()
            expected = np.mean([fold.model.predict(x, verbose=0) for fold in training.folds], 0)
    kept = training.kept_model(snapshot)  # after epoch 3: the weights go back to epoch 2's
    assert [model.name for model in sub_models(kept)] == ["fold_1", "fold_2", "fold_3"]
    assert kept.count_params() == 3 * count_params(TINY_ARCH)
    np.testing.assert_allclose(kept.predict(x, verbose=0), expected, rtol=1e-5, atol=1e-6)
