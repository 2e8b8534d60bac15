"""Each COMPLETE trial's model, kept as an Optuna artifact so the best one is never retrained.

An artifact folder belongs to one study: a small file in it names the study, so that two
studies never write their models into one folder by accident.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import optuna
from optuna.artifacts import FileSystemArtifactStore
from optuna.artifacts.exceptions import ArtifactNotFound

from search.errors import StorageError

MODEL_FILE = "model.keras"


OWNER_FILE = ".lenet-search-study.json"


def open_artifact_store(folder: Path, *, create: bool) -> FileSystemArtifactStore:
    """The filesystem artifact store of a study; ``create`` makes the folder if it is missing.

    Raises:
        StorageError: the folder cannot be made, or is missing.
    """
    if create:
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"cannot make the artifact folder {folder}: {e.strerror}") from None
    elif not folder.is_dir():
        raise StorageError(f"artifact folder not found: {folder} (pass --artifacts DIR)")
    return FileSystemArtifactStore(str(folder))


def folder_owner(folder: Path) -> dict[str, str] | None:
    """The study that claimed ``folder`` ({"study": name, "uid": ...}), or None."""
    try:
        owner = json.loads((folder / OWNER_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return {"study": "an unreadable claim", "uid": ""}
    return owner if isinstance(owner, dict) else {"study": "an unreadable claim", "uid": ""}


def claim_folder(folder: Path, study_name: str, uid: str) -> None:
    """Mark ``folder`` as the artifact folder of the study with this ``uid``.

    Raises:
        StorageError: another study claimed it first.
    """
    owner = folder_owner(folder)
    if owner is None:
        try:
            (folder / OWNER_FILE).write_text(
                json.dumps({"study": study_name, "uid": uid}) + "\n", encoding="utf-8"
            )
        except OSError as e:
            raise StorageError(
                f"cannot write to the artifact folder {folder}: {e.strerror}"
            ) from None
    elif owner.get("uid") != uid:
        raise StorageError(artifact_folder_taken(folder, owner, study_name))


def artifact_folder_taken(folder: Path, owner: dict[str, str], study_name: str) -> str:
    owner_name = owner.get("study")
    whose = (
        f'another study named "{study_name}" (an earlier one, whose database moved or was '
        "deleted?)"
        if owner_name == study_name
        else f'study "{owner_name}", not to study "{study_name}"'
    )
    return (
        f"the artifact folder {folder} belongs to {whose}; give this study a folder of its own "
        "with [study] artifacts"
    )


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
