"""Create or resume a study and run it: the engine behind ``lenet-search run``.

The study is created (or its settings checked) under the storage's study lock, before any
worker starts, so that processes started together never race to create it. Trials then run in
this process (one worker) or in spawned worker processes (``search.worker_pool``); either way
the workers coordinate only through the storage, so more processes, or machines with
PostgreSQL, can join a study at any time. The test split is evaluated here, once, at the end.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import check_distribution_compatibility

from search import interrupts, records
from search.artifacts import (
    ArtifactStore,
    claim_store,
    open_artifact_store,
    store_owner,
    store_taken,
)
from search.config import StudyConfig, config_record
from search.data import Dataset, data_fingerprint, pixel_stats
from search.errors import ConfigError, StorageError
from search.evaluation import evaluate_best_on_test
from search.precision import choose_precision
from search.progress import Progress
from search.pruning import make_pruner
from search.records import TestEvaluation
from search.recovery import recover_stale_trials
from search.runtime import start_tensorflow
from search.sampler import TrialSeededTPESampler
from search.space import distributions, largest
from search.storage import open_storage, study_lock
from search.study_note import write_note
from search.trials import count_done, tally
from search.worker import RunLimits, run_trials
from search.worker_pool import plan_workers, run_worker_pool


@dataclass(frozen=True)
class RunResult:
    study: optuna.Study
    interrupted: bool
    wall_seconds: float
    test: TestEvaluation | None
    workers: int  # processes that ran trials (0 when none were missing)
    precision: str | None  # the dtype policy trials trained in (None when none ran)


def run_study(
    config: StudyConfig,
    dataset: Dataset,
    *,
    progress: Progress | None = None,
    allow_changes: bool = False,
) -> RunResult:
    """Create or resume the study, run trials until it has ``n_trials`` done, evaluate the best.

    Ctrl-C or SIGTERM stops every worker (see ``search.interrupts``); the trials they were
    running are recorded as FAIL, finished ones are kept and the best is still evaluated (a
    second Ctrl-C skips that); ``RunResult.interrupted`` then says so.

    Raises:
        ConfigError: the study exists with other data, training or search-space settings and
            ``allow_changes`` is false.
        StorageError: the storage cannot be opened or is not an Optuna database.
    """
    progress = progress or Progress()
    with interrupts.caught():
        started = time.perf_counter()
        store = open_artifact_store(config.study.artifacts, create=True)
        _check_artifact_owner(config, store)
        study = create_or_resume_study(config, dataset, store, allow_changes)
        workers, precision = _run_trials(study, config, dataset, store, progress)
        test = None
        if interrupts.received() < 2:  # a second Ctrl-C skips the test split, not the summary
            start_tensorflow()
            test = evaluate_best_on_test(study, dataset, store)
        wall = time.perf_counter() - started
        return RunResult(study, interrupts.received() > 0, wall, test, workers, precision)


def join_study(
    config: StudyConfig,
    dataset: Dataset,
    *,
    progress: Progress | None = None,
    allow_changes: bool = False,
) -> RunResult:
    """Run trials of a study that exists (`lenet-search worker`), with its recorded settings.

    Unlike ``run_study`` it neither creates the study nor evaluates the test split: the `run`
    that made the study does that, once, when it next runs.

    Raises:
        ConfigError: the data differs from the study's and ``allow_changes`` is false.
        StorageError: the storage or the artifact folder cannot be opened.
    """
    progress = progress or Progress()
    with interrupts.caught():
        started = time.perf_counter()
        store = open_artifact_store(config.study.artifacts, create=False)
        with study_lock(config.study.storage):
            storage = open_storage(
                config.study.storage, create=False, writer=True, heartbeat=heartbeat_of(config)
            )
            study = load_study_for_trials(config, storage)
            _record_or_check_settings(study, config, dataset, allow_changes)
            claim_store(store, config.study.artifacts, config.study.name, _uid(study))
        workers, precision = _run_trials(study, config, dataset, store, progress)
        wall = time.perf_counter() - started
        return RunResult(study, interrupts.received() > 0, wall, None, workers, precision)


def _run_trials(
    study: optuna.Study,
    config: StudyConfig,
    dataset: Dataset,
    store: ArtifactStore,
    progress: Progress,
) -> tuple[int, str | None]:
    """Run the trials the study lacks, here or in worker processes; (workers, precision)."""
    recover_stale_trials(study, config.study.storage)
    trials_left = config.study.n_trials - count_done(study)
    if trials_left <= 0:
        return 0, None
    plan = plan_workers(config.run.workers, trials_left)
    choice = choose_precision(config.training.precision)
    progress.run_started(
        tally(study),
        plan.count,
        [
            f"workers: {plan.count} ({plan.reason}), {plan.threads} TensorFlow thread(s) each",
            f"precision: {choice.policy} ({choice.reason})",
        ],
    )
    timeout = config.study.timeout
    deadline = time.time() + timeout if timeout is not None else None
    if plan.count > 1:
        run_worker_pool(
            study,
            config,
            plan,
            precision=choice.policy,
            trials_left=trials_left,
            deadline=deadline,
            progress=progress,
        )
        return plan.count, choice.policy
    start_tensorflow()
    from search.objective import Objective, TrainingDiverged

    objective = Objective(config, dataset, store, progress, choice.policy)
    limits = RunLimits(config.study.n_trials, _Budget(trials_left), deadline)
    try:
        run_trials(study, objective, limits, progress, config.study.storage, (TrainingDiverged,))
    except KeyboardInterrupt:
        pass  # recorded: interrupts.received() says so
    return 1, choice.policy


@dataclass
class _Budget:
    """Trials this run may still start (a multiprocessing.Value in the worker pool)."""

    value: int


def create_or_resume_study(
    config: StudyConfig, dataset: Dataset, store: ArtifactStore, allow_changes: bool = False
) -> optuna.Study:
    """Create the study, or open it and check that its settings are the file's; the study
    claims its artifact ``store``.

    Done under the study lock, so that processes started at the same moment on a new database
    create it once.
    """
    with study_lock(config.study.storage):
        storage = open_storage(config.study.storage, create=True, heartbeat=heartbeat_of(config))
        sampler, pruner = _sampler_and_pruner(config)
        study = optuna.create_study(
            study_name=config.study.name,
            storage=storage,
            direction="maximize",
            sampler=sampler,
            pruner=pruner,
            load_if_exists=True,
        )
        _record_or_check_settings(study, config, dataset, allow_changes)
        claim_store(store, config.study.artifacts, config.study.name, _uid(study))
    return study


def _uid(study: optuna.Study) -> str:
    """The study's own identity, given on first use; it claims the study's artifact folder."""
    if records.UID not in study.user_attrs:
        study.set_user_attr(records.UID, uuid.uuid4().hex)
    return study.user_attrs[records.UID]


def _check_artifact_owner(config: StudyConfig, store: ArtifactStore) -> None:
    """Refuse, before the database is touched, an artifact store another study claimed."""
    owner = store_owner(store)
    if owner is None:
        return
    uid = None
    try:
        storage = open_storage(config.study.storage, create=False)
        uid = optuna.load_study(study_name=config.study.name, storage=storage).user_attrs.get(
            "uid"
        )
    except (StorageError, KeyError):
        pass  # no database, or no such study in it yet: this would be a new study
    if owner.get("uid") != uid:
        raise StorageError(store_taken(config.study.artifacts, owner, config.study.name))


def heartbeat_of(config: StudyConfig) -> tuple[int, int]:
    return config.study.heartbeat_interval, config.study.grace_period


def load_study_for_trials(
    config: StudyConfig, storage: optuna.storages.BaseStorage
) -> optuna.Study:
    """The existing study, with the sampler and pruner its trials need."""
    sampler, pruner = _sampler_and_pruner(config)
    return optuna.load_study(
        study_name=config.study.name, storage=storage, sampler=sampler, pruner=pruner
    )


def _sampler_and_pruner(
    config: StudyConfig,
) -> tuple[optuna.samplers.BaseSampler, optuna.pruners.BasePruner]:
    sampler = TrialSeededTPESampler(config.study.seed, config.sampler.n_startup_trials)
    return sampler, make_pruner(config.pruner, _max_epochs(config))


def _max_epochs(config: StudyConfig) -> int:
    return int(largest(config.search_space["epochs"]))


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
    data = dataset_record(dataset, config)
    stored = study.user_attrs.get(records.SETTINGS)
    if stored is None:
        _record(study, config, data)
        return
    differences = settings_differences(stored, config.file_settings)
    data_changes = data_differences(study.user_attrs.get(records.DATA, {}), data)
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
    changes = study.user_attrs.get(records.SETTINGS_CHANGES, [])
    study.set_user_attr(records.SETTINGS_CHANGES, [*changes, differences + data_changes])
    _record(study, config, data)


def _record(study: optuna.Study, config: StudyConfig, data: dict[str, Any]) -> None:
    """What the study is made with: for resumes, `worker`, export and the dashboard."""
    study.set_user_attr(records.SETTINGS, config.file_settings)
    study.set_user_attr(records.CONFIG, config_record(config))
    study.set_user_attr(records.ARTIFACT_DIR, str(config.study.artifacts))
    study.set_user_attr(records.DATA, data)
    write_note(study, config, data)


def data_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """How the data changed, from two ``dataset_record``s; empty when it is the same.

    Studies recorded before data fingerprints existed have nothing to compare with.
    """
    old_print, new_print = old.get("fingerprint"), new["fingerprint"]
    if old_print is None or old_print["digest"] == new_print["digest"]:
        return []
    old_files, new_files = old_print["files"], new_print["files"]
    changes = []
    for what, names in (
        ("added", new_files.keys() - old_files.keys()),
        ("removed", old_files.keys() - new_files.keys()),
        (
            "changed",
            {n for n in old_files.keys() & new_files.keys() if old_files[n] != new_files[n]},
        ),
    ):
        if names:
            shown = ", ".join(sorted(names)[:3]) + (", ..." if len(names) > 3 else "")
            changes.append(f"{len(names)} file{'s' if len(names) > 1 else ''} {what} ({shown})")
    for split, size in new["sizes"].items():
        before = old.get("sizes", {}).get(split)
        if before != size:
            changes.append(f"{split} split {before} -> {size} images")
    return changes or ["the same files give other splits"]


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


def dataset_record(dataset: Dataset, config: StudyConfig) -> dict[str, Any]:
    """What an export needs to know of the data without loading it, and its fingerprint."""
    data = config.data
    return {
        "dataset": dataset.name,
        "class_names": list(dataset.class_names),
        "input_shape": list(dataset.input_shape),
        "color_mode": "rgb" if dataset.input_shape[2] == 3 else "grayscale",
        "split_seed": data.split_seed,
        "validation_split": data.validation_split,
        "train_samples": data.train_samples,
        "sizes": {
            "train": len(dataset.y_train),
            "validation": len(dataset.y_val),
            "test": len(dataset.y_test),
        },
        "fingerprint": data_fingerprint(dataset),
        "pixel_stats": pixel_stats(dataset),  # for `predict`; not compared on resume
    }


def require_same_data(
    study: optuna.Study, dataset: Dataset, config: StudyConfig, consequence: str
) -> None:
    """Refuse data unlike the data the study was made with; ``consequence`` says what for.

    Raises:
        ConfigError: the data changed since the study was made.
    """
    changes = data_differences(
        study.user_attrs.get(records.DATA, {}), dataset_record(dataset, config)
    )
    if changes:
        raise ConfigError(
            f'the data of study "{study.study_name}" changed since the study was made: '
            f"{'; '.join(changes)}; {consequence}"
        )


def settings_differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable differences between two nested settings tables, as dotted keys."""
    flat_old, flat_new = _flatten(old), _flatten(new)
    lines = []
    for key in sorted(flat_old.keys() | flat_new.keys()):
        before, after = flat_old.get(key, "(unset)"), flat_new.get(key, "(unset)")
        if before != after:
            lines.append(f"{key} {before} -> {after}")
    return lines


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat
