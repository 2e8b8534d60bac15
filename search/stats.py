"""Statistics shared by the report, the dashboard's pictures and the benchmarks. NumPy only."""

from __future__ import annotations

import math

import numpy as np

Z_95 = 1.959963984540054  # the standard normal's 97.5% quantile


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
