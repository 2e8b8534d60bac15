"""The ``Dataset``: scaled images and labels in three fixed splits, and the pixel facts that
``predict`` shares with training.

Pixels are scaled to 0..1 and shaped (N, height, width, channels). The validation split is held
out of the training split, stratified and seeded, so that every trial and every later export is
judged on the same images; the test split is only ever used to evaluate the chosen model.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True, eq=False)
class Dataset:
    """Scaled float32 images and integer labels, split three ways."""

    name: str
    class_names: tuple[str, ...]
    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    # The files the images came from, each with the SHA-256 of its bytes: the dataset's files
    # by name, or "<class>/<file>" for an image folder ("test:<class>/<file>" for test_dir).
    files: Mapping[str, str] = field(default_factory=dict)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        height, width, channels = self.x_train.shape[1:]
        return int(height), int(width), int(channels)

    def describe(self) -> str:
        return (
            f"{self.name}: {len(self.x_train)} train, {len(self.x_val)} validation, "
            f"{len(self.x_test)} test images of {'x'.join(map(str, self.input_shape))}, "
            f"{len(self.class_names)} classes"
        )


def scale(images: np.ndarray) -> np.ndarray:
    """uint8 pixels to float32 in 0..1: the one preprocessing step, shared with ``predict``."""
    return images.astype(np.float32) / 255.0


def stratified_split(
    labels: np.ndarray, fraction: float, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Split indices into (kept, held out) with ``fraction`` of every class held out.

    Each class with at least two members keeps at least one and holds out at least one, so
    small image folders still get a validation image of every class.
    """
    rng = np.random.default_rng(seed)
    kept, held = [], []
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        n_held = int(round(len(members) * fraction))
        if len(members) >= 2:
            n_held = min(max(n_held, 1), len(members) - 1)
        held.append(members[:n_held])
        kept.append(members[n_held:])
    return np.sort(np.concatenate(kept)), np.sort(np.concatenate(held))


def border_background(images: np.ndarray) -> np.ndarray:
    """Per channel, the median of the border pixels of ``images`` (..., height, width, channels):
    what the background of such images is (MNIST's and Fashion-MNIST's: 0, black)."""
    border = np.concatenate(
        [
            images[..., 0, :, :],
            images[..., -1, :, :],
            images[..., 1:-1, 0, :],
            images[..., 1:-1, -1, :],
        ],
        axis=-2,
    )
    return np.median(border.reshape(-1, images.shape[-1]), axis=0)


# How far from the background (on the 0..1 scale) a pixel must be to be part of the content.
CONTENT_THRESHOLD = 0.25


def content_box(
    image: np.ndarray, background: np.ndarray, threshold: float = CONTENT_THRESHOLD
) -> tuple[int, int, int, int] | None:
    """(top, bottom, left, right) of the content of ``image`` (height, width, channels in 0..1):
    the pixels that differ from ``background`` by more than ``threshold`` in some channel.
    Bottom and right are exclusive. Rows and columns with fewer than 1% of their pixels so are
    left out, so that a speck of noise does not stretch the box. None when there is no content.
    """
    mask = (np.abs(image - np.asarray(background, dtype=image.dtype)) > threshold).any(axis=-1)
    rows = np.flatnonzero(mask.sum(axis=1) >= max(1, 0.01 * mask.shape[1]))
    columns = np.flatnonzero(mask.sum(axis=0) >= max(1, 0.01 * mask.shape[0]))
    if len(rows) == 0 or len(columns) == 0:
        return None
    return int(rows[0]), int(rows[-1]) + 1, int(columns[0]), int(columns[-1]) + 1


def content_share(images: np.ndarray, background: np.ndarray, sample: int = 2000) -> float:
    """The share of the frame the content of such images spans, the median over (the first
    ``sample`` of) them: 1.0 where it fills the frame (Fashion-MNIST), about 0.71 for MNIST's
    digits (20 pixels of 28)."""
    shares = []
    for image in images[:sample]:
        box = content_box(image, background)
        if box is None:
            continue
        top, bottom, left, right = box
        shares.append(max((bottom - top) / image.shape[0], (right - left) / image.shape[1]))
    return float(np.median(shares)) if shares else 1.0
