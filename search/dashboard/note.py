"""optuna-dashboard's note of a study: its settings and its data, as short markdown.

Written when a study is made and whenever its recorded settings change; a note edited in the
dashboard survives a resume with unchanged settings.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

import optuna

from search.config.settings import StudyConfig
from search.space.ranges import describe
from search.storage import records


def write_note(
    study: optuna.Study, config: StudyConfig, data: dict[str, Any], only_if_missing: bool = False
) -> None:
    """optuna-dashboard's note of the study: its settings and data, rewritten when they change."""
    from optuna_dashboard import get_note, save_note

    if not only_if_missing or not get_note(study):
        save_note(study, study_note(config, data))


def study_note(config: StudyConfig, data: dict[str, Any]) -> str:
    """The settings and the data of a study, as short markdown."""
    sizes, classes = data["sizes"], data["class_names"]
    shown = ", ".join(classes[:20]) + (", ..." if len(classes) > 20 else "")
    sampler = {"kind": "TPE", "seed": config.study.seed, **asdict(config.sampler)}
    return "\n".join(
        [
            f"Maximizes **{records.METRIC_NAME}**: each trial's accuracy at its best epoch "
            + (
                f"on all {sizes['train']} training images, out of {data['folds']} folds."
                if data.get("folds", 1) > 1
                else "on the validation split."
            ),
            "",
            "### Data",
            f"- {data['dataset']}: {sizes['train']} train, {sizes['validation']} validation, "
            f"{sizes['test']} test images of {'x'.join(map(str, data['input_shape']))}",
            f"- {len(classes)} classes: {shown}",
            f"- [data]: {_pairs(config.file_settings.get('data', {}))}",
            f"- fingerprint `{data['fingerprint']['digest']}`",
            "",
            "### Search space",
            "| name | values |",
            "| --- | --- |",
            *(f"| {name} | {describe(param)} |" for name, param in config.search_space.items()),
            "",
            f"**Training**: {_pairs(asdict(config.training))}  ",
            f"**Pruner**: {_pairs(config.pruner.used())}  ",
            f"**Sampler**: {_pairs(sampler)}  ",
            f"**Ensemble**: {_ensemble(config.ensemble.size)}  ",
            f"**Student**: {_student(config)}",
        ]
    )


def _ensemble(size: int) -> str:
    if size < 2:
        return "none ([ensemble] size = 0)"
    return (
        f"the mean of the class probabilities of the {size} best trials by "
        f"{records.METRIC_NAME}, evaluated once on the test split at the end of `run` "
        "(`lenet-search best` shows its members and accuracy)"
    )


def _student(config: StudyConfig) -> str:
    distill = config.distill
    if config.ensemble.size < 2 or not distill.enabled:
        return "none" + ("" if distill.enabled else " ([distill] enabled = false)")
    epochs = f"{distill.epochs} epochs" if distill.epochs else "the best trial's epochs"
    return (
        f"the best trial's network trained on the ensemble's class probabilities "
        f"(temperature {distill.temperature:g}, soft weight {distill.soft_weight:g}, {epochs}), "
        "evaluated once on the test split; `export` takes it where it beats the best trial on "
        f"{records.METRIC_NAME}"
    )


def _pairs(table: dict[str, Any]) -> str:
    return ", ".join(f"{key} = {value}" for key, value in table.items())
