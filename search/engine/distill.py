"""One LeNet that knows what the ensemble knows: a student distilled from the study's ensemble.

An ensemble of the best trials beats the best trial alone, but it is several networks: several
times the parameters and the time an image, and over a size budget it may not fit at all. So
at the end of `run` (and in `ensemble`), when the study has an ensemble, one student is trained
on the training images with the ensemble's class probabilities as soft targets beside the labels
(Hinton, Vinyals and Dean 2015). The student is the best trial's network with the best trial's
training (every COMPLETE trial is within the size budget, so the student is too), seeded like a
trial, its best epoch kept by validation accuracy as a trial's is. It is evaluated once on the
test split, stored on the study like the ensemble, and `export` takes it instead of the best
trial when it scored higher on validation: the test split chooses nothing.
"""

from __future__ import annotations

import time
from typing import Any

import optuna

from models import count_params, forward_flops
from search.config.settings import DistillSettings
from search.data.dataset import Dataset
from search.engine.ensemble import (
    BATCH_SIZE,
    best_test_predictions,
    ensemble_model,
    held_out_figures,
)
from search.engine.evaluation import Predictions, save_predictions, saved_model_id
from search.engine.objective import BestEpoch
from search.scheduler.events import Progress
from search.space.hyperparameters import architecture, training_params
from search.space.suggest import trial_seed
from search.stats import loss_and_accuracy
from search.storage import records
from search.storage.artifacts import ArtifactStore, load_trial_model, save_trial_model
from search.storage.records import (
    EnsembleEvaluation,
    StudentEvaluation,
    store_student,
    stored_student,
    student_key,
    trial_params,
)

# The student's seed is that of a trial numbered so: no trial of a study reaches it.
STUDENT_TRIAL_NUMBER = 2**30


def distill_student(
    study: optuna.Study,
    dataset: Dataset,
    store: ArtifactStore,
    ensemble: EnsembleEvaluation | None,
    settings: DistillSettings,
    study_seed: int,
    progress: Progress | None = None,
) -> StudentEvaluation | None:
    """The student of ``ensemble`` (the study's, as ``evaluate_ensemble_on_test`` chose it),
    trained, evaluated on the test split and stored, unless one of the same teachers and
    settings is stored already; None without an ensemble or with ``settings.enabled`` false.
    """
    if ensemble is None or not settings.enabled:
        return None
    progress = progress or Progress()
    best = _trial(study, ensemble.members[0])
    params = trial_params(best)
    params["epochs"] = settings.epochs or params["epochs"]
    key = student_key(
        ensemble.members, params["epochs"], settings.temperature, settings.soft_weight
    )
    student = stored_student(study, key)
    if student is None:
        progress.note(
            f"distilling a student from the ensemble of trials "
            f"{', '.join(map(str, ensemble.members))}: trial {best.number}'s network, "
            f"{params['epochs']} epochs"
        )
        seed = trial_seed(study_seed, STUDENT_TRIAL_NUMBER)
        student = _train_and_evaluate(
            study, dataset, store, ensemble, settings, params, best, seed
        )
        progress.note(
            f"student: validation {student.val_accuracy:.4f} (trial {best.number}: "
            f"{student.single_val_accuracy:.4f}), {student.train_seconds:.0f}s"
        )
    store_student(study, key, student)
    return student


def _train_and_evaluate(
    study: optuna.Study,
    dataset: Dataset,
    store: ArtifactStore,
    ensemble: EnsembleEvaluation,
    settings: DistillSettings,
    params: dict[str, Any],
    best: optuna.trial.FrozenTrial,
    seed: int,
) -> StudentEvaluation:
    from search.engine.training import Teacher, Training, TrainingData, float32_lenet

    teacher_model = ensemble_model(study, store, ensemble.members)
    teacher = Teacher(
        teacher_model.predict(dataset.x_train, batch_size=BATCH_SIZE, verbose=0),
        settings.temperature,
        settings.soft_weight,
    )
    arch = architecture(params, dataset.input_shape, len(dataset.class_names))
    precision = best.user_attrs.get(records.PRECISION, "float32")
    started = time.perf_counter()
    training = Training(
        TrainingData(dataset), arch, training_params(params), seed, precision, teacher
    )
    kept = BestEpoch()
    for result in training.epochs():
        kept.add(result, training)
    model = float32_lenet(training.kept_model(kept.snapshot), params, name="student")
    train_seconds = time.perf_counter() - started

    single = best_test_predictions(study, store, best.number, dataset)
    figures, probabilities = held_out_figures(model, dataset, single)
    predictions = Predictions.of(dataset.y_test, probabilities, dataset.x_test)
    return StudentEvaluation(
        teachers=ensemble.members,
        trial=best.number,
        params=params,
        temperature=settings.temperature,
        soft_weight=settings.soft_weight,
        seed=seed,
        best_epoch=kept.epoch,
        train_seconds=round(train_seconds, 3),
        artifact_id=save_trial_model(model, study, store),
        single_val_accuracy=_validation_accuracy(best, store, dataset),
        **figures,
        param_count=count_params(arch),  # one network, where folds kept the trial's several
        flops=forward_flops(arch),
        predictions_id=save_predictions(study, store, predictions),
    )


def _validation_accuracy(
    trial: optuna.trial.FrozenTrial, store: ArtifactStore, dataset: Dataset
) -> float:
    """A trial's accuracy on the validation split, the student's yardstick: its value, or where
    folds judged it (its value is out of fold) its kept model's, measured."""
    if records.FOLD_ACCURACIES not in trial.user_attrs:
        return float(trial.value)
    model = load_trial_model(store, saved_model_id(trial))
    probabilities = model.predict(dataset.x_val, batch_size=BATCH_SIZE, verbose=0)
    return loss_and_accuracy(probabilities, dataset.y_val)[1]


def _trial(study: optuna.Study, number: int) -> optuna.trial.FrozenTrial:
    return next(t for t in study.get_trials(deepcopy=False) if t.number == number)
