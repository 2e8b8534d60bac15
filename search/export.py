"""Export the best trial's saved model, ready to use, and predict with an export."""

from __future__ import annotations

import json
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import optuna

from search.artifacts import MODEL_FILE, ArtifactStore, download_trial_model, load_model_file
from search.data import read_image, scale
from search.errors import ExportError, StorageError
from search.evaluation import saved_model_id, stored_test_evaluation
from search.storage import display_url
from search.trials import best_trial, trial_params

CARD_FILE = "model_card.json"
SAVED_MODEL_DIR = "saved_model"
LIBRARIES = ("lenet-search", "tensorflow", "keras", "optuna", "numpy")


def export_best(
    study: optuna.Study,
    store: ArtifactStore,
    output: Path,
    *,
    storage_url: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Write ``model.keras``, a SavedModel and ``model_card.json`` of the best trial to ``output``.

    Nothing is retrained: ``model.keras`` is the file the trial saved. Returns the model card.

    Raises:
        StorageError: no trial has completed yet.
        ExportError: ``output`` exists and ``force`` is false.
    """
    best = best_trial(study)
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
        model = load_model_file(partial / MODEL_FILE, f"the saved model of trial {best.number}")
        model.export(str(partial / SAVED_MODEL_DIR), format="tf_saved_model", verbose=False)
        card = model_card(study, best, storage_url)
        (partial / CARD_FILE).write_text(json.dumps(card, indent=2) + "\n", encoding="utf-8")
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)
        raise
    if output.exists():
        shutil.rmtree(output) if output.is_dir() else output.unlink()
    partial.rename(output)
    return card


def _is_export(folder: Path) -> bool:
    return folder.is_dir() and ((folder / CARD_FILE).is_file() or not any(folder.iterdir()))


def model_card(
    study: optuna.Study, best: optuna.trial.FrozenTrial, storage_url: str | None = None
) -> dict[str, Any]:
    data = study.user_attrs.get("data", {})
    test = stored_test_evaluation(study, best.number)
    return {
        "study": study.study_name,
        "storage": display_url(storage_url) if storage_url else None,
        "trial": best.number,
        "params": trial_params(best),
        "validation_accuracy": best.value,
        "best_epoch": best.user_attrs.get("best_epoch"),
        "test_accuracy": test.accuracy if test else None,
        "test_loss": test.loss if test else None,
        "class_names": data.get("class_names"),
        "input_shape": data.get("input_shape"),
        "preprocessing": {
            "color_mode": data.get("color_mode"),
            "resize_to": (data.get("input_shape") or [None, None])[:2],
            "scale": "pixel / 255, so values lie in 0..1",
            "layout": "(N, height, width, channels)",
        },
        "dataset": {
            **{key: value for key, value in data.items() if key not in ("class_names",)},
            "fingerprint": _fingerprint_summary(data.get("fingerprint")),
        },
        "keras_seed": best.user_attrs.get("keras_seed"),
        "param_count": best.user_attrs.get("param_count"),
        "flops": best.user_attrs.get("flops"),
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


@dataclass(frozen=True)
class Prediction:
    path: Path
    top: list[tuple[str, float]]  # (class name, probability), most likely first


def read_model_card(folder: Path) -> dict[str, Any]:
    if not (folder / MODEL_FILE).is_file() or not (folder / CARD_FILE).is_file():
        raise ExportError(
            f"no exported model in {folder} (expected {MODEL_FILE} and {CARD_FILE}, "
            "which `lenet-search export` writes)"
        )
    try:
        card = json.loads((folder / CARD_FILE).read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ExportError(f"{folder / CARD_FILE} is not a valid model card: {e}") from None
    for key in ("input_shape", "class_names"):
        if not isinstance(card, dict) or not card.get(key):
            raise ExportError(
                f"{folder / CARD_FILE} has no {key}; export the study again with this version"
            )
    return card


def predict_images(folder: Path, images: list[Path], top_k: int = 3) -> list[Prediction]:
    """Classify image files with an export, converting colour and size as the model expects.

    Raises:
        ExportError: ``folder`` holds no export.
        DataError: an image cannot be read.
    """
    card = read_model_card(folder)
    height, _, channels = card["input_shape"]
    color_mode = "rgb" if channels == 3 else "grayscale"
    batch = scale(np.stack([read_image(path, color_mode, height) for path in images]))

    model = load_model_file(folder / MODEL_FILE, "the exported model")
    probabilities = model.predict(batch, verbose=0)
    names = card["class_names"]
    predictions = []
    for path, row in zip(images, probabilities, strict=True):
        order = np.argsort(row)[::-1][:top_k]
        predictions.append(Prediction(path, [(names[i], float(row[i])) for i in order]))
    return predictions
