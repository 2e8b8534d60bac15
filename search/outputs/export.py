"""Export the best trial's saved model, ready to use (``search.outputs.predict`` reads it).

An export is always float32, whatever precision the trial trained in: a ``mixed_bfloat16``
model runs emulated, slowly, on CPUs without native bfloat16 and not at all in converters. Its
validation accuracy is measured again as exported and written in the card beside the trial's.

Two formats: ``keras`` (``model.keras`` and a SavedModel) and ``litert`` (``model.tflite``, for
phones, optionally quantized to int8; ``search.outputs.litert``), whose accuracy is measured
again with the LiteRT interpreter and written next to the float32 model's.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from search.engine.evaluation import saved_model_id
from search.errors import ExportError, StorageError
from search.outputs.formats import EXPORT_FORMATS
from search.outputs.litert import accuracy_and_confidence
from search.storage import records
from search.storage.artifacts import (
    MODEL_FILE,
    ArtifactStore,
    download_trial_model,
    load_model_file,
)
from search.storage.database import display_url
from search.storage.records import trial_params, trial_summary
from search.storage.trials import best_trial, latest_ensemble

CARD_FILE = "model_card.json"
SAVED_MODEL_DIR = "saved_model"
LIBRARIES = ("lenet-search", "tensorflow", "keras", "optuna", "numpy", "ai-edge-litert")


@dataclass(frozen=True)
class ExportFormat:
    """What files an export holds: ``keras`` or ``litert``, and for LiteRT the quantization
    (None or "int8") with the training images it is calibrated on."""

    name: str = "keras"
    quantize: str | None = None
    calibration: np.ndarray | None = None

    def __post_init__(self) -> None:
        if self.name not in EXPORT_FORMATS:
            raise ExportError(f"--format {self.name}: choose one of {', '.join(EXPORT_FORMATS)}")
        if self.quantize is not None and self.name != "litert":
            raise ExportError(f"--quantize {self.quantize} needs --format litert")

    @property
    def folder_suffix(self) -> str:
        """What the default export folder's name ends with, so that one study's exports in
        different formats do not replace each other: "", "-litert" or "-litert-int8"."""
        if self.name == "keras":
            return ""
        return f"-{self.name}" + (f"-{self.quantize}" if self.quantize else "")

    @property
    def model_file(self) -> str:
        from search.outputs.litert import LITERT_FILE

        return LITERT_FILE if self.name == "litert" else MODEL_FILE


def export_trial(
    study: optuna.Study,
    store: ArtifactStore,
    output: Path,
    *,
    validation: tuple[np.ndarray, np.ndarray],
    trial_number: int | None = None,
    storage_url: str | None = None,
    force: bool = False,
    export_format: ExportFormat = ExportFormat(),
    chosen: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """Write a trial's model (``model.keras`` and a SavedModel, or ``model.tflite``) and its
    ``model_card.json`` to ``output``.

    The trial is ``trial_number`` (a COMPLETE one), or the best. Nothing is retrained: the
    model is the one the trial saved, in float32; its accuracy on ``validation`` (the study's
    validation images and labels) is measured again for the card, where it equals the trial's
    value to the last bit for a float32-trained trial's ``model.keras``. Returns the card.

    Raises:
        StorageError: no trial has completed yet, or ``trial_number`` is not a COMPLETE trial.
        ExportError: ``output`` exists and ``force`` is false.
    """
    best = best_trial(study) if trial_number is None else complete_trial(study, trial_number)
    if best is None:
        raise StorageError(
            f'study "{study.study_name}" has no complete trial yet; nothing to export'
        )

    def write(folder: Path) -> dict[str, Any]:
        download_trial_model(store, saved_model_id(best), folder / MODEL_FILE)
        trained = load_model_file(folder / MODEL_FILE, f"the saved model of trial {best.number}")
        model = float32_model(trained, best)
        if model is not trained:
            model.save(folder / MODEL_FILE)
        files = write_model_files(model, folder, validation, export_format)
        return {
            **trial_summary(study, best),  # study, trial, params, accuracies, best epoch, size
            "model": "trial",
            **chosen_card(chosen),
            "storage": display_url(storage_url) if storage_url else None,
            "training_precision": best.user_attrs.get(records.PRECISION, "float32"),
            **files,
            **data_card(study),
            "keras_seed": best.user_attrs.get(records.KERAS_SEED),
        }

    return write_export(output, force, write)


def chosen_card(chosen: tuple[str, str] | None) -> dict[str, Any]:
    """The card's word on why this model was exported, when ``export`` chose it."""
    return {} if chosen is None else {"chosen": {"model": chosen[0], "why": chosen[1]}}


def export_ensemble(
    study: optuna.Study,
    store: ArtifactStore,
    output: Path,
    *,
    validation: tuple[np.ndarray, np.ndarray],
    storage_url: str | None = None,
    force: bool = False,
    export_format: ExportFormat = ExportFormat(),
) -> dict[str, Any]:
    """Write the study's latest ensemble as one model (the mean of its members' probabilities)
    in ``export_format``, with a card listing the members. ``predict`` reads it as it reads a
    trial's export; its validation accuracy, measured again, equals the stored one.

    Raises:
        StorageError: the study has no ensemble yet.
        ExportError: ``output`` exists and ``force`` is false.
    """
    from search.engine.ensemble import ensemble_model

    latest = latest_ensemble(study)
    if latest is None:
        raise StorageError(
            f'study "{study.study_name}" has no ensemble yet; the next `lenet-search run` of '
            "it, or `lenet-search ensemble`, makes one"
        )
    ensemble, current = latest.evaluation, latest.current
    if ensemble is None:
        raise StorageError(
            f'study "{study.study_name}" has no ensemble: its best trial alone scored better on '
            "validation than the mean of its best trials; `export` without --ensemble writes it"
        )
    trials = {t.number: t for t in study.get_trials(deepcopy=False)}

    def write(folder: Path) -> dict[str, Any]:
        model = ensemble_model(study, store, ensemble.members)
        model.save(folder / MODEL_FILE)
        files = write_model_files(model, folder, validation, export_format)
        return {
            "study": study.study_name,
            "storage": display_url(storage_url) if storage_url else None,
            "ensemble": {
                "members": [
                    {
                        "trial": number,
                        "weight": weight,
                        "validation_accuracy": trials[number].value,
                        "params": trial_params(trials[number]),
                        "training_precision": trials[number].user_attrs.get(
                            records.PRECISION, "float32"
                        ),
                    }
                    for number, weight in zip(ensemble.members, ensemble.weights, strict=True)
                ],
                "combined": "the mean of the members' class probabilities",
                "size": ensemble.size,
                "members_still_the_best": current,
            },
            "validation_accuracy": ensemble.val_accuracy,
            **files,
            "test_accuracy": ensemble.test_accuracy,
            "test_loss": ensemble.test_loss,
            "best_single_test_accuracy": ensemble.single_test_accuracy,
            "param_count": ensemble.param_count,
            "flops": ensemble.flops,
            **data_card(study),
        }

    return write_export(output, force, write)


def write_model_files(
    model: Any,
    folder: Path,
    validation: tuple[np.ndarray, np.ndarray],
    export_format: ExportFormat,
) -> dict[str, Any]:
    """The files of ``export_format`` in ``folder``, which holds ``model`` (float32) as
    ``model.keras``; the card's entries on them, with their accuracies on ``validation``."""
    float32_accuracy, confidence = accuracy_and_confidence(model, *validation)
    exported_accuracy = float32_accuracy
    if export_format.name == "litert":
        from search.outputs.litert import LiteRTModel, convert

        path = folder / export_format.model_file
        convert(
            model, path, quantize=export_format.quantize, calibration=export_format.calibration
        )
        (folder / MODEL_FILE).unlink()  # the export is the file for the device alone
        exported_accuracy, confidence = accuracy_and_confidence(LiteRTModel(path), *validation)
    else:
        model.export(str(folder / SAVED_MODEL_DIR), format="tf_saved_model", verbose=False)
    return {
        "format": export_format.name,
        "model_file": export_format.model_file,
        "model_bytes": (folder / export_format.model_file).stat().st_size,
        "quantize": export_format.quantize,
        # The float32 Keras model's, then the exported file's, measured as it is: the same
        # for a Keras export, the LiteRT interpreter's for a LiteRT one.
        "float32_validation_accuracy": float(float32_accuracy),
        "exported_validation_accuracy": exported_accuracy,
        # The exported model's median top probability on the validation images: below
        # `play --min-confidence`, most rounds would be replayed.
        "validation_median_confidence": confidence,
    }


def _umask() -> int:
    mask = os.umask(0)  # the only way to read it is to set it: set it back at once
    os.umask(mask)
    return mask


def write_export(
    output: Path, force: bool, write: Callable[[Path], dict[str, Any]]
) -> dict[str, Any]:
    """Make the export ``write`` fills (its card returned), in place of ``output`` at the end.

    It is built beside its target and moved in place at the end, so that a failure half-way
    never leaves a half-written export (nor removes an old one) under ``output``. The scratch
    folder has a name of its own, so no folder of the user's is ever replaced.
    """
    if output.exists():
        if not force:
            raise ExportError(f"{output} already exists; pass --force to replace it")
        if not _is_export(output):
            raise ExportError(
                f"{output} is not an earlier export (it has no {CARD_FILE}); "
                "not replacing it, even with --force"
            )
    output = output.resolve()  # .parent below needs a real last part, not "."
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{output.name}.partial-", dir=output.parent))
    except OSError as e:
        blocker = next((p for p in output.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file, not a folder" if blocker else e.strerror
        raise ExportError(f"cannot write the export to {output}: {reason}") from None
    try:
        card = {
            **write(partial),
            "versions": {name: _version(name) for name in LIBRARIES},
            "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        }
        (partial / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    # mkdtemp made it private (0700); an export is a folder like any other the user makes.
    partial.chmod(0o777 & ~_umask())
    if output.exists():
        shutil.rmtree(output) if output.is_dir() else output.unlink()
    partial.rename(output)
    return card


def float32_model(model, trial: optuna.trial.FrozenTrial):  # noqa: ANN001, ANN201 - keras.Model
    """``model`` computing in float32: itself if it does (the file stays the trial's, to the
    bit), else the trial's network rebuilt so with its weights."""
    from models import trained_network
    from search.engine.training import float32_lenet, sub_models

    networks = sub_models(model) or [model]  # a trial judged on folds: its fold models
    networks = [trained_network(net) for net in networks]  # inside a mirrored model, if it is
    if all(layer.compute_dtype == "float32" for net in networks for layer in net.layers):
        return model

    return float32_lenet(model, trial_params(trial))


def complete_trial(study: optuna.Study, number: int) -> optuna.trial.FrozenTrial:
    """Trial ``number`` of the study, which must have completed (only those keep a model)."""
    complete = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    numbers = [t.number for t in complete]
    if number in numbers:
        return complete[numbers.index(number)]
    trials = study.get_trials(deepcopy=False)
    what = f"is {trials[number].state.name}" if 0 <= number < len(trials) else "does not exist"
    listed = ", ".join(map(str, numbers[:20])) + (", ..." if len(numbers) > 20 else "")
    raise StorageError(
        f'--trial {number}: trial {number} of study "{study.study_name}" {what}; only COMPLETE '
        f"trials keep a model: {listed or 'none yet'}"
    )


def _is_export(folder: Path) -> bool:
    return folder.is_dir() and ((folder / CARD_FILE).is_file() or not any(folder.iterdir()))


def data_card(study: optuna.Study) -> dict[str, Any]:
    """What a model card says of the data: classes, input, pixels, preprocessing, splits."""
    data = records.study_record(study, records.DATA, {})
    return {
        "class_names": data.get("class_names"),
        "input_shape": data.get("input_shape"),
        # What the training images look like (None in studies recorded before it was).
        "pixel_stats": data.get("pixel_stats"),
        "preprocessing": {
            "color_mode": data.get("color_mode"),
            "resize_to": (data.get("input_shape") or [None, None])[:2],
            "scale": "pixel / 255, so values lie in 0..1",
            "layout": "(N, height, width, channels)",
        },
        "dataset": {
            **{
                key: value
                for key, value in data.items()
                if key not in ("class_names", "pixel_stats")
            },
            "fingerprint": _fingerprint_summary(data.get("fingerprint")),
        },
    }


def _fingerprint_summary(fingerprint: dict[str, Any] | None) -> dict[str, Any] | None:
    """The data's digest and how many files it covers (the study keeps each file's digest)."""
    if fingerprint is None:
        return None
    return {"digest": fingerprint["digest"], "files": len(fingerprint["files"])}


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None
