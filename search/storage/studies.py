"""The studies of a storage: list them with their counts and best value, or delete one whole.

Deleting a study removes its trials from the database and its artifacts (models, pictures,
stored predictions) from its artifact store, but only from a store that this study claimed
(see ``search.storage.artifacts.claim_store``): another study's files are never touched.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import optuna
from optuna.artifacts.exceptions import ArtifactNotFound

from search.errors import LenetSearchError, StorageError
from search.storage import records
from search.storage.artifacts import OWNER_FILE, open_artifact_store, store_owner
from search.storage.database import display_url, load_study, lock_path, open_storage, study_lock
from search.storage.location import ArtifactLocation, parse_artifact_location
from search.storage.trials import tally
from search.storage.url import sqlite_path


@dataclass(frozen=True)
class StudySummary:
    storage: str  # the URL, password hidden
    name: str
    trials: int
    complete: int
    pruned: int
    over_budget: int  # pruned before training, over [search_space]'s size budget
    failed: int
    best_trial: int | None
    best_value: float | None


def sqlite_files_in(folder: Path) -> list[str]:
    """Storage URLs of the SQLite databases in ``folder`` (``studies/`` keeps them there)."""
    return [f"sqlite:///{path.resolve()}" for path in sorted(folder.glob("*.db"))]


def study_summaries(storage_url: str) -> list[StudySummary]:
    storage = open_storage(storage_url, create=False)
    summaries = []
    for name in optuna.get_all_study_names(storage):
        study = load_study(storage, name)
        counted = tally(study)  # the same counts and best trial as the run's progress line
        summaries.append(
            StudySummary(
                storage=display_url(storage_url),
                name=name,
                trials=len(study.get_trials(deepcopy=False)),
                complete=counted.complete,
                pruned=counted.pruned,
                over_budget=counted.over_budget,
                failed=counted.failed,
                best_trial=counted.best_number,
                best_value=counted.best_value,
            )
        )
    return summaries


@dataclass(frozen=True)
class Deletion:
    """What deleting a study removes: its trials, and its artifacts where it owns the store."""

    name: str
    storage: str
    trials: int
    artifact_ids: list[str]
    store: str | None  # where the artifacts are; None when the study records none
    store_kept: str | None  # why the artifacts are left in place, when they are


def plan_deletion(
    storage_url: str, name: str, artifacts: ArtifactLocation | None = None
) -> Deletion:
    """What ``delete_study`` would remove, to show before asking; nothing is changed.

    ``artifacts`` is the study's store as this machine sees it (default: as recorded).
    """
    storage = open_storage(storage_url, create=False)
    study = load_study(storage, name)
    location = artifacts or records.recorded_artifacts(study)
    ids, kept = [], None
    if location is not None:
        try:
            owner = store_owner(open_artifact_store(location, create=False))
        except LenetSearchError as e:
            owner, kept = None, f"the store cannot be opened ({e})"
        if kept is None and (owner is None or owner.uid != records.study_uid(study)):
            kept = "the store does not belong to this study"
        if kept is None:
            ids = _artifact_ids(study, storage)
    trials = len(study.get_trials(deepcopy=False))
    store_name = str(location) if location is not None else None
    return Deletion(name, display_url(storage_url), trials, ids, store_name, kept)


def _artifact_ids(study: optuna.Study, storage: optuna.storages.BaseStorage) -> list[str]:
    """Every artifact uploaded for the study or one of its trials (models, pictures, ...)."""
    holders: list[optuna.Study | optuna.trial.FrozenTrial] = [study, *study.get_trials()]
    ids = [
        meta.artifact_id
        for holder in holders
        for meta in optuna.artifacts.get_all_artifact_meta(holder, storage=storage)
    ]
    return list(dict.fromkeys(ids))


def delete_study(storage_url: str, plan: Deletion) -> Path | None:
    """Remove the study's artifacts (those ``plan`` lists), then the study itself; an SQLite
    database left with no study is removed too, with its lock. Returns that file, if removed.

    Artifacts go first: should it stop half-way, the study is still there to delete again.
    """
    if plan.artifact_ids or (plan.store is not None and plan.store_kept is None):
        location = parse_artifact_location(plan.store, Path("/"))
        store = open_artifact_store(location, create=False)
        for artifact_id in plan.artifact_ids:
            try:
                store.remove(artifact_id)
            except ArtifactNotFound:
                pass  # already gone
        try:
            store.remove(OWNER_FILE)  # the store is free for another study now
        except ArtifactNotFound:
            pass
        if isinstance(location, Path):
            _remove_empty_folders(location)
    storage = open_storage(storage_url, create=False)
    try:
        optuna.delete_study(study_name=plan.name, storage=storage)
    except KeyError:
        raise StorageError(f'study "{plan.name}" is not in {plan.storage}') from None
    path = sqlite_path(storage_url)
    if path is None:
        return None
    with study_lock(storage_url):  # not while another process is making a study in it
        if optuna.get_all_study_names(storage):
            return None
        storage.engine.dispose()  # no connection left open on the file
        path.unlink(missing_ok=True)
        lock_path(path).unlink(missing_ok=True)
    return path


def _remove_empty_folders(root: Path) -> None:
    for folder in sorted((p for p in root.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()
    if root.is_dir() and not any(root.iterdir()):
        root.rmdir()
