"""The settings of a study, each section of a study file a frozen dataclass.

The defaults of every setting are those of the dataclasses below; the study-file reader takes
them from here, so each default is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from search.space.ranges import Param
from search.storage.location import ArtifactLocation
from search.storage.retry import RETRY_SECONDS

BUILTIN_DATASETS = ("mnist", "fashion_mnist")
PRUNER_KINDS = ("median", "successive_halving", "hyperband", "none")
COLOR_MODES = ("grayscale", "rgb")
PRECISIONS = ("auto", "float32", "mixed_bfloat16")
MAX_SEED = 2**32 - 1  # NumPy's and TPE's seeds are 32-bit


@dataclass(frozen=True)
class StudySettings:
    name: str
    storage: str  # an SQLAlchemy URL; relative SQLite paths are already made absolute
    artifacts: ArtifactLocation  # where each complete trial's model file is kept
    # The study is done when this many trials are COMPLETE or PRUNED. None: it runs until the
    # timeout (a study file that sets a timeout and no n_trials; 10 when it sets neither).
    n_trials: int | None = 10
    timeout: float | None = None  # seconds for one `run`, None for no limit
    seed: int = 0  # seeds the sampler and, with the trial number, each trial's Keras seed
    # A worker records a heartbeat this often; a RUNNING trial whose last one is older than the
    # grace period is failed (and retried once) by any other worker of the study.
    heartbeat_interval: int = 60
    grace_period: int = 180
    # A new study's first trials: the best of an earlier study, as (storage URL, study name).
    warm_start: tuple[str, str] | None = None
    warm_start_trials: int = 5  # how many of its best configurations

    @property
    def heartbeat(self) -> tuple[int, int]:
        """(interval, grace period) in seconds, as ``storage.database.open_storage`` takes it."""
        return self.heartbeat_interval, self.grace_period


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
    # A left-right mirrored image keeps its class, so [search_space] flip may mirror training
    # images; off unless the study says so (never for mnist: digits are not mirror images).
    flips: bool = False
    # Cross-validation folds of the training split that judge each trial; None ("auto"):
    # data.folds.AUTO_FOLDS where the validation split is thin, else 1 (none).
    folds: int | None = None


PATH_KEYS = ("image_dir", "data_dir", "test_dir")  # the DataSettings that are paths


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
    # How long a worker waits for its study database or S3 store when it cannot reach them (a
    # restart, a failover) before it gives up with one line; training goes on meanwhile.
    storage_retry_seconds: int = RETRY_SECONDS


@dataclass(frozen=True)
class SamplerSettings:
    n_startup_trials: int = 5  # random trials before TPE models the results


@dataclass(frozen=True)
class PrunerSettings:
    kind: str = "median"
    n_startup_trials: int = 3
    # None ("auto"): the epochs a trial takes to train on pruning.WARMUP_IMAGES images: 1 on
    # Fashion-MNIST, more on a small folder, whose first epochs are a few dozen steps.
    n_warmup_steps: int | None = None
    # Standard deviations of the validation split's noise (pruning.noise_gap) a trial must
    # fall below the median by to be pruned: 1.645, the one-sided 95% bound; 0 prunes on any
    # gap, as Optuna's MedianPruner does.
    noise_margin: float = 1.645
    min_resource: int = 1
    reduction_factor: int = 3

    def used(self) -> dict[str, Any]:
        """The settings this kind of pruner takes, kind first, as a study file writes them."""
        return {
            key: "auto" if getattr(self, key) is None else getattr(self, key)
            for key in PRUNER_KEYS[self.kind]
        }


@dataclass(frozen=True)
class SizeBudget:
    """[search_space] max_params and max_mflops: a configuration over either is never trained."""

    max_params: int | None = None  # as Keras counts them (models.count_params)
    max_mflops: float | None = None  # millions of floating-point operations per image, forward

    def overruns(self, param_count: int, flops: int) -> dict[str, float]:
        """A network's size over each limit, as a fraction of it (within at 0 or below): the
        trial's constraints for TPE (``Trial.set_constraint``); none without a budget."""
        overruns = {}
        if self.max_params is not None:
            overruns["max_params"] = param_count / self.max_params - 1
        if self.max_mflops is not None:
            overruns["max_mflops"] = flops / 1e6 / self.max_mflops - 1
        return overruns

    def excess(self, param_count: int, flops: int) -> str | None:
        """Why a network of this size is over the budget; None when it is within it."""
        overruns = self.overruns(param_count, flops)
        if overruns.get("max_params", 0) > 0:
            return f"{param_count:,} parameters, over max_params = {self.max_params:,}"
        if overruns.get("max_mflops", 0) > 0:
            return f"{flops / 1e6:.3g} MFLOPs, over max_mflops = {self.max_mflops:g}"
        return None


BUDGET_KEYS = ("max_params", "max_mflops")  # in [search_space], beside the hyperparameters


@dataclass(frozen=True)
class EnsembleSettings:
    # Of the `size` COMPLETE trials best by validation accuracy, the mean of the class
    # probabilities of the first k, k chosen on validation (engine.ensemble), evaluated once
    # on the test split at the end of `run`; 0 turns it off.
    size: int = 5


@dataclass(frozen=True)
class DistillSettings:
    # At the end of `run`, when the study has an ensemble: one student LeNet (the best trial's
    # network) trained on the ensemble's class probabilities as soft targets (engine.distill).
    enabled: bool = True
    epochs: int | None = None  # None: as many as the best trial's
    # The teacher's probabilities raised to 1 / temperature and renormalized, and the share of
    # the loss on them (the rest on the labels): values in the range Hinton et al. used. On two
    # Fashion-MNIST studies, temperature 1 to 4 and weight 0.5 to 0.9 were all within the noise
    # of these (benchmarks/distill.py, the README's table).
    temperature: float = 2.0
    soft_weight: float = 0.7


# The keys of [pruner] that each kind takes; a study file that sets another is refused.
PRUNER_KEYS = {
    "median": ("kind", "n_startup_trials", "n_warmup_steps", "noise_margin"),
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
    ensemble: EnsembleSettings
    distill: DistillSettings
    # Every searchable name, each a range, a list of choices or a fixed value.
    search_space: dict[str, Param] = field(default_factory=dict)
    # The settings as written in the file: what a resumed study must not silently change.
    file_settings: dict[str, Any] = field(default_factory=dict)
    budget: SizeBudget = field(default_factory=SizeBudget)


# Each section of a study file, with the dataclass whose field defaults are its keys' defaults.
SECTIONS: dict[str, type | None] = {
    "study": StudySettings,
    "data": DataSettings,
    "training": TrainingSettings,
    "run": RunSettings,
    "sampler": SamplerSettings,
    "pruner": PrunerSettings,
    "ensemble": EnsembleSettings,
    "distill": DistillSettings,
    "search_space": None,
}
# The sections a resumed study must not change without --allow-changes.
COMPARED_SECTIONS = ("data", "training", "search_space")
