"""Statistics shared by the report, the dashboard's pictures and the benchmarks. NumPy only."""

from __future__ import annotations

import math

import numpy as np

Z_95 = 1.959963984540054  # the standard normal's 97.5% quantile
# Keras clips probabilities so before it takes their log; the losses here match its own.
LOSS_EPSILON = 1e-7


def accuracy(predicted: np.ndarray, y: np.ndarray) -> float:
    """The share of ``predicted`` classes equal to ``y``: correct / total, exactly (868 of
    1,000 is 0.868; Keras's float32 metric would give 0.8679999709129333)."""
    return int(np.count_nonzero(np.asarray(predicted) == np.asarray(y))) / len(y)


def loss_and_accuracy(probabilities: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """The mean cross-entropy of class ``probabilities`` (softmax outputs) against the labels
    ``y``, as Keras's sparse categorical crossentropy computes it, and the exact accuracy."""
    chosen = np.asarray(probabilities, np.float64)[np.arange(len(y)), np.asarray(y, np.int64)]
    loss = -np.mean(np.log(np.clip(chosen, LOSS_EPSILON, 1 - LOSS_EPSILON)))
    return float(loss), accuracy(np.argmax(probabilities, axis=1), y)


def wilson_interval(correct: int, n: int, z: float = Z_95) -> tuple[float, float]:
    """The Wilson score interval of a proportion ``correct / n`` (95% for the default ``z``).

    Unlike the normal approximation it stays within 0..1 and is sound near 100% accuracy.
    """
    if n <= 0:
        return 0.0, 1.0
    p = correct / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


def confusion_counts(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """``counts[true, predicted]``: how many images of each class went to each class."""
    pairs = np.asarray(y_true, dtype=np.int64) * n_classes + np.asarray(y_pred, dtype=np.int64)
    return np.bincount(pairs, minlength=n_classes * n_classes).reshape(n_classes, n_classes)


def paired_difference(
    correct_a: np.ndarray, correct_b: np.ndarray, z: float = Z_95
) -> tuple[float, float, float]:
    """Accuracy of a minus accuracy of b on the same images, with its paired 95% interval.

    ``correct_a`` and ``correct_b`` say, image by image, whether each model was right. Pairing
    removes what the images share (both right on easy ones): the interval is that of the mean
    of the per-image differences, normal approximation.
    """
    differences = np.asarray(correct_a, dtype=np.float64) - np.asarray(correct_b, np.float64)
    mean = float(differences.mean())
    half = z * float(differences.std(ddof=1)) / math.sqrt(len(differences))
    return mean, mean - half, mean + half
