"""Export the best trial's saved model, ready to use (``search.outputs.predict`` reads it).

An export is always float32, whatever precision the trial trained in: a ``mixed_bfloat16``
model runs emulated, slowly, on CPUs without native bfloat16 and not at all in converters. Its
validation accuracy is measured again as exported and written in the card beside the trial's.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from search.engine.evaluation import saved_model_id
from search.errors import ExportError, StorageError
from search.storage import records
from search.storage.artifacts import (
    MODEL_FILE,
    ArtifactStore,
    download_trial_model,
    load_model_file,
)
from search.storage.database import display_url
from search.storage.records import trial_params, trial_summary
from search.storage.trials import best_trial

CARD_FILE = "model_card.json"
SAVED_MODEL_DIR = "saved_model"
LIBRARIES = ("lenet-search", "tensorflow", "keras", "optuna", "numpy")


def export_trial(
    study: optuna.Study,
    store: ArtifactStore,
    output: Path,
    *,
    validation: tuple[np.ndarray, np.ndarray],
    trial_number: int | None = None,
    storage_url: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Write ``model.keras``, a SavedModel and ``model_card.json`` of a trial to ``output``.

    The trial is ``trial_number`` (a COMPLETE one), or the best. Nothing is retrained:
    ``model.keras`` is the model the trial saved, in float32; its accuracy on ``validation``
    (the study's validation images and labels) is measured again for the card, where it equals
    the trial's value to the last bit for a float32-trained trial. Returns the model card.

    Raises:
        StorageError: no trial has completed yet, or ``trial_number`` is not a COMPLETE trial.
        ExportError: ``output`` exists and ``force`` is false.
    """
    best = best_trial(study) if trial_number is None else complete_trial(study, trial_number)
    if best is None:
        raise StorageError(
            f'study "{study.study_name}" has no complete trial yet; nothing to export'
        )
    if output.exists():
        if not force:
            raise ExportError(f"{output} already exists; pass --force to replace it")
        if not _is_export(output):
            raise ExportError(
                f"{output} is not an earlier export (it has no {CARD_FILE}); "
                "not replacing it, even with --force"
            )
    output = output.resolve()  # .parent below needs a real last part, not "."

    # Build the export beside its target and move it in place at the end, so that a failure
    # half-way never leaves a half-written export (nor removes an old one) under ``output``.
    # The scratch folder has a name of its own, so no folder of the user's is ever replaced.
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        partial = Path(tempfile.mkdtemp(prefix=f".{output.name}.partial-", dir=output.parent))
    except OSError as e:
        blocker = next((p for p in output.parents if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file, not a folder" if blocker else e.strerror
        raise ExportError(f"cannot write the export to {output}: {reason}") from None
    try:
        download_trial_model(store, saved_model_id(best), partial / MODEL_FILE)
        trained = load_model_file(partial / MODEL_FILE, f"the saved model of trial {best.number}")
        model = float32_model(trained, best)
        if model is not trained:
            model.save(partial / MODEL_FILE)
        model.export(str(partial / SAVED_MODEL_DIR), format="tf_saved_model", verbose=False)
        _, exported_accuracy = model.evaluate(*validation, batch_size=1024, verbose=0)
        card = model_card(study, best, storage_url, exported_accuracy=float(exported_accuracy))
        (partial / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if output.exists():
        shutil.rmtree(output) if output.is_dir() else output.unlink()
    partial.rename(output)
    return card


def float32_model(model, trial: optuna.trial.FrozenTrial):  # noqa: ANN001, ANN201 - keras.Model
    """``model`` computing in float32: itself if it does, else the same network rebuilt so.

    Mixed precision keeps its variables in float32, so the weights carry over unchanged (the
    cast only makes that explicit); only the computation changes.
    """
    if all(layer.compute_dtype == "float32" for layer in model.layers):
        return model
    from search.engine.training import compiled_lenet
    from search.space.hyperparameters import architecture, training_params

    values = trial_params(trial)
    arch = architecture(values, tuple(model.input_shape[1:]), model.output_shape[-1])
    rebuilt = compiled_lenet(arch, training_params(values).learning_rate, "float32")
    rebuilt.set_weights([np.asarray(weights, np.float32) for weights in model.get_weights()])
    # Saved with built optimizer variables, as a trial's model is: loading it is then silent.
    rebuilt.optimizer.build(rebuilt.trainable_variables)
    return rebuilt


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


def model_card(
    study: optuna.Study,
    best: optuna.trial.FrozenTrial,
    storage_url: str | None = None,
    *,
    exported_accuracy: float | None = None,
) -> dict[str, Any]:
    data = study.user_attrs.get(records.DATA, {})
    return {
        **trial_summary(study, best),  # study, trial, params, accuracies, best epoch, size
        "storage": display_url(storage_url) if storage_url else None,
        "training_precision": best.user_attrs.get(records.PRECISION, "float32"),
        # The exported model's, measured again in float32 (the precision of every export).
        "exported_validation_accuracy": exported_accuracy,
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
        "keras_seed": best.user_attrs.get(records.KERAS_SEED),
        "versions": {name: _version(name) for name in LIBRARIES},
        "exported_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
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
