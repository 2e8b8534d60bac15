"""Augmentation of training batches: exact whole-pixel shifts and mirrors, drawn per image."""

import numpy as np
import tensorflow as tf

from search.engine.augmentation import augmentation
from search.space.hyperparameters import TrainingParams

SHAPE = (12, 10, 2)  # not square, two channels: rows, columns and channels kept apart


def images(n: int = 64) -> np.ndarray:
    return np.random.default_rng(0).random((n, *SHAPE), dtype=np.float32) + 0.5  # no zeros


def moved(image: np.ndarray, dy: int, dx: int, mirrored: bool, n: int) -> np.ndarray:
    """``image`` (mirrored first) shifted dy rows down and dx columns right, zeros coming in."""
    image = image[:, ::-1] if mirrored else image
    padded = np.pad(image, [(n, n), (n, n), (0, 0)])
    return padded[n - dy : n - dy + SHAPE[0], n - dx : n - dx + SHAPE[1]]


def draws(x: np.ndarray, out: np.ndarray, n: int) -> list[tuple[int, int, bool]]:
    """The one (dy, dx, mirrored) each output image is; fails when an image is anything else."""
    found = []
    for image, result in zip(x, out, strict=True):
        matches = [
            (dy, dx, mirrored)
            for dy in range(-n, n + 1)
            for dx in range(-n, n + 1)
            for mirrored in (False, True)
            if np.array_equal(result, moved(image, dy, dx, mirrored, n))
        ]
        assert len(matches) == 1, matches
        found.append(matches[0])
    return found


def test_nothing_asked_is_nothing_done() -> None:
    assert augmentation(TrainingParams(), SHAPE, seed=0) is None


def test_each_image_is_shifted_whole_pixels_and_mirrored_at_random() -> None:
    x = images()
    augment = tf.function(augmentation(TrainingParams(shift=2, flip=1), SHAPE, seed=0))
    found = draws(x, augment(tf.constant(x)).numpy(), n=2)
    assert {dy for dy, _, _ in found} == {dx for _, dx, _ in found} == {-2, -1, 0, 1, 2}
    assert 16 < sum(mirrored for _, _, mirrored in found) < 48
    # Every call draws again.
    assert draws(x, augment(tf.constant(x)).numpy(), n=2) != found


def test_shifts_alone_never_mirror_and_flips_alone_never_shift() -> None:
    x = images()
    shifts = augmentation(TrainingParams(shift=1), SHAPE, seed=0)
    assert not any(mirrored for _, _, mirrored in draws(x, shifts(x).numpy(), n=1))
    flips = augmentation(TrainingParams(flip=1), SHAPE, seed=0)
    found = draws(x, flips(x).numpy(), n=0)
    assert {mirrored for _, _, mirrored in found} == {False, True}


def test_the_same_seed_draws_the_same_and_another_seed_other() -> None:
    x = tf.constant(images())
    params = TrainingParams(shift=3, flip=1)
    first, second, other = (augmentation(params, SHAPE, seed)(x) for seed in (7, 7, 8))
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(first, other)
