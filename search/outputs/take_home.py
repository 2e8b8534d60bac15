"""The model a user should take home: the student distilled from the study's ensemble
(``engine.distill``) where it scored higher on validation than the best trial, else the best
trial; written as ``search.outputs.export`` writes a trial's export, its card saying which and
why. The test split chooses nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import optuna

from search.errors import StorageError
from search.outputs.export import (
    ExportFormat,
    chosen_card,
    data_card,
    export_trial,
    write_export,
    write_model_files,
)
from search.storage.artifacts import (
    MODEL_FILE,
    ArtifactStore,
    download_trial_model,
    load_model_file,
)
from search.storage.database import display_url
from search.storage.trials import current_student


def export_chosen(
    study: optuna.Study,
    store: ArtifactStore,
    output: Path,
    *,
    validation: tuple[np.ndarray, np.ndarray],
    storage_url: str | None = None,
    force: bool = False,
    export_format: ExportFormat = ExportFormat(),
) -> dict[str, Any]:
    """Export the one model a user should take: the study's student where it scored higher on
    validation than the best trial, else the best trial; the card's ``chosen`` says which and
    why. The test split chooses nothing.

    Raises:
        StorageError: no trial has completed yet.
        ExportError: ``output`` exists and ``force`` is false.
    """
    common = {
        "validation": validation,
        "storage_url": storage_url,
        "force": force,
        "export_format": export_format,
    }
    student = current_student(study)
    if student is None:
        why = "no student: one is distilled from an ensemble, and the study has none"
        return export_trial(study, store, output, chosen=("best trial", why), **common)
    scores = (
        f"the student scored {student.val_accuracy:.4f} on validation, trial "
        f"{student.trial} {student.single_val_accuracy:.4f}"
    )
    if student.preferred:
        return export_student(study, store, output, chosen=("student", scores), **common)
    return export_trial(study, store, output, chosen=("best trial", scores), **common)


def export_student(
    study: optuna.Study,
    store: ArtifactStore,
    output: Path,
    *,
    validation: tuple[np.ndarray, np.ndarray],
    storage_url: str | None = None,
    force: bool = False,
    export_format: ExportFormat = ExportFormat(),
    chosen: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Write the study's student (``engine.distill``) as a trial's export is written; its card
    says what it learned from.

    Raises:
        StorageError: the study has no student of its latest ensemble.
        ExportError: ``output`` exists and ``force`` is false.
    """
    student = current_student(study)
    if student is None:
        raise StorageError(
            f'study "{study.study_name}" has no student: one is distilled from its ensemble by '
            "`lenet-search run` or `lenet-search ensemble`"
        )

    def write(folder: Path) -> dict[str, Any]:
        download_trial_model(store, student.artifact_id, folder / MODEL_FILE)
        model = load_model_file(folder / MODEL_FILE, "the saved model of the student")
        files = write_model_files(model, folder, validation, export_format)
        return {
            "study": study.study_name,
            "model": "student",
            **chosen_card(chosen),
            "trial": student.trial,
            "params": student.params,
            "validation_accuracy": student.val_accuracy,
            "best_epoch": student.best_epoch,
            "test_accuracy": student.test_accuracy,
            "test_loss": student.test_loss,
            "best_trial_test_accuracy": student.single_test_accuracy,
            "param_count": student.param_count,
            "flops": student.flops,
            "storage": display_url(storage_url) if storage_url else None,
            "training_precision": "float32",  # saved rebuilt in float32, and measured so
            "distilled_from": {
                "teachers": student.teachers,
                "temperature": student.temperature,
                "soft_weight": student.soft_weight,
            },
            **files,
            **data_card(study),
            "keras_seed": student.seed,
        }

    return write_export(output, force, write)
