"""Small generated data shared by the tests: image folders, IDX files and study files."""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

CLASSES = ("circle", "horizontal", "vertical")


def pattern(kind: str, size: tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """An RGB uint8 image whose class a LeNet learns in an epoch or two."""
    height, width = size
    image = rng.integers(0, 40, size=(height, width, 3), dtype=np.uint8)
    if kind == "horizontal":
        image[height // 3 : 2 * height // 3, :, :] = 255
    elif kind == "vertical":
        image[:, width // 3 : 2 * width // 3, :] = 255
    else:
        yy, xx = np.mgrid[:height, :width]
        ring = np.abs(np.hypot(yy - height / 2, xx - width / 2) - min(height, width) / 3) < 3
        image[ring] = 255
    return image


def make_image_folder(root: Path, per_class: int = 20, seed: int = 0) -> Path:
    """``root/<class>/<n>.png`` of varying sizes, plus a file that is not an image."""
    from PIL import Image

    rng = np.random.default_rng(seed)
    for kind in CLASSES:
        folder = root / kind
        folder.mkdir(parents=True)
        for n in range(per_class):
            size = (32 + n % 3 * 8, 36 + n % 2 * 12)
            Image.fromarray(pattern(kind, size, rng)).save(folder / f"{n}.png")
    (root / "circle" / "README.txt").write_text("not an image; ignored")
    return root


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    return make_image_folder(tmp_path / "shapes")


def write_idx(path: Path, array: np.ndarray) -> None:
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape
    )
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def make_idx_folder(folder: Path, n_train: int = 100, n_test: int = 30, seed: int = 0) -> Path:
    """The four MNIST-format files of a small random dataset with 10 classes."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", np.arange(n) % 10)
    return folder


STUDY_TEMPLATE = """\
[study]
name = "{name}"
n_trials = {n_trials}
seed = 0

[data]
dataset = "{dataset}"
validation_split = 0.25
test_split = 0.25

[training]
batch_size = 16
learning_rate = 0.01

[run]
workers = 1

[pruner]
kind = "none"

[search_space]
conv1_channels = {{ low = 2, high = 8, log = true }}
conv2_channels = {{ low = 2, high = 8, log = true }}
dense_units = {{ low = 4, high = 16 }}
epochs = {{ low = 1, high = 3 }}
"""


def write_study(
    folder: Path, name: str = "tiny", n_trials: int = 2, edits: dict[str, str] | None = None
) -> Path:
    """A study file over the ``shapes`` image folder beside it; ``edits`` replace its text."""
    text = STUDY_TEMPLATE.format(name=name, n_trials=n_trials, dataset="shapes")
    for old, new in (edits or {}).items():
        assert old in text, f"{old!r} is not in the study template"
        text = text.replace(old, new)
    path = folder / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture
def study_file(tmp_path: Path, image_folder: Path) -> Path:
    return write_study(tmp_path)


@pytest.fixture(scope="session")
def finished_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a study file whose 2-trial study has run: database, artifacts and data.

    Shared by the tests that only read it; a test that changes it works on ``copy_of``.
    """
    from search.config import load_config
    from search.data import load_dataset
    from search.study import run_study

    folder = tmp_path_factory.mktemp("finished")
    make_image_folder(folder / "shapes")
    path = write_study(folder)
    config = load_config(path)
    run_study(config, load_dataset(config.data))
    return folder


def copy_of(folder: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(folder, tmp_path / "copy"))


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a database on a real PostgreSQL server started for this test session."""
    from tests import postgres

    bindir = postgres.binaries()
    if bindir is None:
        message = "PostgreSQL is not installed (Debian: apt-get install postgresql)"
        if os.environ.get("LENET_SEARCH_REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)
    with postgres.server(bindir) as url:
        yield url


@pytest.fixture
def postgres_url(postgres_server: str) -> Iterator[str]:
    """The test server's database, emptied of studies after each test."""
    yield postgres_server
    import sqlalchemy

    engine = sqlalchemy.create_engine(postgres_server)
    with engine.begin() as connection:
        connection.execute(sqlalchemy.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
    engine.dispose()


@pytest.fixture(scope="session")
def s3_server() -> Iterator[str]:
    """The endpoint of a real S3-compatible server (moto's) started for this test session."""
    from tests import s3

    with s3.server() as endpoint:
        yield endpoint


@pytest.fixture
def s3_bucket(s3_server: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A new, empty bucket on the test server, and this process's boto3 pointed at it."""
    import uuid

    import boto3

    from tests import s3

    for key, value in s3.environment(s3_server).items():
        monkeypatch.setenv(key, value)
    bucket = f"models-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=bucket)
    return bucket
