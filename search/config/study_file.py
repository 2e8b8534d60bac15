"""Study files: read a TOML file into one validated, frozen ``StudyConfig``.

Every key is checked here, before any data is loaded or any database is touched: an unknown key,
a wrong type or an empty range is a ``ConfigError`` naming the file, the key and the value.
Precedence is "CLI flag > study file > default", resolved once in ``load_config``.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
from pathlib import Path
from typing import Any

from models.architecture import min_input_size
from search.config.reader import Table, json_safe, show
from search.config.search_space import check_flips, read_budget, read_search_space
from search.config.settings import (
    BUILTIN_DATASETS,
    COLOR_MODES,
    COMPARED_SECTIONS,
    MAX_SEED,
    PRECISIONS,
    PRUNER_KEYS,
    PRUNER_KINDS,
    SECTIONS,
    DataSettings,
    DistillSettings,
    EnsembleSettings,
    PrunerSettings,
    RunSettings,
    SamplerSettings,
    StudyConfig,
    StudySettings,
    TrainingSettings,
)
from search.errors import ConfigError
from search.space.hyperparameters import HYPERPARAMETERS
from search.storage.location import parse_artifact_location
from search.storage.url import resolve_storage_url


def load_config(
    path: str | Path,
    *,
    n_trials: int | None = None,
    timeout: float | None = None,
    seed: int | None = None,
    workers: int | str | None = None,
) -> StudyConfig:
    """Read and validate a study file; the keyword arguments override it (CLI flags).

    ``workers`` is a positive number or ``"auto"``.

    Raises:
        ConfigError: the file is missing, not TOML, or any key is invalid.
    """
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"study file not found: {path}") from None
    except IsADirectoryError:
        raise ConfigError(f"study file is a folder, not a TOML file: {path}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not a TOML study file (it is not UTF-8 text)") from None
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"{path} is not valid TOML: {e}") from None

    root = Table(raw, path, None)
    sections = {name: root.table(name, defaults) for name, defaults in SECTIONS.items()}
    root.reject_unknown()
    base_dir = path.resolve().parent

    study = _study_settings(sections["study"], base_dir, path)
    data = _data_settings(sections["data"], base_dir)
    budget = read_budget(sections["search_space"])  # its keys first: the space refuses the rest
    search_space = read_search_space(sections["search_space"], sections["training"])
    check_flips(sections["search_space"], search_space["flip"], data)
    training = _training_settings(sections["training"])
    run = _run_settings(sections["run"], workers)
    sampler = _sampler_settings(sections["sampler"])
    pruner = _pruner_settings(sections["pruner"])
    ensemble = _ensemble_settings(sections["ensemble"])
    distill = _distill_settings(sections["distill"])

    if n_trials is not None and n_trials < 1:
        raise ConfigError(f"--n-trials must be a positive integer, got {n_trials}")
    if timeout is not None and not 0 < timeout < math.inf:
        raise ConfigError(f"--timeout must be a positive number of seconds, got {timeout}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"--seed must be an integer from 0 to {MAX_SEED}, got {seed}")
    timeout = study.timeout if timeout is None else timeout
    if n_trials is None:
        # A timeout and no n_trials: the timeout is the budget, as in Optuna's optimize().
        spent_by_timeout = timeout is not None and not sections["study"].has("n_trials")
        n_trials = None if spent_by_timeout else study.n_trials
    study = dataclasses.replace(
        study, n_trials=n_trials, timeout=timeout, seed=study.seed if seed is None else seed
    )

    file_settings = {name: sections[name].raw for name in COMPARED_SECTIONS}
    return StudyConfig(
        path,
        study,
        data,
        training,
        run,
        sampler,
        pruner,
        ensemble,
        distill,
        search_space,
        json_safe(file_settings),
        budget,
    )


def _study_settings(
    table: Table, base_dir: Path, path: Path, follow_warm_start: bool = True
) -> StudySettings:
    name = table.get("name", str, path.stem)
    if not name.strip():
        raise ConfigError(f"{table.where('name')} must not be empty")
    storage = table.get("storage", str, f"sqlite:///{name}.db")
    try:
        storage = resolve_storage_url(storage, base_dir)
    except ValueError as e:
        raise ConfigError(f"{table.where('storage')}: {e}") from None
    try:
        artifacts = parse_artifact_location(
            table.get("artifacts", str, f"{name}_artifacts"), base_dir
        )
    except ValueError as e:
        raise ConfigError(f"{table.where('artifacts')}: {e}") from None
    n_trials = table.positive_int("n_trials")
    timeout = table.get("timeout", float)
    if timeout is not None and not 0 < timeout < math.inf:
        raise ConfigError(f"{table.where('timeout')} must be a positive number, got {timeout}")
    seed = table.non_negative_int("seed")
    if seed > MAX_SEED:
        raise ConfigError(f"{table.where('seed')} must be at most {MAX_SEED}, got {seed}")
    heartbeat_interval = table.positive_int("heartbeat_interval")
    grace_period = table.positive_int("grace_period")
    if grace_period <= heartbeat_interval:
        raise ConfigError(
            f"{table.where('grace_period')} must be longer than heartbeat_interval "
            f"({heartbeat_interval} s), got {grace_period}"
        )
    warm_start = table.optional("warm_start")
    if warm_start is not None and follow_warm_start:
        warm_start = _warm_start(warm_start, table.where("warm_start"), base_dir, path)
    else:
        warm_start = None  # an earlier study's own warm start is history
    warm_start_trials = table.positive_int("warm_start_trials")
    table.reject_unknown()
    return StudySettings(
        name,
        storage,
        artifacts,
        n_trials,
        timeout,
        seed,
        heartbeat_interval,
        grace_period,
        warm_start,
        warm_start_trials,
    )


def _warm_start(value: Any, where: str, base_dir: Path, path: Path) -> tuple[str, str]:
    """[study] warm_start: the earlier study, as (storage URL, study name). A study file names
    its study (its own warm_start is not followed)."""
    if isinstance(value, str):
        other = base_dir / value
        if other.resolve() == path.resolve():
            raise ConfigError(f"{where} names this study file itself; name an earlier study's")
        try:
            raw = tomllib.loads(other.read_text(encoding="utf-8"))
            section = Table(raw.get("study", {}), other, "study", StudySettings)
            study = _study_settings(section, other.resolve().parent, other, False)
        except FileNotFoundError:
            raise ConfigError(f"{where}: study file not found: {other}") from None
        except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, ConfigError) as e:
            raise ConfigError(f"{where}: {other}: {e}") from None
        return study.storage, study.name
    if isinstance(value, dict) and sorted(value) == ["storage", "study_name"]:
        if all(isinstance(v, str) and v for v in value.values()):
            try:
                return resolve_storage_url(value["storage"], base_dir), value["study_name"]
            except ValueError as e:
                raise ConfigError(f"{where}: {e}") from None
    raise ConfigError(
        f'{where} must be a study file ("quickstart.toml") or '
        f'{{ storage = "URL", study_name = "NAME" }}, got {show(value)}'
    )


_IMAGE_FOLDER_KEYS = ("image_size", "color_mode", "test_dir", "test_split")


def _data_settings(table: Table, base_dir: Path) -> DataSettings:
    if not table.has("dataset"):
        raise ConfigError(f"{table.where('dataset')} is missing: use " + _DATASET_HELP)
    dataset = table.get("dataset", str)
    data_dir = table.get("data_dir", str)
    settings = DataSettings(
        dataset=dataset,
        data_dir=base_dir / data_dir if data_dir is not None else None,
        train_samples=table.positive_int("train_samples"),
        validation_split=table.fraction("validation_split"),
        split_seed=table.non_negative_int("split_seed"),
        flips=table.get("flips", bool),
        folds=_key_int_or_auto(table, "folds", least=1),
    )
    if settings.flips and dataset == "mnist":
        raise ConfigError(
            f"{table.where('flips')} = true does not suit mnist: digits are not mirror images "
            "of themselves (a mirrored 2 is no digit); leave it false"
        )
    if dataset in BUILTIN_DATASETS:
        for key in _IMAGE_FOLDER_KEYS:
            if table.has(key):
                raise ConfigError(
                    f"{table.where(key)} applies only to image folders, not {dataset}"
                )
        table.reject_unknown()
        return settings

    image_dir = base_dir / dataset
    if not image_dir.is_dir():
        raise ConfigError(
            f'{table.where("dataset")} = "{dataset}" is not a known dataset nor an existing '
            f"folder ({image_dir}); use {_DATASET_HELP}"
        )
    if data_dir is not None:
        raise ConfigError(f"{table.where('data_dir')} applies only to mnist and fashion_mnist")
    image_size = table.positive_int("image_size")
    if image_size < min_input_size():
        raise ConfigError(
            f"{table.where('image_size')} must be at least {min_input_size()}, got {image_size}"
        )
    test_dir = table.get("test_dir", str)
    settings = dataclasses.replace(
        settings,
        dataset="images",
        image_dir=image_dir,
        image_size=image_size,
        color_mode=table.choice("color_mode", COLOR_MODES),
        test_dir=base_dir / test_dir if test_dir is not None else None,
        test_split=table.fraction("test_split"),
    )
    table.reject_unknown()
    return settings


_DATASET_HELP = '"mnist", "fashion_mnist" or the path of an image folder (one sub-folder a class)'


def _training_settings(table: Table) -> TrainingSettings:
    """[training]'s settings; its fixed hyperparameters are read by _search_space."""
    settings = TrainingSettings(precision=table.choice("precision", PRECISIONS))
    fixable = tuple(hp.name for hp in HYPERPARAMETERS if hp.fixable_in_training)
    table.reject_unknown(("precision", *fixable))
    return settings


def _run_settings(table: Table, flag: int | str | None) -> RunSettings:
    """[run]'s settings; ``flag`` is --workers, which overrides the file's (both are checked)."""
    workers = _key_int_or_auto(table, "workers", least=1)
    trials_per_worker = table.positive_int("trials_per_worker")
    trial_pictures = table.get("trial_pictures", bool)
    retry_seconds = table.positive_int("storage_retry_seconds")
    table.reject_unknown(
        ("trials_per_worker", "workers", "trial_pictures", "storage_retry_seconds")
    )
    if flag is not None:
        workers = workers_flag(flag)
    return RunSettings(workers, trials_per_worker, trial_pictures, retry_seconds)


def workers_flag(text: int | str) -> int | None:
    """The --workers flag: a positive number of processes, or None for "auto"."""
    try:
        text = int(text)  # the flag's text, as typed
    except ValueError:
        pass
    return _int_or_auto(text, "--workers", least=1)


def _key_int_or_auto(table: Table, key: str, least: int) -> int | None:
    """``key`` of ``table`` as ``_int_or_auto`` reads it; None ("auto") where it is not set."""
    return _int_or_auto(table.take(key), table.where(key), least) if table.has(key) else None


def _int_or_auto(value: Any, where: str, least: int) -> int | None:
    """An integer of at least ``least`` (0 or 1), or None for "auto"."""
    if value == "auto":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= least:
        return value
    kind = "a positive integer" if least == 1 else "a non-negative integer"
    raise ConfigError(f'{where} must be {kind} or "auto", got {show(value)}')


def _sampler_settings(table: Table) -> SamplerSettings:
    settings = SamplerSettings(n_startup_trials=table.non_negative_int("n_startup_trials"))
    table.reject_unknown()
    return settings


def _pruner_settings(table: Table) -> PrunerSettings:
    kind = table.choice("kind", PRUNER_KINDS)
    valid_keys = PRUNER_KEYS[kind]
    for key in table.raw:
        if key in PrunerSettings.__dataclass_fields__ and key not in valid_keys:
            raise ConfigError(
                f'{table.where(key)} does not apply to kind = "{kind}"; '
                f"its keys: {', '.join(valid_keys)}"
            )
    settings = PrunerSettings(
        kind=kind,
        n_startup_trials=table.non_negative_int("n_startup_trials"),
        n_warmup_steps=_key_int_or_auto(table, "n_warmup_steps", least=0),
        noise_margin=table.get("noise_margin", float),
        min_resource=table.positive_int("min_resource"),
        reduction_factor=table.positive_int("reduction_factor"),
    )
    if settings.noise_margin < 0:
        where, margin = table.where("noise_margin"), settings.noise_margin
        raise ConfigError(f"{where} must be 0 or more (0 prunes on any gap), got {margin:g}")
    if settings.reduction_factor < 2:
        where, factor = table.where("reduction_factor"), settings.reduction_factor
        raise ConfigError(f"{where} must be at least 2, got {factor}")
    table.reject_unknown(valid_keys)
    return settings


def _ensemble_settings(table: Table) -> EnsembleSettings:
    size = table.non_negative_int("size")
    if size == 1:
        raise ConfigError(
            f"{table.where('size')} must be 0 (no ensemble) or at least 2 trials, got 1 (the "
            "best trial alone is the single best model)"
        )
    table.reject_unknown()
    return EnsembleSettings(size)


def _distill_settings(table: Table) -> DistillSettings:
    temperature = table.get("temperature", float)
    if not 1 <= temperature < math.inf:
        raise ConfigError(
            f"{table.where('temperature')} must be a number of at least 1, got {temperature}"
        )
    soft_weight = table.get("soft_weight", float)
    if not 0 <= soft_weight <= 1:
        raise ConfigError(
            f"{table.where('soft_weight')} must be a number from 0 to 1, got {soft_weight}"
        )
    settings = DistillSettings(
        enabled=table.get("enabled", bool),
        epochs=table.positive_int("epochs"),
        temperature=temperature,
        soft_weight=soft_weight,
    )
    table.reject_unknown()
    return settings
