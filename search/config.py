"""Study files: read a TOML file into one validated, frozen ``StudyConfig``.

Every key is checked here, before any data is loaded or any database is touched: an unknown key,
a wrong type or an empty range is a ``ConfigError`` naming the file, the key and the value.
Precedence is "CLI flag > study file > default", resolved once in ``load_config``.
"""

from __future__ import annotations

import dataclasses
import json
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from models.architecture import min_input_size
from search.artifact_location import ArtifactLocation, parse_artifact_location
from search.errors import ConfigError
from search.hyperparameters import HYPERPARAMETERS, Hyperparameter
from search.storage_url import resolve_storage_url

BUILTIN_DATASETS = ("mnist", "fashion_mnist")
PRUNER_KINDS = ("median", "successive_halving", "hyperband", "none")
COLOR_MODES = ("grayscale", "rgb")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
MAX_SEED = 2**32 - 1  # NumPy's and TPE's seeds are 32-bit


@dataclass(frozen=True)
class IntRange:
    low: int
    high: int
    log: bool = False


@dataclass(frozen=True)
class FloatRange:
    low: float
    high: float
    log: bool = False


@dataclass(frozen=True)
class Choices:
    choices: tuple[int | float, ...]


@dataclass(frozen=True)
class Fixed:
    value: int | float


Param = IntRange | FloatRange | Choices | Fixed

# The defaults of every setting are those of the dataclasses below; the parser reads them there.


@dataclass(frozen=True)
class StudySettings:
    name: str
    storage: str  # an SQLAlchemy URL; relative SQLite paths are already made absolute
    artifacts: ArtifactLocation  # where each complete trial's model file is kept
    n_trials: int = 10  # the study is done when this many trials are COMPLETE or PRUNED
    timeout: float | None = None  # seconds for one `run`, None for no limit
    seed: int = 0  # seeds the sampler and, with the trial number, each trial's Keras seed
    # A worker records a heartbeat this often; a RUNNING trial whose last one is older than the
    # grace period is failed (and retried once) by any other worker of the study.
    heartbeat_interval: int = 60
    grace_period: int = 180


@dataclass(frozen=True)
class DataSettings:
    dataset: str  # "mnist", "fashion_mnist" or "images" (then image_dir is set)
    image_dir: Path | None = None
    data_dir: Path | None = None
    train_samples: int | None = None
    validation_split: float = 0.1
    split_seed: int = 0
    image_size: int = 28
    color_mode: str = "grayscale"
    test_dir: Path | None = None
    test_split: float = 0.2


@dataclass(frozen=True)
class TrainingSettings:
    # "auto": mixed_bfloat16 where the CPU has native bfloat16 and it measures faster.
    precision: str = "auto"


@dataclass(frozen=True)
class RunSettings:
    workers: int | None = None  # processes that run trials side by side; None: "auto"
    # A worker process is replaced by a fresh one after this many trials: TensorFlow keeps
    # about 10 MB of every trial's model in a long-lived process (benchmarks/memory.py).
    trials_per_worker: int = 20
    # Each COMPLETE trial draws its learning curves and validation confusion matrix for the
    # dashboard: 0.3-0.5 s a trial, a few percent of trials shorter than ~15 s.
    trial_pictures: bool = True


@dataclass(frozen=True)
class SamplerSettings:
    n_startup_trials: int = 5  # random trials before TPE models the results


@dataclass(frozen=True)
class PrunerSettings:
    kind: str = "median"
    n_startup_trials: int = 3
    n_warmup_steps: int = 1
    min_resource: int = 1
    reduction_factor: int = 3

    def used(self) -> dict[str, Any]:
        """The settings this kind of pruner takes, kind first."""
        return {key: getattr(self, key) for key in PRUNER_KEYS[self.kind]}


# The keys of [pruner] that each kind takes; a study file that sets another is refused.
PRUNER_KEYS = {
    "median": ("kind", "n_startup_trials", "n_warmup_steps"),
    "successive_halving": ("kind", "min_resource", "reduction_factor"),
    "hyperband": ("kind", "min_resource", "reduction_factor"),
    "none": ("kind",),
}


@dataclass(frozen=True)
class StudyConfig:
    path: Path | None  # the study file; None for a config read back from a study (`worker`)
    study: StudySettings
    data: DataSettings
    training: TrainingSettings
    run: RunSettings
    sampler: SamplerSettings
    pruner: PrunerSettings
    # Every searchable name, each a range, a list of choices or a fixed value.
    search_space: dict[str, Param] = field(default_factory=dict)
    # The settings as written in the file: what a resumed study must not silently change.
    file_settings: dict[str, Any] = field(default_factory=dict)


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

    root = _Table(raw, path, None)
    sections = {name: root.table(name, defaults) for name, defaults in _SECTIONS.items()}
    root.reject_unknown()
    base_dir = path.resolve().parent

    study = _study_settings(sections["study"], base_dir, path)
    data = _data_settings(sections["data"], base_dir)
    search_space = _search_space(sections["search_space"], sections["training"])
    training = _training_settings(sections["training"])
    run = _run_settings(sections["run"], workers)
    sampler = _sampler_settings(sections["sampler"])
    pruner = _pruner_settings(sections["pruner"])

    if n_trials is not None and n_trials < 1:
        raise ConfigError(f"--n-trials must be a positive integer, got {n_trials}")
    if timeout is not None and not 0 < timeout < math.inf:
        raise ConfigError(f"--timeout must be a positive number of seconds, got {timeout}")
    if seed is not None and not 0 <= seed <= MAX_SEED:
        raise ConfigError(f"--seed must be an integer from 0 to {MAX_SEED}, got {seed}")
    study = dataclasses.replace(
        study,
        n_trials=study.n_trials if n_trials is None else n_trials,
        timeout=study.timeout if timeout is None else timeout,
        seed=study.seed if seed is None else seed,
    )

    file_settings = {name: sections[name].raw for name in ("data", "training", "search_space")}
    return StudyConfig(
        path, study, data, training, run, sampler, pruner, search_space, _json_safe(file_settings)
    )


def config_record(config: StudyConfig) -> dict[str, Any]:
    """The resolved config as JSON values, stored on the study so that `worker` needs no file."""
    record: dict[str, Any] = {
        name: dataclasses.asdict(getattr(config, name))
        for name in ("study", "data", "training", "run", "sampler", "pruner")
    }
    for name in ("name", "storage"):  # a worker names them itself: they locate the record
        del record["study"][name]
    record["search_space"] = {
        name: {"kind": type(param).__name__, **dataclasses.asdict(param)}
        for name, param in config.search_space.items()
    }
    record["file_settings"] = config.file_settings
    return _json_safe(record)


def config_from_record(
    record: dict[str, Any],
    *,
    name: str,
    storage: str,
    artifacts: ArtifactLocation | None = None,
    n_trials: int | None = None,
    workers: int | str | None = None,
) -> StudyConfig:
    """The StudyConfig that ``config_record`` stored; the keyword arguments override it.

    Raises:
        ConfigError: the record is not one this version of lenet-search wrote.
    """
    try:
        study = dict(record["study"], name=name, storage=storage)
        study["artifacts"] = artifacts or parse_artifact_location(study["artifacts"], Path("/"))
        data = {
            key: Path(value) if key in _PATH_KEYS and value is not None else value
            for key, value in record["data"].items()
        }
        kinds = {kind.__name__: kind for kind in (IntRange, FloatRange, Choices, Fixed)}
        space = {
            key: kinds[spec.pop("kind")](
                **{k: tuple(v) if k == "choices" else v for k, v in spec.items()}
            )
            for key, spec in ((k, dict(v)) for k, v in record["search_space"].items())
        }
        config = StudyConfig(
            path=None,
            study=StudySettings(**study),
            data=DataSettings(**data),
            training=TrainingSettings(**record["training"]),
            run=RunSettings(**record["run"]),
            sampler=SamplerSettings(**record["sampler"]),
            pruner=PrunerSettings(**record["pruner"]),
            search_space=space,
            file_settings=record["file_settings"],
        )
    except (KeyError, TypeError) as e:
        raise ConfigError(
            f'study "{name}" has no settings this version of lenet-search can read ({e!r}); '
            "run it with its study file instead"
        ) from None
    except ValueError as e:  # its artifact store needs a package this machine lacks
        raise ConfigError(f'study "{name}": its artifact store {e}') from None
    if n_trials is not None and n_trials < 1:
        raise ConfigError(f"--n-trials must be a positive integer, got {n_trials}")
    return dataclasses.replace(
        config,
        study=dataclasses.replace(config.study, n_trials=n_trials or config.study.n_trials),
        run=(
            dataclasses.replace(config.run, workers=_workers_flag(workers))
            if workers is not None
            else config.run
        ),
    )


_PATH_KEYS = ("image_dir", "data_dir", "test_dir")

# Each section, with the dataclass whose field defaults are its keys' defaults.
_SECTIONS: dict[str, type | None] = {
    "study": StudySettings,
    "data": DataSettings,
    "training": TrainingSettings,
    "run": RunSettings,
    "sampler": SamplerSettings,
    "pruner": PrunerSettings,
    "search_space": None,
}


class _Table:
    """One TOML table being read: typed getters that name the file and key in every error.

    A key the file leaves out takes the default of the same-named field of ``defaults``.
    """

    def __init__(
        self, raw: Any, path: Path, name: str | None, defaults: type | None = None
    ) -> None:
        self.path, self.name, self.defaults = path, name, defaults
        if not isinstance(raw, dict):
            raise ConfigError(f"{path}: [{name}] must be a table, got {_show(raw)}")
        self.raw: dict[str, Any] = raw
        self._seen: set[str] = set()

    def where(self, key: str) -> str:
        return f"{self.path}: [{self.name}] {key}" if self.name else f"{self.path}: [{key}]"

    def table(self, key: str, defaults: type | None = None) -> _Table:
        self._seen.add(key)
        return _Table(self.raw.get(key, {}), self.path, key, defaults)

    def default(self, key: str) -> Any:
        fields = self.defaults.__dataclass_fields__ if self.defaults else {}
        return fields[key].default if key in fields else None

    def take(self, key: str) -> Any:
        """The raw value of ``key``, for values of more than one shape."""
        self._seen.add(key)
        return self.raw[key]

    def has(self, key: str) -> bool:
        return key in self.raw

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        self._seen.add(key)
        if key not in self.raw:
            return self.default(key) if default is None else default
        value = self.raw[key]
        ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value, ok = float(value), True
        if not ok:
            raise ConfigError(f"{self.where(key)} must be {_TYPE_NAMES[kind]}, got {_show(value)}")
        return value

    def positive_int(self, key: str, default: Any = None) -> Any:
        value = self.get(key, int, default)
        if value is not None and value < 1:
            raise ConfigError(f"{self.where(key)} must be a positive integer, got {value}")
        return value

    def non_negative_int(self, key: str) -> int:
        value = self.get(key, int)
        if value < 0:
            raise ConfigError(f"{self.where(key)} must be a non-negative integer, got {value}")
        return value

    def fraction(self, key: str) -> float:
        value = self.get(key, float)
        if not 0 < value < 1:
            raise ConfigError(
                f"{self.where(key)} must be between 0 and 1 (exclusive), got {value}"
            )
        return value

    def choice(self, key: str, valid: tuple[str, ...]) -> str:
        value = self.get(key, str)
        if value not in valid:
            options = ", ".join(f'"{v}"' for v in valid)
            raise ConfigError(f'{self.where(key)} = "{value}" is not one of {options}')
        return value

    def reject_unknown(self, valid: tuple[str, ...] | None = None) -> None:
        unknown = [key for key in self.raw if key not in self._seen]
        if unknown:
            kind = "key" if self.name else "section"
            allowed = ", ".join(valid if valid is not None else sorted(self._seen))
            raise ConfigError(f"{self.where(unknown[0])} is not a known {kind}; known: {allowed}")


_TYPE_NAMES = {
    int: "an integer",
    float: "a number",
    str: "a string",
    bool: "true or false",
    list: "a list",
    dict: "a table",
}


def _show(value: Any) -> str:
    """A value as it would look in TOML, so that the user recognises it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    return str(value)


def _study_settings(table: _Table, base_dir: Path, path: Path) -> StudySettings:
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
    table.reject_unknown()
    return StudySettings(
        name, storage, artifacts, n_trials, timeout, seed, heartbeat_interval, grace_period
    )


_IMAGE_FOLDER_KEYS = ("image_size", "color_mode", "test_dir", "test_split")


def _data_settings(table: _Table, base_dir: Path) -> DataSettings:
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


def _training_settings(table: _Table) -> TrainingSettings:
    """[training]'s settings; its fixed hyperparameters are read by _search_space."""
    settings = TrainingSettings(precision=table.choice("precision", PRECISIONS))
    fixable = tuple(hp.name for hp in HYPERPARAMETERS if hp.fixable_in_training)
    table.reject_unknown(("precision", *fixable))
    return settings


def _run_settings(table: _Table, workers_flag: int | str | None) -> RunSettings:
    workers = (
        _workers(table.take("workers"), table.where("workers")) if table.has("workers") else None
    )
    trials_per_worker = table.positive_int("trials_per_worker")
    trial_pictures = table.get("trial_pictures", bool)
    table.reject_unknown(("trials_per_worker", "workers", "trial_pictures"))
    if workers_flag is not None:
        workers = _workers_flag(workers_flag)
    return RunSettings(workers, trials_per_worker, trial_pictures)


def _workers_flag(text: int | str) -> int | None:
    try:
        text = int(text)  # the flag's text, as typed
    except ValueError:
        pass
    return _workers(text, "--workers")


def _workers(value: Any, where: str) -> int | None:
    """A number of worker processes, or None for "auto"."""
    if value == "auto":
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value >= 1:
        return value
    raise ConfigError(f'{where} must be a positive integer or "auto", got {_show(value)}')


def _sampler_settings(table: _Table) -> SamplerSettings:
    settings = SamplerSettings(n_startup_trials=table.non_negative_int("n_startup_trials"))
    table.reject_unknown()
    return settings


def _pruner_settings(table: _Table) -> PrunerSettings:
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
        n_warmup_steps=table.non_negative_int("n_warmup_steps"),
        min_resource=table.positive_int("min_resource"),
        reduction_factor=table.positive_int("reduction_factor"),
    )
    if settings.reduction_factor < 2:
        where, factor = table.where("reduction_factor"), settings.reduction_factor
        raise ConfigError(f"{where} must be at least 2, got {factor}")
    table.reject_unknown(valid_keys)
    return settings


def _search_space(table: _Table, training: _Table) -> dict[str, Param]:
    space: dict[str, Param] = {}
    for hp in HYPERPARAMETERS:
        in_training = hp.fixable_in_training and training.has(hp.name)
        if table.has(hp.name) and in_training:
            raise ConfigError(
                f"{table.where(hp.name)} is also set in [training]; keep it in one of the two"
            )
        if in_training:
            space[hp.name] = Fixed(_fixed(training, hp))
        elif table.has(hp.name):
            space[hp.name] = _param(table, hp)
        else:
            space[hp.name] = Fixed(hp.default)
    table.reject_unknown(tuple(hp.name for hp in HYPERPARAMETERS))
    return space


def _fixed(table: _Table, hp: Hyperparameter) -> int | float:
    value = table.take(hp.name)
    _check_value(table.where(hp.name), value, hp)
    return float(value) if hp.kind is float else value


def _param(table: _Table, hp: Hyperparameter) -> Param:
    raw = table.take(hp.name)
    where = table.where(hp.name)
    if not isinstance(raw, dict):
        return Fixed(_fixed(table, hp))
    spec = _Table(raw, table.path, f"search_space.{hp.name}")
    if "choices" in raw:
        choices = spec.get("choices", list)
        if not choices:
            raise ConfigError(f"{where}: choices must not be empty")
        for value in choices:
            _check_value(where, value, hp)
        spec.reject_unknown(("choices",))
        return Choices(tuple(choices))
    if "low" not in raw or "high" not in raw:
        raise ConfigError(
            f"{where} must be a number, {{ low = ..., high = ..., log = ... }} "
            f"or {{ choices = [...] }}, got {_show(raw)}"
        )
    low, high = spec.get("low", hp.kind), spec.get("high", hp.kind)
    log = spec.get("log", bool, False)
    spec.reject_unknown(("low", "high", "log"))
    _check_value(where, low, hp)
    _check_value(where, high, hp)
    if low > high:
        raise ConfigError(f"{where} is an empty range: low = {low} > high = {high}")
    if log and low <= 0:
        raise ConfigError(f"{where}: a log range needs low > 0, got low = {low}")
    return IntRange(low, high, log) if hp.kind is int else FloatRange(low, high, log)


def _check_value(where: str, value: Any, hp: Hyperparameter) -> None:
    is_number = isinstance(value, (int, float)) and not isinstance(value, bool)
    if hp.kind is int and not (isinstance(value, int) and not isinstance(value, bool)):
        raise ConfigError(f"{where} takes integers, got {_show(value)}")
    if not is_number or math.isnan(value) or not hp.bounds.accepts(value):
        raise ConfigError(f"{where} takes {hp.bounds.text}, got {_show(value)}")


def _json_safe(value: Any) -> Any:
    """The raw TOML tables as plain JSON values, so that they can be stored on the study."""
    return json.loads(json.dumps(value, sort_keys=True, default=str))
