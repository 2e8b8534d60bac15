"""`export`: a trial's model (or the study's ensemble) in float32, a SavedModel and a model card,
ready to use."""

from __future__ import annotations

import argparse
from pathlib import Path

from search.cli.common import (
    Command,
    add_study_target,
    open_study,
    recorded_config,
    required_artifacts,
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_target(parser, artifacts=True)
    parser.add_argument("--output", type=Path, required=True, help="folder to write")
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--trial", type=int, metavar="N", help="a COMPLETE trial to export (default: the best)"
    )
    which.add_argument(
        "--ensemble",
        action="store_true",
        help="export the study's ensemble of its best trials as one model instead",
    )
    parser.add_argument("--force", action="store_true", help="replace --output if it exists")


def handle(args: argparse.Namespace) -> int:
    from search.data.loading import load_dataset
    from search.data.record import require_same_data
    from search.outputs.export import export_ensemble, export_trial
    from search.runtime.tensorflow import start_tensorflow
    from search.storage.artifacts import open_artifact_store

    target = open_study(args)
    store = open_artifact_store(required_artifacts(target), create=False)
    config = recorded_config(target)
    dataset = load_dataset(config.data)  # the validation split, to measure the export on
    require_same_data(
        target.study,
        dataset,
        config.data,
        "the export's validation accuracy would not be comparable",
    )
    start_tensorflow()
    common = {
        "validation": (dataset.x_val, dataset.y_val),
        "storage_url": target.storage_url,
        "force": args.force,
    }
    if args.ensemble:
        card = export_ensemble(target.study, store, args.output, **common)
        members = ", ".join(str(member["trial"]) for member in card["ensemble"]["members"])
        what = f"the ensemble of trials {members}"
        validation = f"validation accuracy {card['exported_validation_accuracy']:.4f}"
    else:
        card = export_trial(target.study, store, args.output, trial_number=args.trial, **common)
        what = f"trial {card['trial']}"
        validation = f"validation accuracy {card['validation_accuracy']:.4f}"
        if card["training_precision"] != "float32":
            validation += (
                f" as trained in {card['training_precision']}, "
                f"{card['exported_validation_accuracy']:.4f} as exported in float32"
            )
    test = card["test_accuracy"]
    print(
        f'exported {what} of study "{card["study"]}" to {args.output}: '
        f"model.keras, saved_model/, model_card.json ({validation}"
        + (f", test accuracy {test:.4f})" if test is not None else ")")
    )
    return 0


COMMAND = Command(
    "export", "write a trial's model, a SavedModel and a model card", add_arguments, handle
)
