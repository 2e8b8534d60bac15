"""``load_dataset``: the dataset a study file names, loaded, scaled and split.

Each process loads its data once and every trial trains on the same arrays.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from search.config.settings import DataSettings
from search.data.dataset import Dataset, scale, stratified_split
from search.data.images import read_image_folder
from search.data.mnist import (
    DEFAULT_KERAS_HOME,
    FASHION_CLASSES,
    KERAS_ORIGIN,
    SYSTEM_DIRS,
    digits,
    load_mnist_like,
)
from search.errors import DataError


def load_dataset(
    settings: DataSettings,
    *,
    keras_home: Path = DEFAULT_KERAS_HOME,
    system_dirs: Mapping[str, tuple[Path, ...]] = SYSTEM_DIRS,
    download_origin: str = KERAS_ORIGIN,
) -> Dataset:
    """Load, scale and split the dataset a study file names.

    Args:
        settings: the study file's ``[data]`` table.
        keras_home: Keras's cache; MNIST files are looked for and downloaded under ``datasets/``.
        system_dirs: per dataset, folders a system package fills (Debian's
            ``dataset-fashion-mnist``), looked in after Keras's cache.
        download_origin: base URL the MNIST files are downloaded from when found nowhere.

    Raises:
        DataError: the data cannot be found, downloaded or read.
    """
    files: dict[str, str] = {}
    if settings.dataset == "images":
        assert settings.image_dir is not None
        class_names, x, y = read_image_folder(settings.image_dir, settings, files)
        if settings.test_dir is not None:
            test_files: dict[str, str] = {}
            test_names, x_test, y_test = read_image_folder(settings.test_dir, settings, test_files)
            files.update({f"test:{name}": digest for name, digest in test_files.items()})
            if test_names != class_names:
                raise DataError(
                    f"test_dir {settings.test_dir} has classes {', '.join(test_names)}, "
                    f"but {settings.image_dir} has {', '.join(class_names)}"
                )
        else:
            train_idx, test_idx = stratified_split(y, settings.test_split, settings.split_seed)
            x, y, x_test, y_test = x[train_idx], y[train_idx], x[test_idx], y[test_idx]
        name = settings.image_dir.name
    else:
        (x, y), (x_test, y_test) = load_mnist_like(
            settings, keras_home, system_dirs, download_origin, files
        )
        x, x_test = x[..., np.newaxis], x_test[..., np.newaxis]
        class_names = FASHION_CLASSES if settings.dataset == "fashion_mnist" else digits()
        name = settings.dataset

    if settings.train_samples is not None and settings.train_samples < len(y):
        keep, _ = stratified_split(y, 1 - settings.train_samples / len(y), settings.split_seed)
        x, y = x[keep], y[keep]
    train_idx, val_idx = stratified_split(y, settings.validation_split, settings.split_seed)
    for split, size in (("validation", len(val_idx)), ("test", len(y_test))):
        if size == 0:
            cause = (
                f"[data] train_samples = {settings.train_samples} keeps"
                if settings.train_samples is not None
                else "it has"
            )
            raise DataError(
                f"the {split} split of {name} is empty: {cause} {len(y)} training images, too "
                f"few for one of each of its {len(np.unique(y))} classes in every split; use "
                "more images, or a larger validation_split or test_split"
            )
    return Dataset(
        name=name,
        class_names=tuple(class_names),
        x_train=scale(x[train_idx]),
        y_train=y[train_idx],
        x_val=scale(x[val_idx]),
        y_val=y[val_idx],
        x_test=scale(x_test),
        y_test=y_test,
        files=files,
    )
