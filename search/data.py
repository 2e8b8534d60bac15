"""Datasets: MNIST, Fashion-MNIST and folders of images, as scaled arrays with fixed splits.

Each process loads its data once (``load_dataset``) and every trial trains on the same arrays.
Pixels are scaled to 0..1 and shaped (N, height, width, channels). The validation split is held
out of the training split, stratified and seeded, so that every trial and every later export is
judged on the same images; the test split is only ever used to evaluate the chosen model.
"""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from search.config import DataSettings
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
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}


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
        (x, y), (x_test, y_test) = _load_mnist_like(
            settings, keras_home, system_dirs, download_origin, files
        )
        x, x_test = x[..., np.newaxis], x_test[..., np.newaxis]
        class_names = FASHION_CLASSES if settings.dataset == "fashion_mnist" else _digits()
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
    on black); ``predict`` pads photos and fills their transparent parts with it.
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
    border = np.concatenate([x[:, 0], x[:, -1], x[:, 1:-1, 0], x[:, 1:-1, -1]], axis=1)
    background = np.median(border.reshape(-1, x.shape[-1]), axis=0)
    return {
        "mean": round(mean, 4),
        "std": round(std, 4),
        "background": [round(float(value), 4) for value in background],
    }


def file_digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


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


def _digits() -> tuple[str, ...]:
    return tuple(str(digit) for digit in range(10))


# --- MNIST and Fashion-MNIST ------------------------------------------------------------------


def _load_mnist_like(
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
    x_train, y_train, x_test, y_test = (_read_idx(path) for path in paths)
    files.update({path.name: file_digest(path) for path in paths})
    return (x_train, y_train), (x_test, y_test)


def _idx_path(folder: Path, name: str) -> Path | None:
    for candidate in (folder / f"{name}.gz", folder / name):
        if candidate.is_file():
            return candidate
    return None


def _read_idx(path: Path) -> np.ndarray:
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
    from search.runtime import start_tensorflow

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


# --- image folders ----------------------------------------------------------------------------


def read_image_folder(
    folder: Path, settings: DataSettings, files: dict[str, str] | None = None
) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
    """Read ``folder/<class>/<image>`` into uint8 arrays; classes are the sorted folder names.

    Files that are not images (by suffix) are ignored; an image that cannot be read is an error.
    Each image read goes into ``files`` as "<class>/<file>" with its digest.
    """
    if not folder.is_dir():
        raise DataError(f"image folder not found: {folder}")
    class_dirs = sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))
    if len(class_dirs) < 2:
        raise DataError(
            f"image folder {folder} has {len(class_dirs)} class folder(s); it needs at least 2 "
            "(one sub-folder of images per class)"
        )
    images, labels = [], []
    for label, class_dir in enumerate(class_dirs):
        images_of_class = sorted(
            p for p in class_dir.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES
        )
        if not images_of_class:
            raise DataError(f"class folder {class_dir} has no images")
        for path in images_of_class:
            images.append(read_image(path, settings.color_mode, settings.image_size))
            labels.append(label)
            if files is not None:
                files[f"{class_dir.name}/{path.name}"] = file_digest(path)
    names = tuple(p.name for p in class_dirs)
    return names, np.stack(images), np.asarray(labels, dtype=np.int64)


def read_image(path: Path, color_mode: str, image_size: int) -> np.ndarray:
    """One image file as uint8 (image_size, image_size, channels), whatever its size and colour."""
    from PIL import Image, UnidentifiedImageError

    mode = "L" if color_mode == "grayscale" else "RGB"
    try:
        with Image.open(path) as image:
            resized = image.convert(mode).resize(
                (image_size, image_size), Image.Resampling.BILINEAR
            )
    except (OSError, UnidentifiedImageError, ValueError) as e:
        raise DataError(f"cannot read image {path}: {e}") from None
    return np.asarray(resized).reshape(image_size, image_size, len(mode))
