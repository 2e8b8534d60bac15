"""What a study records, in one place: every user-attribute key, and typed records to read them.

Optuna keeps free-form user attributes on studies and trials. lenet-search writes the keys below
and nobody else spells them (optuna-dashboard keeps its own keys in ``_system_attrs.py`` the same
way), so the run, ``trials``, ``best``, ``export``, the report and the dashboard read one thing
one way.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import optuna

from search.errors import StorageError
from search.storage.location import ArtifactLocation, parse_artifact_location
from search.storage.optuna_internals import set_study_system_attr, study_system_attrs

# --- trial attributes -------------------------------------------------------------------------
HYPERPARAMETERS = "hyperparameters"  # every value the trial trained with, sampled or fixed
PARAM_COUNT = "param_count"
FLOPS = "flops"  # forward FLOPs per image
KERAS_SEED = "keras_seed"
PRECISION = "precision"  # the Keras dtype policy it trained in: "float32" or "mixed_bfloat16"
EPOCHS_RUN = "epochs_run"  # epochs trained so far; a pruned trial's last epoch
BEST_EPOCH = "best_epoch"  # the epoch whose weights were kept (1 for the first)
VAL_LOSS = "val_loss"  # at the best epoch
FOLD_ACCURACIES = "fold_accuracies"  # with [data] folds: each fold's at the best epoch
TRAIN_SECONDS = "train_seconds"
VALIDATION_SECONDS = "validation_seconds"
SAVE_SECONDS = "save_seconds"
PLOT_SECONDS = "plot_seconds"  # drawing and uploading the dashboard's pictures
ARTIFACT_ID = "artifact_id"  # the saved model (best epoch's weights) in the artifact store
FAIL_REASON = "fail_reason"
WORKER = "worker"  # host:pid of the process that ran it
WORKER_RSS_MB = "worker_rss_mb"  # that process's resident memory when the trial ended
RETRY_OF = "retry_of"  # on a retry: the number of the trial whose worker died
OVER_BUDGET = "over_budget"  # why a trial was pruned before training: over the size budget
WARM_START_FROM = "warm_start_from"  # an enqueued warm start: '<study> trial <number>'

# --- the objective's value: its name in Optuna and optuna-dashboard (study.set_metric_names) --
METRIC_NAME = "val_accuracy"  # the best epoch's accuracy on the validation split

# --- study attributes -------------------------------------------------------------------------
# Short ones, user attributes, for people to read in optuna-dashboard's table:
UID = "uid"  # the study's own identity; it claims the artifact store
ARTIFACT_DIR = "artifact_dir"  # where the artifacts are (a folder or s3://...)
DATASET = "dataset"  # the data in one line: "fashion_mnist: 54,000 train, ... 10 classes"
# Records, read and written with study_record and set_study_record (see there):
SETTINGS = "settings"  # the study file's [data], [training] and [search_space] as written
SETTINGS_CHANGES = "settings_changes"  # what changed at each resume with --allow-changes
CONFIG = "config"  # the resolved settings, from which `worker` rebuilds the config
DATA = "data"  # what the data was: sizes, class names, input shape, fingerprint
WARM_START = "warm_start"  # the earlier study's trials enqueued first, and those left out
N_TRIALS = "n_trials"  # what the latest `run` or `worker` fills the study to: the proxy's limit
_TEST_PREFIX = "test_evaluation_trial_"  # + trial number: the one use of the test split
_REPEAT_PREFIX = "repeat_trial_"  # + trial number: `best --repeat`
_ENSEMBLE_PREFIX = "ensemble_evaluation_"  # + member numbers: each ensemble's one test use
_ENSEMBLE_CHOICE = "ensemble_choice"  # how `run` chose its latest ensemble, on validation
_STUDENT_PREFIX = "student_"  # + teachers and settings: each student's one test use
_LATEST_STUDENT = "latest_student"  # the key of the student `run` made last


# Records are kept in the study's system attributes, out of optuna-dashboard's table of user
# attributes, which shows raw JSON cut at 1,024 characters (the config is longer). Studies
# recorded before kept them as user attributes, where reading still finds them.
_RECORD_PREFIX = "lenet-search:"


def study_record(study: optuna.Study, key: str, default: Any = None) -> Any:
    """The study's record ``key`` (``DATA``, ``CONFIG``, ...), or ``default``."""
    system = study_system_attrs(study)
    if _RECORD_PREFIX + key in system:
        return system[_RECORD_PREFIX + key]
    return study.user_attrs.get(key, default)


def set_study_record(study: optuna.Study, key: str, value: Any) -> None:
    set_study_system_attr(study, _RECORD_PREFIX + key, value)


def _record_keys(study: optuna.Study) -> set[str]:
    system = {k.removeprefix(_RECORD_PREFIX) for k in study_system_attrs(study)}
    return system | set(study.user_attrs)


@dataclass(frozen=True)
class TrialRecord:
    """A trial as lenet-search recorded it (fields are None where a trial never got that far)."""

    number: int
    state: str  # "COMPLETE", "PRUNED", "FAIL", "RUNNING" or "WAITING"
    params: dict[str, Any]  # everything it trained with: sampled and fixed values
    sampled: dict[str, Any]  # what Optuna sampled (trial.params)
    # COMPLETE: its best epoch's validation accuracy; PRUNED: the last it reported, as Optuna
    # records it (and its trials_dataframe shows it); None for the others.
    value: float | None
    curve: dict[int, float]  # validation accuracy after each epoch reported
    epochs_run: int | None
    best_epoch: int | None
    param_count: int | None
    flops: int | None
    seconds: float | None
    fail_reason: str | None
    artifact_id: str | None
    keras_seed: int | None
    retry_of: int | None
    over_budget: str | None = None  # pruned before training: how it is over the size budget
    warm_start_from: str | None = None  # enqueued from an earlier study: '<study> trial <n>'
    # Judged on folds: each fold's accuracy at the best epoch (value is all of them together).
    fold_accuracies: list[float] | None = None

    @classmethod
    def of(cls, trial: optuna.trial.FrozenTrial) -> TrialRecord:
        attrs = trial.user_attrs
        duration = trial.duration
        return cls(
            number=trial.number,
            state=trial.state.name,
            params={**attrs.get(HYPERPARAMETERS, {}), **trial.params},
            sampled=dict(trial.params),
            value=trial.value if trial.state.name in ("COMPLETE", "PRUNED") else None,
            curve={int(step): value for step, value in sorted(trial.intermediate_values.items())},
            epochs_run=attrs.get(EPOCHS_RUN),
            best_epoch=attrs.get(BEST_EPOCH),
            param_count=attrs.get(PARAM_COUNT),
            flops=attrs.get(FLOPS),
            seconds=duration.total_seconds() if duration is not None else None,
            fail_reason=attrs.get(FAIL_REASON),
            artifact_id=attrs.get(ARTIFACT_ID),
            keras_seed=attrs.get(KERAS_SEED),
            fold_accuracies=attrs.get(FOLD_ACCURACIES),
            retry_of=attrs.get(RETRY_OF),
            over_budget=attrs.get(OVER_BUDGET),
            warm_start_from=attrs.get(WARM_START_FROM),
        )


def trial_records(study: optuna.Study) -> list[TrialRecord]:
    return [TrialRecord.of(trial) for trial in study.get_trials(deepcopy=False)]


def trial_params(trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """Everything the trial trained with: the sampled values and the study file's fixed ones."""
    return {**trial.user_attrs.get(HYPERPARAMETERS, {}), **trial.params}


def study_uid(study: optuna.Study) -> str | None:
    """The study's own identity (it claims the artifact store), or None before it has one."""
    return study.user_attrs.get(UID)


def give_uid(study: optuna.Study) -> str:
    """Name a study: its maker does, at once (a study older than uids: whoever opens it)."""
    uid = uuid.uuid4().hex
    study.set_user_attr(UID, uid)
    return uid


def recorded_artifacts(study: optuna.Study) -> ArtifactLocation | None:
    """Where the study's artifacts are, as `run` recorded it (a folder, absolute, or s3://...).

    Raises:
        StorageError: the store needs a package this machine lacks (boto3, for S3).
    """
    recorded = study.user_attrs.get(ARTIFACT_DIR)
    if recorded is None:
        return None
    try:
        return parse_artifact_location(recorded, Path("/"))
    except ValueError as e:
        raise StorageError(f'study "{study.study_name}": its artifact store {e}') from None


def trial_summary(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> dict[str, Any]:
    """A COMPLETE trial as scripts and model cards show it: parameters, accuracies, size."""
    record = TrialRecord.of(trial)
    test = stored_test_evaluation(study, trial.number)
    return {
        "study": study.study_name,
        "trial": record.number,
        "params": record.params,
        "validation_accuracy": record.value,
        "best_epoch": record.best_epoch,
        **(_folds_card(record) if record.fold_accuracies else {}),
        "test_accuracy": test.accuracy if test else None,
        "test_loss": test.loss if test else None,
        "param_count": record.param_count,
        "flops": record.flops,
    }


def _folds_card(record: TrialRecord) -> dict[str, Any]:
    """What a model card says of a trial judged on folds: how, and which model it kept."""
    return {
        "validation": "out of fold: each training image judged by the fold model that did not "
        "train on it",
        "fold_accuracies": record.fold_accuracies,
        "folds_model": f"the {len(record.fold_accuracies)} fold models at epoch "
        f"{record.best_epoch}, averaged",
    }


@dataclass(frozen=True)
class TestEvaluation:
    """The best trial's one evaluation on the test split."""

    __test__ = False  # a name pytest would otherwise take for a test class

    trial: int
    loss: float
    accuracy: float
    n_images: int | None = None  # None in studies evaluated before it was recorded
    # Per-image predictions (true and predicted class, probabilities) in the artifact store.
    predictions_id: str | None = None


def stored_test_evaluation(study: optuna.Study, trial_number: int) -> TestEvaluation | None:
    """The test result stored for ``trial_number``, if that trial was ever evaluated."""
    stored = study_record(study, f"{_TEST_PREFIX}{trial_number}")
    return None if stored is None else TestEvaluation(trial=trial_number, **stored)


def store_test_evaluation(study: optuna.Study, evaluation: TestEvaluation) -> None:
    record = {key: value for key, value in asdict(evaluation).items() if key != "trial"}
    set_study_record(study, f"{_TEST_PREFIX}{evaluation.trial}", record)


def evaluated_on_test(study: optuna.Study) -> list[int]:
    """The trials whose models were evaluated on the test split, in the order of their numbers."""
    keys = [key for key in _record_keys(study) if key.startswith(_TEST_PREFIX)]
    return sorted(int(key.removeprefix(_TEST_PREFIX)) for key in keys)


@dataclass(frozen=True)
class Repeat:
    """The best configuration retrained with other seeds (`best --repeat`)."""

    trial: int
    seeds: list[int] = field(default_factory=list)
    val_accuracies: list[float] = field(default_factory=list)


def stored_repeat(study: optuna.Study, trial_number: int) -> Repeat | None:
    stored = study_record(study, f"{_REPEAT_PREFIX}{trial_number}")
    return None if stored is None else Repeat(trial=trial_number, **stored)


def store_repeat(study: optuna.Study, repeat: Repeat) -> None:
    record = {key: value for key, value in asdict(repeat).items() if key != "trial"}
    set_study_record(study, f"{_REPEAT_PREFIX}{repeat.trial}", record)


@dataclass(frozen=True)
class EnsembleEvaluation:
    """An ensemble of the study's best trials and its one evaluation on the test split."""

    members: list[int]  # trial numbers, best by validation accuracy first
    weights: list[float]  # of each member's class probabilities in the mean
    size: int  # the size asked for ([ensemble] size); fewer members when fewer completed
    val_accuracy: float
    val_loss: float
    n_val: int
    test_accuracy: float
    test_loss: float
    n_test: int
    # The best single trial (the first member) on the same test images, and the ensemble's
    # accuracy minus its, with the paired 95% interval of that difference.
    single_test_accuracy: float
    difference: float
    difference_low: float
    difference_high: float
    param_count: int  # summed over the members, as are the FLOPs
    flops: int


def _ensemble_key(members: list[int]) -> str:
    return _ENSEMBLE_PREFIX + "-".join(map(str, members))


@dataclass(frozen=True)
class EnsembleChoice:
    """How the latest ensemble was chosen, on the validation split alone: the mean of the first
    k of the ``size`` best trials, for the k whose mean scored best there, cross-fitted (of
    equal ones, the smaller). k = 1 is the best trial alone: then there is no ensemble."""

    size: int  # [ensemble] size: how many of the best trials were considered
    considered: list[int]  # those trials' numbers, best by validation accuracy first
    val_accuracies: list[float]  # of the mean of the first 1, 2, ... considered trials
    # The next best trial, which the size budget kept out (None: the budget cut nothing).
    left_out: int | None = None
    cross_fitted: list[float] | None = None  # engine.ensemble.cross_fitted; None: stored before

    @property
    def members(self) -> list[int]:
        scores = self.cross_fitted or self.val_accuracies
        return self.considered[: scores.index(max(scores)) + 1]

    @property
    def decided_by(self) -> list[int]:
        """The best trials, in order, that decided what was considered: while these stay the
        study's best, a new choice would consider the same trials."""
        return self.considered + ([self.left_out] if self.left_out is not None else [])


def stored_ensemble_choice(study: optuna.Study) -> EnsembleChoice | None:
    stored = study_record(study, _ENSEMBLE_CHOICE)
    return None if stored is None else EnsembleChoice(**stored)


def store_ensemble_choice(study: optuna.Study, choice: EnsembleChoice) -> None:
    if stored_ensemble_choice(study) != choice:
        set_study_record(study, _ENSEMBLE_CHOICE, asdict(choice))


def stored_ensemble_evaluation(
    study: optuna.Study, members: list[int]
) -> EnsembleEvaluation | None:
    """The evaluation stored for exactly these members, if they were ever evaluated."""
    stored = study_record(study, _ensemble_key(members))
    return None if stored is None else EnsembleEvaluation(**stored)


def latest_ensemble_evaluation(study: optuna.Study) -> EnsembleEvaluation | None:
    """The evaluation of the ensemble `run` chose last; None before any, or when the best trial
    alone scored best on validation."""
    choice = stored_ensemble_choice(study)
    if choice is None or len(choice.members) < 2:
        return None
    return stored_ensemble_evaluation(study, choice.members)


def store_ensemble_evaluation(study: optuna.Study, evaluation: EnsembleEvaluation) -> None:
    key = _ensemble_key(evaluation.members)
    if study_record(study, key) is None:
        set_study_record(study, key, asdict(evaluation))


@dataclass(frozen=True)
class StudentEvaluation:
    """A student LeNet distilled from the study's ensemble, and its one evaluation on the test
    split; the best trial's figures beside it, to choose between the two on validation."""

    teachers: list[int]  # the ensemble's members, whose mean probabilities it learned
    trial: int  # the trial whose network and training it repeats: the best
    params: dict[str, Any]  # everything it trained with (the trial's, epochs perhaps not)
    temperature: float
    soft_weight: float
    seed: int
    best_epoch: int
    train_seconds: float
    artifact_id: str  # its saved model, an artifact of the study
    val_accuracy: float
    val_loss: float
    n_val: int
    test_accuracy: float
    test_loss: float
    n_test: int
    single_val_accuracy: float  # the best trial's
    single_test_accuracy: float
    # The student's test accuracy minus the best trial's, on the same images, paired 95% CI.
    difference: float
    difference_low: float
    difference_high: float
    param_count: int
    flops: int
    predictions_id: str | None = None

    @property
    def preferred(self) -> bool:
        """Whether a user should take the student rather than the best trial: it scored higher
        on validation (of equal ones, the trial, which needs no teacher to explain it)."""
        return self.val_accuracy > self.single_val_accuracy


def student_key(teachers: list[int], epochs: int, temperature: float, soft_weight: float) -> str:
    """Where a student of these teachers and settings is stored: one test use for each."""
    members = "-".join(map(str, teachers))
    return f"{_STUDENT_PREFIX}{members}_epochs{epochs}_t{temperature:g}_w{soft_weight:g}"


def stored_student(study: optuna.Study, key: str) -> StudentEvaluation | None:
    stored = study_record(study, key)
    return None if stored is None else StudentEvaluation(**stored)


def store_student(study: optuna.Study, key: str, student: StudentEvaluation) -> None:
    if study_record(study, key) is None:
        set_study_record(study, key, asdict(student))
    if study_record(study, _LATEST_STUDENT) != key:
        set_study_record(study, _LATEST_STUDENT, key)


def latest_student(study: optuna.Study) -> StudentEvaluation | None:
    """The student `run` made last, if it made any."""
    key = study_record(study, _LATEST_STUDENT)
    return None if key is None else stored_student(study, key)
