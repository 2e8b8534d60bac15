"""Cross-validation folds of the training split, for data too small for one validation split.

A validation split of a few dozen images tells trials apart by one or two images. With K folds
each trial trains K models, each on all training images but one fold, and is judged on every
training image once (out of fold): K times the work for K / validation_split times the images
judged. The fixed validation split stays out of it, for what is chosen after the trials (the
ensemble, the student) and for the exported model's own check.
"""

from __future__ import annotations

import numpy as np

from search.config.settings import DataSettings
from search.data.dataset import Dataset

# "auto": folds where the validation split is thinner than this (one image is more than 0.2
# points there), with AUTO_FOLDS of them: the usual choice, a fifth of the images per fold.
FOLDS_BELOW_VALIDATION = 500
AUTO_FOLDS = 5


def fold_count(setting: int | None, validation_images: int, train_images: int) -> int:
    """The folds a study trains: ``setting`` ([data] folds; None for "auto"), or with "auto"
    AUTO_FOLDS where the validation split is thin, else 1 (no folds). Never more folds than
    training images: no fold is empty."""
    folds = setting
    if folds is None:
        folds = AUTO_FOLDS if validation_images < FOLDS_BELOW_VALIDATION else 1
    return max(1, min(folds, train_images))


def networks_kept(settings: DataSettings, dataset: Dataset) -> int:
    """How many networks a trial keeps, and the size budget counts: one, or with folds one per
    fold (averaged as one model)."""
    return fold_count(settings.folds, len(dataset.y_val), len(dataset.y_train))


def folds_line(setting: int | None, validation_images: int, train_images: int) -> str | None:
    """What `run`'s header says of the folds a study trains; None without folds."""
    folds = fold_count(setting, validation_images, train_images)
    if folds == 1:
        return None
    why = (
        "[data] folds"
        if setting is not None
        else f"auto: only {validation_images:,} validation images; [data] folds = 1 turns it off"
    )
    return (
        f"folds: {folds} ({why}): each trial trains {folds} models and is judged on all "
        f"{train_images:,} training images, each by the model that did not train on it; it keeps "
        f"the {folds} models averaged, {folds} networks' size"
    )


def stratified_folds(labels: np.ndarray, folds: int, seed: int) -> list[np.ndarray]:
    """The indices of ``labels`` held out by each of ``folds`` folds: every index in exactly one,
    each class dealt round the folds in a seeded order, so fold sizes per class differ by one
    at most. Sorted within each fold."""
    rng = np.random.default_rng(seed)
    held: list[list[np.ndarray]] = [[] for _ in range(folds)]
    start = 0  # where the next class starts dealing, so small classes fill the folds evenly
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        for offset in range(folds):
            held[(start + offset) % folds].append(members[offset::folds])
        start = (start + len(members)) % folds
    return [np.sort(np.concatenate(parts)) for parts in held]
