"""Create or resume a study and run it: the engine behind ``lenet-search run``.

Workers coordinate only through the storage: each process loads the data once, opens the same
study and runs trials until the study has ``n_trials`` finished ones, so more processes (or
machines, with PostgreSQL) can join a study at any time.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import optuna
from optuna.distributions import check_distribution_compatibility

from search.artifacts import open_artifact_store
from search.config import StudyConfig
from search.data import Dataset
from search.errors import ConfigError
from search.evaluation import TestEvaluation, evaluate_best_on_test
from search.objective import Objective, TrainingDiverged
from search.progress import Progress
from search.pruning import make_pruner
from search.sampler import TrialSeededTPESampler
from search.space import distributions, largest
from search.storage import open_storage
from search.trials import DONE_STATES, count_done


@dataclass(frozen=True)
class RunResult:
    study: optuna.Study
    interrupted: bool
    wall_seconds: float
    test: TestEvaluation | None


def run_study(
    config: StudyConfig,
    dataset: Dataset,
    *,
    progress: Progress | None = None,
    allow_changes: bool = False,
) -> RunResult:
    """Create or resume the study, run trials until it has ``n_trials`` done, evaluate the best.

    Ctrl-C stops the trial in progress (recorded as FAIL), keeps every finished one and still
    evaluates the best; ``RunResult.interrupted`` then says so.

    Raises:
        ConfigError: the study exists with other data, training or search-space settings and
            ``allow_changes`` is false.
        StorageError: the storage cannot be opened or is not an Optuna database.
    """
    progress = progress or Progress()
    started = time.perf_counter()
    store = open_artifact_store(config.study.artifacts, create=True)
    storage = open_storage(config.study.storage, create=True)
    study = optuna.create_study(
        study_name=config.study.name,
        storage=storage,
        direction="maximize",
        sampler=TrialSeededTPESampler(config.study.seed, config.sampler.n_startup_trials),
        pruner=make_pruner(config.pruner, _max_epochs(config)),
        load_if_exists=True,
    )
    _record_or_check_settings(study, config, dataset, allow_changes)

    remaining = config.study.n_trials - count_done(study)
    interrupted = False
    if remaining > 0:
        try:
            study.optimize(
                Objective(config, dataset, store, progress),
                n_trials=remaining,
                timeout=config.study.timeout,
                catch=(TrainingDiverged,),
                callbacks=[
                    # Other workers add trials too: stop once the study as a whole is done.
                    optuna.study.MaxTrialsCallback(config.study.n_trials, states=DONE_STATES),
                    progress.trial_ended,
                ],
            )
        except KeyboardInterrupt:
            interrupted = True
    try:
        test = evaluate_best_on_test(study, dataset, store)
    except KeyboardInterrupt:  # a second Ctrl-C: skip the test split, still summarise
        interrupted, test = True, None
    return RunResult(study, interrupted, time.perf_counter() - started, test)


def _max_epochs(config: StudyConfig) -> int:
    return int(largest(config.search_space["epochs"]))


def _record_or_check_settings(
    study: optuna.Study, config: StudyConfig, dataset: Dataset, allow_changes: bool
) -> None:
    """Store what the study was made with, or refuse a resume whose settings differ."""
    stored = study.user_attrs.get("settings")
    if stored is None:
        study.set_user_attr("settings", config.fingerprint)
        study.set_user_attr("artifact_dir", str(config.study.artifacts))
        study.set_user_attr("data", dataset_record(dataset, config))
        return
    differences = settings_differences(stored, config.fingerprint)
    if not differences:
        return
    if not allow_changes:
        raise ConfigError(
            f'study "{config.study.name}" was made with other settings than {config.path} has '
            f"now: {'; '.join(differences)}. Pass --allow-changes to go on with the new "
            "settings, or give the study another [study] name"
        )
    _check_compatible(study, config)
    changes = study.user_attrs.get("settings_changes", [])
    study.set_user_attr("settings_changes", [*changes, differences])
    study.set_user_attr("settings", config.fingerprint)
    study.set_user_attr("data", dataset_record(dataset, config))


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
    """What an export needs to know of the data without loading it."""
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
    }


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
