import dataclasses
import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from search.config import DataSettings
from search.data import (
    DEBIAN_FASHION_MNIST,
    FASHION_CLASSES,
    IDX_FILES,
    data_fingerprint,
    load_dataset,
    stratified_split,
)
from search.errors import DataError
from tests.conftest import CLASSES, make_idx_folder


def images(folder: Path, **kwargs) -> DataSettings:
    return DataSettings(dataset="images", image_dir=folder, **kwargs)


def test_stratified_split_holds_out_each_class_alike_and_is_seeded() -> None:
    labels = np.repeat([0, 1, 2], [50, 30, 20])
    kept, held = stratified_split(labels, 0.1, seed=3)
    assert sorted(np.concatenate([kept, held])) == list(range(100))
    assert np.bincount(labels[held]).tolist() == [5, 3, 2]
    again, _ = stratified_split(labels, 0.1, seed=3)
    other, _ = stratified_split(labels, 0.1, seed=4)
    assert np.array_equal(kept, again) and not np.array_equal(kept, other)


def test_image_folder_is_scaled_resized_and_split(image_folder: Path) -> None:
    data = load_dataset(images(image_folder, validation_split=0.25, test_split=0.25))
    assert data.class_names == CLASSES  # sorted folder names; README.txt ignored
    assert data.input_shape == (28, 28, 1)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (33, 12, 15)
    for split in (data.y_train, data.y_val, data.y_test):
        assert set(split.tolist()) == {0, 1, 2}
    assert data.x_train.dtype == np.float32
    assert 0.0 <= data.x_train.min() and data.x_train.max() == pytest.approx(1.0)


def test_rgb_size_and_separate_test_folder(tmp_path: Path, image_folder: Path) -> None:
    test_dir = tmp_path / "test"
    shutil.copytree(image_folder, test_dir)
    data = load_dataset(images(image_folder, image_size=16, color_mode="rgb", test_dir=test_dir))
    assert data.input_shape == (16, 16, 3)
    assert len(data.y_test) == 60 and len(data.y_train) + len(data.y_val) == 60


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda root: shutil.rmtree(root), "image folder not found: {root}"),
        (
            lambda root: [shutil.rmtree(root / c) for c in CLASSES[1:]],
            "image folder {root} has 1 class folder(s); it needs at least 2 "
            "(one sub-folder of images per class)",
        ),
        (
            lambda root: [p.unlink() for p in (root / "vertical").glob("*.png")],
            "class folder {root}/vertical has no images",
        ),
        (
            lambda root: (root / "circle" / "7.png").write_bytes(b"not a png"),
            "cannot read image {root}/circle/7.png: cannot identify image file "
            "'{root}/circle/7.png'",
        ),
    ],
)
def test_bad_image_folders(image_folder: Path, damage, message: str) -> None:
    damage(image_folder)
    with pytest.raises(DataError) as error:
        load_dataset(images(image_folder))
    assert str(error.value) == message.format(root=image_folder)


def test_too_few_images_for_a_validation_split(tmp_path: Path) -> None:
    folder = make_idx_folder(tmp_path / "idx", n_train=100)
    with pytest.raises(DataError) as error:
        load_dataset(DataSettings("mnist", data_dir=folder, train_samples=10))
    assert str(error.value) == (
        "the validation split of mnist is empty: [data] train_samples = 10 keeps 10 training "
        "images, too few for one of each of its 10 classes in every split; use more images, or "
        "a larger validation_split or test_split"
    )


def test_the_fingerprint_names_the_files_and_changes_with_any_of_them(
    image_folder: Path, tmp_path: Path
) -> None:
    first = data_fingerprint(load_dataset(images(image_folder)))
    assert first == data_fingerprint(load_dataset(images(image_folder)))
    assert len(first["files"]) == 60 and "circle/0.png" in first["files"]
    assert (
        first["files"]["circle/0.png"]
        == hashlib.sha256((image_folder / "circle" / "0.png").read_bytes()).hexdigest()
    )
    (image_folder / "circle" / "0.png").write_bytes(
        (image_folder / "vertical" / "0.png").read_bytes()
    )
    changed = data_fingerprint(load_dataset(images(image_folder)))
    assert changed["digest"] != first["digest"]
    assert {k for k in first["files"] if first["files"][k] != changed["files"][k]} == {
        "circle/0.png"
    }
    # Another split of the same files is other data too.
    resplit = data_fingerprint(
        load_dataset(dataclasses.replace(images(image_folder), split_seed=1))
    )
    assert resplit["digest"] != changed["digest"] and resplit["files"] == changed["files"]


def test_the_fingerprint_of_mnist_covers_its_files(tmp_path: Path) -> None:
    folder = make_idx_folder(tmp_path / "idx")
    fingerprint = data_fingerprint(load_dataset(DataSettings("mnist", data_dir=folder)))
    assert sorted(fingerprint["files"]) == sorted(f"{name}.gz" for name in IDX_FILES)


def test_mnist_from_data_dir_and_subset(tmp_path: Path) -> None:
    folder = make_idx_folder(tmp_path / "idx", n_train=200, n_test=40)
    settings = DataSettings("mnist", data_dir=folder, train_samples=100, validation_split=0.2)
    data = load_dataset(settings, keras_home=tmp_path / "empty")
    assert data.class_names == tuple("0123456789")
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (80, 20, 40)
    assert data.input_shape == (28, 28, 1)
    assert np.bincount(data.y_val).tolist() == [2] * 10


def test_data_dir_without_the_files_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(DataError) as error:
        load_dataset(DataSettings("fashion_mnist", data_dir=tmp_path))
    assert str(error.value) == (
        f"[data] data_dir {tmp_path} has no Fashion-MNIST files; expected "
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, "
        "t10k-labels-idx1-ubyte.gz"
    )


def test_keras_cache_comes_before_system_folders(tmp_path: Path) -> None:
    make_idx_folder(tmp_path / "keras" / "datasets" / "fashion-mnist", n_train=50)
    make_idx_folder(tmp_path / "system", n_train=70)
    data = load_dataset(
        DataSettings("fashion_mnist"),
        keras_home=tmp_path / "keras",
        system_dirs={"fashion_mnist": (tmp_path / "system",)},
    )
    assert len(data.y_train) + len(data.y_val) == 50
    assert data.class_names == FASHION_CLASSES


def test_fashion_mnist_is_downloaded_into_the_keras_cache(tmp_path: Path) -> None:
    # A file:// origin stands in for Keras's server; the download code is the real one.
    server = make_idx_folder(tmp_path / "server", n_train=40)
    keras_home = tmp_path / "keras"
    settings = DataSettings("fashion_mnist")
    data = load_dataset(
        settings, keras_home=keras_home, system_dirs={}, download_origin=server.as_uri() + "/"
    )
    assert len(data.y_train) + len(data.y_val) == 40
    cache = keras_home / "datasets" / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(p.name for p in server.iterdir())
    shutil.rmtree(server)  # the next load reads the cache and downloads nothing
    assert len(load_dataset(settings, keras_home=keras_home, system_dirs={}).y_test) == 30


def test_offline_without_local_files_says_what_to_put_where(tmp_path: Path) -> None:
    with pytest.raises(DataError) as error:
        load_dataset(
            DataSettings("mnist"),
            keras_home=tmp_path / "keras",
            system_dirs={},
            download_origin=(tmp_path / "unreachable").as_uri() + "/",
        )
    message = str(error.value)
    assert message.startswith("MNIST is not on this machine and could not be downloaded (")
    assert message.endswith(
        "); put mnist.npz or train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz in "
        f"{tmp_path}/keras/datasets, or in a folder named by [data] data_dir"
    )


def test_real_fashion_mnist_from_debian() -> None:
    assert DEBIAN_FASHION_MNIST.is_dir(), "install Debian's dataset-fashion-mnist"
    settings = DataSettings("fashion_mnist", data_dir=DEBIAN_FASHION_MNIST, validation_split=0.1)
    data = load_dataset(settings)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (54_000, 6_000, 10_000)
    assert np.bincount(data.y_test).tolist() == [1000] * 10
