"""A study made, resumed or joined, with the settings it records checked.

Made (or its settings checked) under the storage's study lock, before any worker starts, so
that processes started together never race to create it (behind the gRPC proxy, which has no
lock, one makes and names it, and the others wait for its name). Every later process finds in
the study what it was made with: the study file's settings, the resolved config (``worker``
needs no file), the data's record and fingerprint, and the artifact store it claimed.
"""

from __future__ import annotations

import time
from typing import Any

import optuna
from optuna.distributions import check_distribution_compatibility

from search.config.record import config_record, settings_differences
from search.config.settings import StudyConfig
from search.dashboard.note import write_note
from search.data.dataset import Dataset
from search.data.record import (
    data_differences,
    data_summary,
    dataset_record,
    require_same_folds,
)
from search.engine.pruning import make_pruner
from search.engine.sampler import TrialSeededTPESampler
from search.engine.warm_start import enqueue_warm_start
from search.errors import ConfigError, StorageError
from search.scheduler.handle import StudyHandle
from search.space.ranges import largest
from search.space.suggest import distributions
from search.storage import records
from search.storage.artifacts import ArtifactStore, check_owner, claim_store
from search.storage.database import open_storage, study_lock
from search.storage.url import grpc_address

# Behind the gRPC proxy: how long to wait for the uid of a study another process has just made.
UID_WAIT_SECONDS = 10.0


def create_or_resume_study(
    config: StudyConfig, dataset: Dataset, store: ArtifactStore, allow_changes: bool = False
) -> optuna.Study:
    """Create the study, or open it and check that its settings are the file's; the study
    claims its artifact ``store``.

    Raises:
        ConfigError: the study exists with other settings or data and ``allow_changes`` is
            false.
        StorageError: the storage cannot be opened, or the store belongs to another study.
    """
    with study_lock(config.study.storage):
        storage = open_storage(
            config.study.storage,
            create=True,
            heartbeat=config.study.heartbeat,
            retry_seconds=config.run.storage_retry_seconds,
        )
        study, uid = _made_or_opened(config, storage)
        _record_or_check_settings(study, config, dataset, allow_changes)  # before any write
        claim_store(store, config.study.artifacts, config.study.name, uid or _uid(study, config))
    return study


def join_study_for_trials(
    config: StudyConfig, dataset: Dataset, store: ArtifactStore, allow_changes: bool = False
) -> optuna.Study:
    """An existing study (`worker`), its recorded settings checked against this machine's data.

    Raises:
        ConfigError: the data differs from the study's and ``allow_changes`` is false.
        StorageError: no such study, or the store belongs to another study.
    """
    with study_lock(config.study.storage):
        study = open_for_trials(config).study
        _record_or_check_settings(study, config, dataset, allow_changes)
        claim_store(store, config.study.artifacts, config.study.name, _uid(study, config))
    return study


def open_for_trials(config: StudyConfig) -> StudyHandle:
    """The existing study, opened to run trials: heartbeats on, the sampler and the pruner set,
    with its lock (a spawned worker's ``WorkerJob.open_study``)."""
    storage = open_storage(
        config.study.storage,
        create=False,
        writer=True,
        heartbeat=config.study.heartbeat,
        retry_seconds=config.run.storage_retry_seconds,
    )
    sampler, pruner = _sampler_and_pruner(config)
    study = optuna.load_study(
        study_name=config.study.name, storage=storage, sampler=sampler, pruner=pruner
    )
    return handle_of(study, config)


def handle_of(study: optuna.Study, config: StudyConfig) -> StudyHandle:
    """The study as the scheduler takes it: with its lock, which waits as its storage does."""
    settings = config.study
    retry_seconds = config.run.storage_retry_seconds
    return StudyHandle.of(study, settings.storage, retry_seconds, settings.heartbeat_interval)


def check_artifact_owner(config: StudyConfig, store: ArtifactStore) -> None:
    """Refuse, before the database is touched, an artifact store another study claimed."""
    uid = None  # no database, or no such study in it yet: this would be a new study
    try:
        storage = open_storage(config.study.storage, create=False)
        uid = records.study_uid(optuna.load_study(study_name=config.study.name, storage=storage))
    except (StorageError, KeyError):
        pass
    check_owner(store, config.study.artifacts, config.study.name, uid)


def _made_or_opened(
    config: StudyConfig, storage: optuna.storages.BaseStorage
) -> tuple[optuna.Study, str | None]:
    """The study, and its uid where it was made and named here; an existing one is only read
    (it is left as it is, should its settings be refused)."""
    name = config.study.name
    sampler, pruner = _sampler_and_pruner(config)
    try:  # as Optuna's load_if_exists: its failed insert writes nothing
        study = optuna.create_study(
            study_name=name, storage=storage, direction="maximize", sampler=sampler, pruner=pruner
        )
        return study, records.give_uid(study)
    except optuna.exceptions.DuplicatedStudyError:  # it exists (or, behind the proxy, just did)
        study = optuna.load_study(study_name=name, storage=storage, sampler=sampler, pruner=pruner)
        return study, None


def _uid(study: optuna.Study, config: StudyConfig) -> str:
    """The uid of a study this process did not make. Under the study lock its maker named it
    before letting go. Behind the gRPC proxy there is no lock: wait a while for the maker's
    uid rather than give one of our own (two uids: one would claim the artifact store, and
    the study would keep the other). A study older than uids is named here."""
    wait = UID_WAIT_SECONDS if grpc_address(config.study.storage) else 0
    deadline = time.monotonic() + wait
    while (uid := records.study_uid(study)) is None:  # read from the storage each time
        if time.monotonic() >= deadline:
            return records.give_uid(study)
        time.sleep(0.1)
    return uid


def _sampler_and_pruner(
    config: StudyConfig,
) -> tuple[optuna.samplers.BaseSampler, optuna.pruners.BasePruner]:
    sampler = TrialSeededTPESampler(config.study.seed, config.sampler.n_startup_trials)
    max_epochs = int(largest(config.search_space["epochs"]))
    return sampler, make_pruner(config.pruner, max_epochs)


def _record_or_check_settings(
    study: optuna.Study, config: StudyConfig, dataset: Dataset, allow_changes: bool
) -> None:
    """Store what the study was made with, or refuse a resume whose settings or data differ."""
    if study.direction != optuna.study.StudyDirection.MAXIMIZE:
        raise ConfigError(
            f'study "{config.study.name}" minimizes its objective, but lenet-search maximizes '
            "validation accuracy; give the study another [study] name"
        )
    # The dashboard's name for the value; a study made before it was named gets it on resume.
    if study.metric_names != [records.METRIC_NAME]:
        study.set_metric_names([records.METRIC_NAME])
    data = dataset_record(dataset, config.data)
    stored = records.study_record(study, records.SETTINGS)
    if stored is None:
        # A new study's first trials, before its settings are recorded: if the earlier study
        # cannot be read, the next `run` finds this one new still, and tries again.
        if config.study.warm_start is not None:
            enqueue_warm_start(study, config, dataset)
        _record(study, config, data)
        return
    require_same_folds(records.study_record(study, records.DATA, {}), data, config.study.name)
    differences = settings_differences(stored, config.file_settings)
    data_changes = data_differences(records.study_record(study, records.DATA, {}), data)
    if not differences and not data_changes:
        write_note(study, config, data, only_if_missing=True)  # studies made before notes
        return
    if not allow_changes:
        problems = []
        if differences:
            problems.append(
                f'study "{config.study.name}" was made with other settings than {config.path} '
                f"has now: {'; '.join(differences)}"
            )
        if data_changes:
            problems.append(
                f'the data of study "{config.study.name}" changed since the study was made: '
                f"{'; '.join(data_changes)}"
            )
        raise ConfigError(
            ". ".join(problems) + ". Pass --allow-changes to go on with the new settings and "
            "data, or give the study another [study] name"
        )
    _check_compatible(study, config)
    changes = records.study_record(study, records.SETTINGS_CHANGES, [])
    records.set_study_record(
        study, records.SETTINGS_CHANGES, [*changes, differences + data_changes]
    )
    _record(study, config, data)


def _record(study: optuna.Study, config: StudyConfig, data: dict[str, Any]) -> None:
    """What the study is made with: for resumes, `worker`, export and the dashboard."""
    records.set_study_record(study, records.SETTINGS, config.file_settings)
    records.set_study_record(study, records.CONFIG, config_record(config))
    records.set_study_record(study, records.DATA, data)
    study.set_user_attr(records.ARTIFACT_DIR, str(config.study.artifacts))
    study.set_user_attr(records.DATASET, data_summary(data))
    write_note(study, config, data)


def _check_compatible(study: optuna.Study, config: StudyConfig) -> None:
    """Optuna keeps one distribution per name in a study: a range may change its bounds, but
    not become logarithmic, nor a list of choices change."""
    new = distributions(config.search_space)
    for trial in study.get_trials(deepcopy=False):
        for name, old in trial.distributions.items():
            try:
                if name in new:
                    check_distribution_compatibility(old, new[name])
            except ValueError as e:
                raise ConfigError(
                    f"even with --allow-changes, [search_space] {name} cannot change that way "
                    f"within one study ({e}); give the study another [study] name"
                ) from None
