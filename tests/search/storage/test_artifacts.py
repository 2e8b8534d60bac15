"""Artifact stores: a folder or an S3 bucket, claimed by one study."""

from pathlib import Path

import optuna
import pytest

from search.errors import StorageError
from search.storage.artifacts import (
    OWNER_FILE,
    Owner,
    claim_store,
    load_trial_model,
    open_artifact_store,
    save_trial_model,
    store_owner,
)
from search.storage.location import S3Location
from tests.postgres import free_port


def test_a_store_belongs_to_the_study_that_claimed_it(tmp_path: Path) -> None:
    folder = tmp_path / "models"
    store = open_artifact_store(folder, create=True)
    assert store_owner(store) is None
    claim_store(store, folder, "one", "uid-1")
    claim_store(store, folder, "one", "uid-1")  # the same study again: fine
    assert store_owner(store) == Owner("one", "uid-1")
    with pytest.raises(StorageError) as error:
        claim_store(store, folder, "two", "uid-2")
    assert str(error.value) == (
        f'the artifact folder {folder} belongs to study "one", not to study "two"; give this '
        "study one of its own with [study] artifacts"
    )


def test_an_s3_store_keeps_a_studys_models_under_its_prefix(s3_bucket: str) -> None:
    import boto3
    import numpy as np

    from models import LeNetArchitecture, build_lenet

    location = S3Location(f"s3://{s3_bucket}/studies/tiny")
    store = open_artifact_store(location, create=True)
    claim_store(store, location, "tiny", "uid-1")
    model = build_lenet(LeNetArchitecture((28, 28, 1), 3, 2, 2, 4))
    trial = optuna.create_study().ask()
    artifact_id = save_trial_model(model, trial, store)

    keys = {o["Key"] for o in boto3.client("s3").list_objects_v2(Bucket=s3_bucket)["Contents"]}
    assert keys == {f"studies/tiny/{OWNER_FILE}", f"studies/tiny/{artifact_id}"}
    images = np.random.default_rng(0).random((4, 28, 28, 1), dtype=np.float32)
    loaded = load_trial_model(open_artifact_store(location, create=False), artifact_id)
    assert np.array_equal(loaded.predict(images, verbose=0), model.predict(images, verbose=0))
    with pytest.raises(StorageError) as error:
        claim_store(store, location, "other", "uid-2")
    assert str(error.value) == (
        f'the artifact store s3://{s3_bucket}/studies/tiny belongs to study "tiny", not to '
        'study "other"; give this study one of its own with [study] artifacts'
    )


def test_an_unreachable_or_missing_bucket_is_said_before_anything_runs(
    s3_bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(StorageError) as error:
        open_artifact_store(S3Location("s3://no-such-bucket/tiny"), create=True)
    assert str(error.value) == (
        "cannot use the artifact store s3://no-such-bucket/tiny: there is no bucket "
        '"no-such-bucket"'
    )
    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint)
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "1")
    with pytest.raises(StorageError) as error:
        open_artifact_store(S3Location(f"s3://{s3_bucket}/tiny"), create=True)
    assert str(error.value) == (
        f"cannot reach the artifact store s3://{s3_bucket}/tiny: Could not connect to the "
        f'endpoint URL: "{endpoint}/{s3_bucket}" (boto3 takes the endpoint and credentials '
        "from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ~/.aws/config, ...)"
    )


def test_an_s3_store_away_for_a_while_is_waited_for(s3_behind_a_proxy) -> None:  # noqa: ANN001
    import io
    import threading
    import time

    bucket, proxy = s3_behind_a_proxy
    store = open_artifact_store(S3Location(f"s3://{bucket}/tiny"), create=True)
    proxy.down()
    threading.Timer(3, proxy.up).start()  # back after 3 s, what it held kept
    started = time.monotonic()
    store.write("model", io.BytesIO(b"the model's bytes"))
    assert time.monotonic() - started >= 3
    assert store.open_reader("model").read() == b"the model's bytes"


def test_an_s3_store_away_too_long_fails_with_the_reason(s3_behind_a_proxy) -> None:  # noqa: ANN001
    import io

    from search.storage.artifacts import ArtifactStoreAway, S3ArtifactStore

    bucket, proxy = s3_behind_a_proxy
    store = S3ArtifactStore(S3Location(f"s3://{bucket}/tiny"), retry_seconds=2)
    proxy.down()
    with pytest.raises(ArtifactStoreAway) as away:
        store.write("model", io.BytesIO(b"the model's bytes"))
    assert str(away.value) == (
        f"the artifact store s3://{bucket}/tiny could not be reached for 2 s (Could not "
        f'connect to the endpoint URL: "{proxy.url}/{bucket}/tiny/model")'
    )
    proxy.up()
    with pytest.raises(Exception, match="NoSuchKey|not found|Not Found"):
        store.open_reader("model").read()  # nothing half-written was kept
