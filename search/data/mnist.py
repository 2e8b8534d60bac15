"""MNIST and Fashion-MNIST: from Keras's cache, a system package (Debian's
``dataset-fashion-mnist``), a folder the study file names, or Keras's own download.
"""

from __future__ import annotations

import gzip
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from search.config.settings import DataSettings
from search.data.record import file_digest
from search.errors import DataError

KERAS_ORIGIN = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"
DEFAULT_KERAS_HOME = Path("~/.keras").expanduser()
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
SYSTEM_DIRS: Mapping[str, tuple[Path, ...]] = {"fashion_mnist": (DEBIAN_FASHION_MNIST,)}

IDX_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
MNIST_NPZ = "mnist.npz"
MNIST_NPZ_SHA256 = "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"
FASHION_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)


def digits() -> tuple[str, ...]:
    return tuple(str(digit) for digit in range(10))


def load_mnist_like(
    settings: DataSettings,
    keras_home: Path,
    system_dirs: Mapping[str, tuple[Path, ...]],
    origin: str,
    files: dict[str, str],
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    label = "MNIST" if settings.dataset == "mnist" else "Fashion-MNIST"
    wanted = _wanted_files(settings.dataset)
    if settings.data_dir is not None:
        found = _read_from(settings.data_dir, settings.dataset, files)
        if found is None:
            raise DataError(
                f"[data] data_dir {settings.data_dir} has no {label} files; expected {wanted}"
            )
        return found

    cache = keras_home / "datasets"
    # Where keras.datasets.<name>.load_data() keeps its files, then the system's copies.
    cache = cache / "fashion-mnist" if settings.dataset == "fashion_mnist" else cache
    candidates = (cache, *system_dirs.get(settings.dataset, ()))
    for folder in candidates:
        found = _read_from(folder, settings.dataset, files)
        if found is not None:
            return found
    _download(settings.dataset, keras_home, origin, label, wanted, candidates[0])
    found = _read_from(candidates[0], settings.dataset, files)
    assert found is not None, "downloaded files must be readable"
    return found


def _wanted_files(dataset: str) -> str:
    idx = ", ".join(f"{name}.gz" for name in IDX_FILES)
    return f"{MNIST_NPZ} or {idx}" if dataset == "mnist" else idx


def _read_from(folder: Path, dataset: str, files: dict[str, str]):  # noqa: ANN202
    """Read the dataset's splits from ``folder`` if its files are there, else return None.

    The files read go into ``files`` with their digests.
    """
    if dataset == "mnist" and (folder / MNIST_NPZ).is_file():
        try:
            with np.load(folder / MNIST_NPZ, allow_pickle=False) as f:
                splits = (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])
            files[MNIST_NPZ] = file_digest(folder / MNIST_NPZ)
            return splits
        except (OSError, ValueError, KeyError) as e:
            raise DataError(f"cannot read {folder / MNIST_NPZ}: {e}") from None
    paths = [_idx_path(folder, name) for name in IDX_FILES]
    if any(path is None for path in paths):
        return None
    x_train, y_train, x_test, y_test = (read_idx(path) for path in paths)
    files.update({path.name: file_digest(path) for path in paths})
    return (x_train, y_train), (x_test, y_test)


def _idx_path(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format): a magic number, the dimensions, then uint8 data."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            raw = f.read()
        if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] != 0x08:
            raise ValueError("not an IDX file of unsigned bytes")
        n_dims = raw[3]
        shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(n_dims))
        data = np.frombuffer(raw, np.uint8, offset=4 + 4 * n_dims)
        return data.reshape(shape)
    except (OSError, ValueError, EOFError) as e:
        raise DataError(f"cannot read {path}: {e}") from None


def _download(
    dataset: str, keras_home: Path, origin: str, label: str, wanted: str, target: Path
) -> None:
    """Fetch the files into Keras's cache, as ``keras.datasets.*.load_data()`` would."""
    from search.runtime.tensorflow import start_tensorflow

    start_tensorflow()  # only here, and quietly: finding local files must not need TensorFlow
    import keras

    if dataset == "mnist":
        downloads = [(MNIST_NPZ, MNIST_NPZ_SHA256)]
    else:
        downloads = [(f"{name}.gz", None) for name in IDX_FILES]
    subdir = target.relative_to(keras_home)
    # Keras falls back to /tmp/.keras when the cache folder does not exist yet; make it first.
    target.mkdir(parents=True, exist_ok=True)
    try:
        for fname, sha256 in downloads:
            keras.utils.get_file(
                fname,
                origin=origin + fname,
                file_hash=sha256,
                cache_dir=str(keras_home),
                cache_subdir=str(subdir),
            )
    except Exception as e:  # noqa: BLE001 - any failure means the same to the user
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        debian = (
            ", or install Debian's copy: sudo apt-get install dataset-fashion-mnist"
            if dataset == "fashion_mnist"
            else ""
        )
        raise DataError(
            f"{label} is not on this machine and could not be downloaded ({reason}); "
            f"put {wanted} in {target}, or in a folder named by [data] data_dir{debian}"
        ) from None
