"""What a study records of its data: sizes, classes, the pixels' statistics, and a fingerprint
that tells a resume, `worker`, `export` or `best --repeat` whether the data is still the same.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from search.config.settings import DataSettings
from search.data.dataset import Dataset, border_background, content_share
from search.data.folds import fold_count
from search.errors import ConfigError
from search.storage import records
from search.words import plural

PADDED = "fit and pad"  # an image folder's non-square images, fitted and padded to a square


def data_fingerprint(dataset: Dataset) -> dict[str, object]:
    """What identifies the data a study trains and is judged on.

    ``digest`` covers every split's images and labels, so a changed file, an added image or a
    different split all change it; ``files`` (name -> SHA-256) says which files changed.
    """
    digest = hashlib.sha256()
    for array in (
        dataset.x_train,
        dataset.y_train,
        dataset.x_val,
        dataset.y_val,
        dataset.x_test,
        dataset.y_test,
    ):
        digest.update(str(array.shape).encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return {"digest": digest.hexdigest(), "files": dict(sorted(dataset.files.items()))}


def pixel_stats(dataset: Dataset) -> dict[str, object]:
    """What the training images look like, for ``predict`` to make photos look the same.

    ``mean`` and ``std`` are over every training pixel (0..1). ``background`` is, per channel,
    the median of the training images' border pixels: MNIST's and Fashion-MNIST's is 0 (light
    on black); ``predict`` pads photos and fills their transparent parts with it. ``content``
    is the share of the frame their content spans (``data.dataset.content_share``).
    """
    x = dataset.x_train
    # In chunks of float64: exact enough for 60,000 images without a float64 copy of them all.
    total = squares = 0.0
    for start in range(0, len(x), 4096):
        chunk = x[start : start + 4096].astype(np.float64)
        total += float(chunk.sum())
        squares += float(np.square(chunk).sum())
    mean = total / x.size
    std = max(squares / x.size - mean**2, 0.0) ** 0.5
    background = border_background(x)
    return {
        "mean": round(mean, 4),
        "std": round(std, 4),
        "background": [round(float(value), 4) for value in background],
        # The share of the frame the content spans: `predict` fits a photo's content so.
        "content": round(content_share(x, background), 4),
    }


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def dataset_record(dataset: Dataset, data: DataSettings) -> dict[str, Any]:
    """What an export needs to know of the data without loading it, and its fingerprint."""
    return {
        "dataset": dataset.name,
        "class_names": list(dataset.class_names),
        "input_shape": list(dataset.input_shape),
        "color_mode": "rgb" if dataset.input_shape[2] == 3 else "grayscale",
        "split_seed": data.split_seed,
        "validation_split": data.validation_split,
        "train_samples": data.train_samples,
        "sizes": {
            "train": len(dataset.y_train),
            "validation": len(dataset.y_val),
            "test": len(dataset.y_test),
        },
        # Cross-validation folds of the training split that judge each trial (1: none).
        "folds": fold_count(data.folds, len(dataset.y_val), len(dataset.y_train)),
        "fingerprint": data_fingerprint(dataset),
        "pixel_stats": pixel_stats(dataset),  # for `predict`; not compared on resume
        # How an image folder's images are made square; before 0.2 they were squashed.
        **({"resize": PADDED} if data.dataset == "images" else {}),
    }


def judged_images(record: dict[str, Any]) -> int:
    """How many images judge each trial, from a ``dataset_record``: the validation split, or
    with folds every training image (once, out of fold)."""
    sizes = record["sizes"]
    return sizes["train"] if record.get("folds", 1) > 1 else sizes["validation"]


def data_summary(record: dict[str, Any]) -> str:
    """A ``dataset_record`` in one line, for people: names, sizes, shape and classes."""
    sizes = record["sizes"]
    shape = "x".join(map(str, record["input_shape"]))
    return (
        f"{record['dataset']}: {sizes['train']:,} train, {sizes['validation']:,} validation, "
        f"{sizes['test']:,} test images of {shape}, {len(record['class_names'])} classes"
    )


def data_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """How the data changed, from two ``dataset_record``s; empty when it is the same.

    Studies recorded before data fingerprints existed have nothing to compare with.
    """
    old_print, new_print = old.get("fingerprint"), new["fingerprint"]
    if old_print is None or old_print["digest"] == new_print["digest"]:
        return []
    old_files, new_files = old_print["files"], new_print["files"]
    changes = []
    for what, names in (
        ("added", new_files.keys() - old_files.keys()),
        ("removed", old_files.keys() - new_files.keys()),
        (
            "changed",
            {n for n in old_files.keys() & new_files.keys() if old_files[n] != new_files[n]},
        ),
    ):
        if names:
            shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
            changes.append(f"{plural(len(names), 'file')} {what} ({shown})")
    for split, size in new["sizes"].items():
        before = old.get("sizes", {}).get(split)
        if before != size:
            changes.append(f"{split} split {before} -> {size} images")
    if changes:
        return changes
    if new.get("resize") == PADDED and "resize" not in old:
        return [
            "the same files give other images: lenet-search 0.2 pads a non-square image to a "
            "square, where earlier versions squashed it, and this study trained on squashed ones"
        ]
    return ["the same files give other splits"]


def require_same_folds(old: dict[str, Any], new: dict[str, Any], study_name: str) -> None:
    """Refuse, even with --allow-changes, a study judged on other folds than it was made with
    (two ``dataset_record``s): its trials' values would not compare.

    Raises:
        ConfigError: the folds differ (a study made before folds existed had 1).
    """
    old_folds, new_folds = old.get("folds", 1), new.get("folds", 1)
    if old_folds != new_folds:
        raise ConfigError(
            f'study "{study_name}" was made judging trials on {_judged(old_folds)}, and now it '
            f"would be on {_judged(new_folds)}: their values would not compare, even with "
            f"--allow-changes; set [data] folds = {old_folds}, or give the study another "
            "[study] name"
        )


def _judged(folds: int) -> str:
    return "the validation split" if folds == 1 else f"{folds} folds"


def require_same_data(study: Any, dataset: Dataset, data: DataSettings, consequence: str) -> None:
    """Refuse data unlike the data ``study`` (an Optuna study) was made with; ``consequence`` says
    what would go wrong.

    Raises:
        ConfigError: the data changed since the study was made.
    """
    changes = data_differences(
        records.study_record(study, records.DATA, {}), dataset_record(dataset, data)
    )
    if changes:
        raise ConfigError(
            f'the data of study "{study.study_name}" changed since the study was made: '
            f"{'; '.join(changes)}; {consequence}"
        )
