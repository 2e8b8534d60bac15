"""Cross-validation folds: stratified, seeded, every training image held out once."""

from __future__ import annotations

import numpy as np
import pytest

from search.data.folds import AUTO_FOLDS, fold_count, folds_line, stratified_folds


def test_every_image_is_held_out_by_exactly_one_fold_and_every_class_is_spread_evenly() -> None:
    labels = np.repeat([0, 1, 2], [23, 7, 11])
    folds = stratified_folds(labels, 5, seed=0)
    assert len(folds) == 5
    assert sorted(np.concatenate(folds).tolist()) == list(range(len(labels)))
    for label in (0, 1, 2):
        per_fold = [int(np.count_nonzero(labels[held] == label)) for held in folds]
        assert max(per_fold) - min(per_fold) <= 1, (label, per_fold)
    sizes = [len(held) for held in folds]
    assert max(sizes) - min(sizes) <= 1, sizes  # 41 images: 9, 8, 8, 8, 8


def test_the_folds_are_seeded() -> None:
    labels = np.arange(60) % 3
    same = stratified_folds(labels, 4, seed=1), stratified_folds(labels, 4, seed=1)
    other = stratified_folds(labels, 4, seed=2)
    assert all(np.array_equal(a, b) for a, b in zip(*same))
    assert not all(np.array_equal(a, b) for a, b in zip(same[0], other))


@pytest.mark.parametrize(
    ("setting", "validation", "train", "folds"),
    [
        (None, 40, 360, AUTO_FOLDS),  # auto, a thin validation split
        (None, 499, 4_491, AUTO_FOLDS),
        (None, 500, 4_500, 1),  # auto, enough validation images: one split
        (3, 6_000, 54_000, 3),  # asked for
        (1, 40, 360, 1),  # turned off
        (10, 2, 4, 4),  # never an empty fold
    ],
)
def test_fold_count(setting: int | None, validation: int, train: int, folds: int) -> None:
    assert fold_count(setting, validation, train) == folds


def test_run_says_why_it_trains_folds_and_nothing_without() -> None:
    assert folds_line(None, 18, 48) == (
        "folds: 5 (auto: only 18 validation images; [data] folds = 1 turns it off): each trial "
        "trains 5 models and is judged on all 48 training images, each by the model that did "
        "not train on it; it keeps the 5 models averaged, 5 networks' size"
    )
    assert folds_line(3, 6_000, 54_000).startswith("folds: 3 ([data] folds): each trial trains 3")
    assert folds_line(None, 6_000, 54_000) is None
    assert folds_line(1, 18, 48) is None
