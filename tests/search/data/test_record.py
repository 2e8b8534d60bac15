"""The data's fingerprint: what a resume, `worker`, `export` and `best --repeat` compare."""

import dataclasses
import hashlib
from pathlib import Path

import pytest

from search.config.settings import DataSettings
from search.data.loading import load_dataset
from search.data.mnist import IDX_FILES
from search.data.record import data_fingerprint
from search.errors import ConfigError
from tests.helpers import image_settings, make_idx_folder


def test_the_fingerprint_names_the_files_and_changes_with_any_of_them(
    image_folder: Path, tmp_path: Path
) -> None:
    first = data_fingerprint(load_dataset(image_settings(image_folder)))
    assert first == data_fingerprint(load_dataset(image_settings(image_folder)))
    assert len(first["files"]) == 60 and "circle/0.png" in first["files"]
    assert (
        first["files"]["circle/0.png"]
        == hashlib.sha256((image_folder / "circle" / "0.png").read_bytes()).hexdigest()
    )
    (image_folder / "circle" / "0.png").write_bytes(
        (image_folder / "vertical" / "0.png").read_bytes()
    )
    changed = data_fingerprint(load_dataset(image_settings(image_folder)))
    assert changed["digest"] != first["digest"]
    assert {k for k in first["files"] if first["files"][k] != changed["files"][k]} == {
        "circle/0.png"
    }
    # Another split of the same files is other data too.
    resplit = data_fingerprint(
        load_dataset(dataclasses.replace(image_settings(image_folder), split_seed=1))
    )
    assert resplit["digest"] != changed["digest"] and resplit["files"] == changed["files"]


def test_the_fingerprint_of_mnist_covers_its_files(tmp_path: Path) -> None:
    folder = make_idx_folder(tmp_path / "idx")
    fingerprint = data_fingerprint(load_dataset(DataSettings("mnist", data_dir=folder)))
    assert sorted(fingerprint["files"]) == sorted(f"{name}.gz" for name in IDX_FILES)


def test_a_study_of_squashed_images_is_told_why_its_images_changed() -> None:
    from search.data.record import PADDED, data_differences

    fingerprint = {"digest": "old", "files": {"a/1.png": "x"}}
    old = {"fingerprint": fingerprint, "sizes": {"train": 10}}
    new = {"fingerprint": {**fingerprint, "digest": "new"}, "sizes": {"train": 10}}
    assert data_differences(old, {**new, "resize": PADDED}) == [
        "the same files give other images: lenet-search 0.2 pads a non-square image to a "
        "square, where earlier versions squashed it, and this study trained on squashed ones"
    ]
    assert data_differences({**old, "resize": PADDED}, {**new, "resize": PADDED}) == [
        "the same files give other splits"
    ]


def test_other_folds_are_refused_a_study_made_without_folds_included() -> None:
    from search.data.record import require_same_folds

    with pytest.raises(ConfigError) as error:
        require_same_folds({"sizes": {}}, {"folds": 5}, "hands")
    assert str(error.value) == (
        'study "hands" was made judging trials on the validation split, and now it would be on '
        "5 folds: their values would not compare, even with --allow-changes; set [data] folds "
        "= 1, or give the study another [study] name"
    )
    require_same_folds({"folds": 5}, {"folds": 5}, "hands")
    require_same_folds({"folds": 1}, {}, "hands")
