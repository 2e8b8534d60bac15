"""Each COMPLETE trial's model, kept as an Optuna artifact so the best one is never retrained."""

from __future__ import annotations

import tempfile
from pathlib import Path

import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.artifacts.exceptions import ArtifactNotFound

from search.errors import StorageError

MODEL_FILE = "model.keras"


def open_artifact_store(folder: Path, *, create: bool) -> FileSystemArtifactStore:
    """The filesystem artifact store kept beside the study's database."""
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"cannot make the artifact folder {folder}: {e.strerror}") from None
    elif not folder.is_dir():
        raise StorageError(f"artifact folder not found: {folder} (pass --artifacts DIR)")
    return FileSystemArtifactStore(str(folder))


def save_trial_model(model, trial: optuna.Trial, store: FileSystemArtifactStore) -> str:  # noqa: ANN001
    """Save ``model`` (a keras.Model) as an artifact of ``trial`` and return the artifact id."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / MODEL_FILE
        model.save(path)
        return optuna.artifacts.upload_artifact(
            artifact_store=store, file_path=str(path), study_or_trial=trial
        )


def download_trial_model(store: FileSystemArtifactStore, artifact_id: str, path: Path) -> None:
    """Copy a trial's saved model file to ``path``."""
    try:
        optuna.artifacts.download_artifact(
            artifact_store=store, file_path=str(path), artifact_id=artifact_id
        )
    except ArtifactNotFound:
        raise StorageError(
            f"the saved model {artifact_id} is not in the artifact folder "
            "(if the folder moved, pass --artifacts DIR)"
        ) from None


def load_trial_model(store: FileSystemArtifactStore, artifact_id: str):  # noqa: ANN201
    """Load a trial's saved keras.Model, compiled as it was trained."""
    import keras

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / MODEL_FILE
        download_trial_model(store, artifact_id, path)
        return keras.saving.load_model(path)
