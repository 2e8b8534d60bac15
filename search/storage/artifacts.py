"""Each COMPLETE trial's model, kept as an Optuna artifact so the best one is never retrained.

The artifact store is a folder, or an S3-compatible bucket that every machine of a study can
reach. It belongs to one study: a small file in it names the study, so that two studies never
write their models into one store by accident.
"""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

import optuna
from optuna.artifacts import Boto3ArtifactStore, FileSystemArtifactStore
from optuna.artifacts.exceptions import ArtifactNotFound

from search.errors import DiskFull, StorageError
from search.storage.location import ArtifactLocation, S3Location
from search.storage.retry import RETRY_SECONDS, retried

MODEL_FILE = "model.keras"
OWNER_FILE = ".lenet-search-study.json"  # names the study an artifact store belongs to


class ArtifactStore(Protocol):
    """What Optuna's artifact functions and optuna-dashboard need of a store."""

    def open_reader(self, artifact_id: str) -> BinaryIO: ...

    def write(self, artifact_id: str, content_body: BinaryIO) -> None: ...

    def remove(self, artifact_id: str) -> None: ...


def open_artifact_store(
    location: ArtifactLocation, *, create: bool, retry_seconds: float = RETRY_SECONDS
) -> ArtifactStore:
    """The artifact store of a study; ``create`` makes a folder if it is missing.

    An S3 bucket must exist (it is never created) and be reachable: checked here, so that a
    worker that cannot reach it says so before it trains. Later calls wait ``retry_seconds``
    for a server that cannot be reached.

    Raises:
        StorageError: the folder cannot be made or is missing, or the bucket cannot be reached.
    """
    if isinstance(location, S3Location):
        return S3ArtifactStore(location, retry_seconds)
    if create:
        try:
            location.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(
                f"cannot make the artifact folder {location}: {e.strerror}"
            ) from None
    elif not location.is_dir():
        raise StorageError(f"artifact folder not found: {location} (pass --artifacts DIR)")
    return FolderArtifactStore(location)


class FolderArtifactStore(FileSystemArtifactStore):
    """Optuna's ``FileSystemArtifactStore``, but a file is written whole or not at all: into a
    temporary name beside it, then renamed. A full disk leaves no half-written model behind
    (Optuna's own store would keep what fit) and says so."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.folder = folder

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        target = self.folder / artifact_id
        partial = target.with_name(f".{artifact_id}.partial")
        try:
            with open(partial, "wb") as f:
                shutil.copyfileobj(content_body, f)
            os.replace(partial, target)
        except OSError as e:
            partial.unlink(missing_ok=True)
            if e.errno in (errno.ENOSPC, errno.EDQUOT):
                raise DiskFull(
                    f"no space left on {self.folder} for a model: free some, then run again "
                    "(finished trials are kept)"
                ) from None
            raise


class ArtifactStoreAway(StorageError):
    """The artifact store could not be reached for the whole retry window: the trial that
    needed it fails, and the study goes on."""


class S3ArtifactStore:
    """Optuna's ``Boto3ArtifactStore`` under the key prefix of an ``S3Location``; calls that
    cannot reach the server are tried again for ``retry_seconds`` (``storage.retry``; boto3's
    own few quick retries are inside each try)."""

    def __init__(self, location: S3Location, retry_seconds: float = RETRY_SECONDS) -> None:
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        self.location, self.retry_seconds = location, retry_seconds
        client = boto3.client("s3")
        try:
            client.head_bucket(Bucket=location.bucket)
        except ClientError as e:
            status = e.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
            reason = f'there is no bucket "{location.bucket}"' if status == 404 else str(e)
            raise StorageError(f"cannot use the artifact store {location}: {reason}") from None
        except BotoCoreError as e:
            raise StorageError(
                f"cannot reach the artifact store {location}: {e} (boto3 takes the endpoint "
                "and credentials from AWS_ENDPOINT_URL, AWS_ACCESS_KEY_ID, ~/.aws/config, ...)"
            ) from None
        self._store = Boto3ArtifactStore(location.bucket, client=client)

    def open_reader(self, artifact_id: str) -> BinaryIO:
        return self._retried(lambda: self._store.open_reader(self.location.key(artifact_id)))

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        def write() -> None:
            content_body.seek(0)  # from its start again, where a try was cut off
            self._store.write(self.location.key(artifact_id), content_body)

        self._retried(write)

    def remove(self, artifact_id: str) -> None:
        self._retried(lambda: self._store.remove(self.location.key(artifact_id)))

    def _retried(self, call: Callable[[], Any]) -> Any:
        """``call()``, tried again while the server cannot be reached, for retry_seconds.

        Raises:
            ArtifactStoreAway: it could not be reached for that long.
        """
        from botocore.exceptions import ConnectionError as Unreachable
        from botocore.exceptions import HTTPClientError

        def away(e: Exception) -> ArtifactStoreAway:
            return ArtifactStoreAway(
                f"the artifact store {self.location} could not be reached for "
                f"{self.retry_seconds:g} s ({e})"
            )

        return retried(
            call,
            seconds=self.retry_seconds,
            transient=lambda e: isinstance(e, (Unreachable, HTTPClientError)),
            away=away,
        )


def store_owner(store: ArtifactStore) -> Owner | None:
    """The study that claimed ``store``, or None when none did."""
    try:
        reader = store.open_reader(OWNER_FILE)
    except ArtifactNotFound:
        return None
    try:
        claim = json.loads(reader.read().decode("utf-8"))
    except (OSError, ValueError):
        claim = None
    finally:
        reader.close()
    if not isinstance(claim, dict):
        return Owner("an unreadable claim", "")
    return Owner(str(claim.get("study")), str(claim.get("uid")))


@dataclass(frozen=True)
class Owner:
    """The study a store belongs to: its name, and the uid that identifies it (``records``)."""

    study: str
    uid: str


def check_owner(
    store: ArtifactStore, location: ArtifactLocation, study_name: str, uid: str | None
) -> None:
    """Refuse a store that another study claimed; ``uid`` is None for a study not made yet.

    Raises:
        StorageError: the store belongs to a study with another uid.
    """
    owner = store_owner(store)
    if owner is not None and owner.uid != uid:
        whose = (
            f'another study named "{study_name}" (an earlier one, whose database moved or was '
            "deleted?)"
            if owner.study == study_name
            else f'study "{owner.study}", not to study "{study_name}"'
        )
        what = "artifact store" if isinstance(location, S3Location) else "artifact folder"
        raise StorageError(
            f"the {what} {location} belongs to {whose}; give this study one of its own with "
            "[study] artifacts"
        )


def claim_store(
    store: ArtifactStore, location: ArtifactLocation, study_name: str, uid: str
) -> None:
    """Mark ``store`` as the artifact store of the study with this ``uid``.

    Raises:
        StorageError: another study claimed it first, or it cannot be written.
    """
    check_owner(store, location, study_name, uid)
    if store_owner(store) is None:
        claim = json.dumps({"study": study_name, "uid": uid}) + "\n"
        try:
            store.write(OWNER_FILE, io.BytesIO(claim.encode("utf-8")))
        except Exception as e:  # noqa: BLE001 - an OSError, or boto3's errors for a bucket
            raise StorageError(f"cannot write to the artifact store {location}: {e}") from None


def save_trial_model(  # noqa: ANN001 - model: a keras.Model
    model, owner: optuna.Trial | optuna.Study, store: ArtifactStore
) -> str:
    """Save ``model`` as an artifact of ``owner`` (a trial, or the study for a model no trial
    made: a student) and return the artifact id."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / MODEL_FILE
        model.save(path)
        return optuna.artifacts.upload_artifact(
            artifact_store=store, file_path=str(path), study_or_trial=owner
        )


def download_trial_model(store: ArtifactStore, artifact_id: str, path: Path) -> None:
    """Copy a trial's saved model file to ``path``."""
    try:
        optuna.artifacts.download_artifact(
            artifact_store=store, file_path=str(path), artifact_id=artifact_id
        )
    except ArtifactNotFound:
        raise StorageError(
            f"the saved model {artifact_id} is not in the study's artifact store "
            "(if its folder moved, pass --artifacts DIR)"
        ) from None


def load_trial_model(store: ArtifactStore, artifact_id: str):  # noqa: ANN201
    """Load a trial's saved keras.Model, compiled as it was trained."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / MODEL_FILE
        download_trial_model(store, artifact_id, path)
        return load_model_file(path, f"the saved model {artifact_id}")


def load_model_file(path: Path, what: str):  # noqa: ANN201 - a keras.Model
    """Load a ``.keras`` file; a damaged or truncated one is a StorageError naming ``what``."""
    import keras

    try:
        return keras.saving.load_model(path)
    except Exception as e:  # noqa: BLE001 - Keras raises many kinds for a damaged file
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StorageError(
            f"{what} ({path.name}) cannot be loaded, it may be damaged or truncated: {reason}"
        ) from None
