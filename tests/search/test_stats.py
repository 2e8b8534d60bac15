"""Statistics shared by the report, the dashboard's pictures and the benchmarks."""

from __future__ import annotations

import numpy as np
import pytest

from search.stats import confusion_counts, wilson_interval


def test_the_confusion_matrix_counts_true_classes_down_and_predictions_across() -> None:
    counts = confusion_counts(np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0]), 3)
    assert counts.tolist() == [[1, 1, 0], [0, 1, 0], [1, 0, 2]]


def test_wilson_interval() -> None:
    assert wilson_interval(8, 10) == pytest.approx((0.4902, 0.9433), abs=1e-4)
    # At 100% it is not [1, 1], as the normal approximation would have it.
    assert wilson_interval(15, 15) == pytest.approx((0.7961, 1.0), abs=1e-4)
    assert wilson_interval(0, 15) == pytest.approx((0.0, 0.2039), abs=1e-4)
