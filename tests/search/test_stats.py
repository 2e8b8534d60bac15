"""Statistics shared by the report, the dashboard's pictures and the benchmarks."""

from __future__ import annotations

import numpy as np
import pytest

from search.stats import accuracy, confusion_counts, loss_and_accuracy, wilson_interval


def test_the_confusion_matrix_counts_true_classes_down_and_predictions_across() -> None:
    counts = confusion_counts(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_wilson_interval() -> None:
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    # At 100% it is not [1, 1], as the normal approximation would have it.
    assert wilson_interval(15, 15) == pytest.approx((0.7961, 1.0), abs=1e-4)
    assert wilson_interval(0, 15) == pytest.approx((0.0, 0.2039), abs=1e-4)


def test_an_accuracy_is_the_exact_fraction_of_correct_images() -> None:
    y = np.zeros(1000, dtype=np.int64)
    predicted = np.where(np.arange(1000) < 868, 0, 1)
    assert accuracy(predicted, y) == 0.868  # not float32's 0.8679999709129333
    assert accuracy(predicted[:3], y[:3]) == 1.0


def test_the_loss_is_keras_sparse_categorical_crossentropy() -> None:
    import keras

    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(4), size=50).astype(np.float32)
    probabilities[0] = [1.0, 0.0, 0.0, 0.0]  # clipped, as Keras clips, not an infinite loss
    y = rng.integers(0, 4, size=50)
    y[0] = 1
    loss, share = loss_and_accuracy(probabilities, y)
    expected = np.mean(keras.losses.sparse_categorical_crossentropy(y, probabilities))
    assert loss == pytest.approx(float(expected), rel=1e-5)
    assert share == np.count_nonzero(probabilities.argmax(axis=1) == y) / 50
