"""The Dataset's splits: stratified, seeded, one of each class held out."""

import numpy as np

from search.data.dataset import stratified_split


def test_stratified_split_holds_out_each_class_alike_and_is_seeded() -> None:
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    kept, held = stratified_split(labels, 0.1, seed=3)
    assert sorted(np.concatenate([kept, held])) == list(range(100))
    assert np.bincount(labels[held]).tolist() == [5, 3, 2]
    again, _ = stratified_split(labels, 0.1, seed=3)
    other, _ = stratified_split(labels, 0.1, seed=4)
    assert np.array_equal(kept, again) and not np.array_equal(kept, other)
