"""Export the best trial's saved model, ready to use (``search.predict`` reads an export)."""

from __future__ import annotations

import json
import shutil
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import optuna

from search import records
from search.artifacts import MODEL_FILE, ArtifactStore, download_trial_model, load_model_file
from search.errors import ExportError, StorageError
from search.evaluation import saved_model_id
from search.records import stored_test_evaluation, trial_params
from search.storage import display_url
from search.trials import best_trial

CARD_FILE = "model_card.json"
SAVED_MODEL_DIR = "saved_model"
LIBRARIES = ("lenet-search", "tensorflow", "keras", "optuna", "numpy")


def export_trial(
    study: optuna.Study,
    store: ArtifactStore,
    output: Path,
    *,
    trial_number: int | None = None,
    storage_url: str | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Write ``model.keras``, a SavedModel and ``model_card.json`` of a trial to ``output``.

    The trial is ``trial_number`` (a COMPLETE one), or the best. Nothing is retrained:
    ``model.keras`` is the file the trial saved. Returns the model card.

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
    study: optuna.Study, best: optuna.trial.FrozenTrial, storage_url: str | None = None
) -> dict[str, Any]:
    data = study.user_attrs.get(records.DATA, {})
    test = stored_test_evaluation(study, best.number)
    return {
        "study": study.study_name,
        "storage": display_url(storage_url) if storage_url else None,
        "trial": best.number,
        "params": trial_params(best),
        "validation_accuracy": best.value,
        "best_epoch": best.user_attrs.get(records.BEST_EPOCH),
        "test_accuracy": test.accuracy if test else None,
        "test_loss": test.loss if test else None,
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
        "param_count": best.user_attrs.get(records.PARAM_COUNT),
        "flops": best.user_attrs.get(records.FLOPS),
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
