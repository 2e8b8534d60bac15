"""The dashboard's pictures of a trial: learning curves and a confusion matrix, as PNG."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

from search.dashboard.pictures import (
    confusion_matrix_png,
    learning_curves_png,
)
from search.engine.training import EpochResult

PNG = b"\x89PNG\r\n\x1a\n"


def test_pictures_are_pngs_for_one_epoch_and_for_many_classes() -> None:
    one_epoch = [EpochResult(1, 0.9, 1.0, 0.5, 1.0, 0.1, np.array([0, 1]))]
    assert learning_curves_png(one_epoch, best_epoch=1).startswith(PNG)
    rng = np.random.default_rng(0)
    names = [f"class number {n}" for n in range(40)]  # too many to name or count in cells
    y = rng.integers(0, 40, 500)
    assert confusion_matrix_png(y, rng.integers(0, 40, 500), names).startswith(PNG)


def test_drawing_is_imported_only_when_a_picture_is_drawn() -> None:
    script = "import sys, search.dashboard.pictures; assert 'matplotlib' not in sys.modules"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
