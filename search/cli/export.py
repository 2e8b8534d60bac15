"""`export`: a trial's model (or the study's ensemble) in float32, as Keras files or a LiteRT file
for phones (int8 if asked), with a model card, ready to use."""

from __future__ import annotations

import argparse
from pathlib import Path

from search.cli.common import (
    Command,
    add_study_target,
    default_export_folder,
    open_study,
    recorded_config,
    required_artifacts,
)
from search.outputs.formats import EXPORT_FORMATS, QUANTIZE_CHOICES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_study_target(parser, artifacts=True)
    parser.add_argument(
        "--output",
        type=Path,
        help="folder to write (default: exported/STUDY_NAME here; "
        "-litert or -litert-int8 appended for LiteRT)",
    )
    which = parser.add_mutually_exclusive_group()
    which.add_argument(
        "--trial",
        type=int,
        metavar="N",
        help="a COMPLETE trial to export (default: the student distilled from the ensemble "
        "where it scored higher on validation than the best trial, else the best trial)",
    )
    which.add_argument(
        "--student",
        action="store_true",
        help="export the student distilled from the study's ensemble, whatever it scored",
    )
    which.add_argument(
        "--ensemble",
        action="store_true",
        help="export the study's ensemble of its best trials as one model instead",
    )
    parser.add_argument(
        "--format",
        choices=EXPORT_FORMATS,
        default="keras",
        help="keras: model.keras and a SavedModel (default); litert: model.tflite, for phones "
        "and microcontrollers, its accuracy measured again with the LiteRT interpreter",
    )
    parser.add_argument(
        "--quantize",
        choices=QUANTIZE_CHOICES,
        help="with --format litert: int8 weights and activations (about 4x smaller), "
        "calibrated on training images",
    )
    parser.add_argument("--force", action="store_true", help="replace --output if it exists")


def handle(args: argparse.Namespace) -> int:
    from search.data.loading import load_dataset
    from search.data.record import require_same_data
    from search.outputs.export import ExportFormat, export_ensemble, export_trial
    from search.outputs.litert import require_interpreter
    from search.outputs.take_home import export_chosen, export_student
    from search.outputs.text import format_bytes
    from search.runtime.tensorflow import start_tensorflow
    from search.storage.artifacts import open_artifact_store

    chosen_format = ExportFormat(args.format, args.quantize)  # wrong ones before any loading
    if args.format == "litert":
        require_interpreter()
    target = open_study(args)
    output = args.output or default_export_folder(
        target.study.study_name, chosen_format.folder_suffix
    )
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
    # Calibration looks at training images only: the validation ones measure the result.
    calibration = dataset.x_train if args.quantize else None
    common = {
        "validation": (dataset.x_val, dataset.y_val),
        "storage_url": target.storage_url,
        "force": args.force,
        "export_format": ExportFormat(args.format, args.quantize, calibration),
    }
    if args.ensemble:
        card = export_ensemble(target.study, store, output, **common)
        members = ", ".join(str(member["trial"]) for member in card["ensemble"]["members"])
        what = f"the ensemble of trials {members}"
    elif args.trial is not None:
        card = export_trial(target.study, store, output, trial_number=args.trial, **common)
        what = f"trial {card['trial']}"
    else:
        export = export_student if args.student else export_chosen
        card = export(target.study, store, output, **common)
        what = (
            f"the student (trial {card['trial']}'s network, distilled from the ensemble)"
            if card["model"] == "student"
            else f"trial {card['trial']}"
        )
        if "chosen" in card:
            what += f" ({card['chosen']['why']})"
    files = (
        f"{card['model_file']} ({format_bytes(card['model_bytes'])}), model_card.json"
        if args.format == "litert"
        else "model.keras, saved_model/, model_card.json"
    )
    test = card["test_accuracy"]
    print(
        f'exported {what} of study "{card["study"]}" to {output}: {files} '
        f"({accuracy_text(card)}" + (f", test accuracy {test:.4f})" if test is not None else ")")
    )
    return 0


def accuracy_text(card: dict) -> str:
    """The card's validation accuracies: as trained, and as exported where that differs."""
    trained = card.get("training_precision")  # None for an ensemble (its members say)
    text = f"validation accuracy {card['validation_accuracy']:.4f}"
    if card["format"] == "litert":
        kind = f"{card['quantize']} LiteRT" if card["quantize"] else "float32 LiteRT"
        return (
            text
            + (f" as trained in {trained}" if trained else "")
            + f", {card['float32_validation_accuracy']:.4f} in float32, "
            f"{card['exported_validation_accuracy']:.4f} as exported in {kind}"
        )
    if trained not in (None, "float32"):
        text += (
            f" as trained in {trained}, "
            f"{card['exported_validation_accuracy']:.4f} as exported in float32"
        )
    return text


COMMAND = Command(
    "export",
    "write a trial's model (or the ensemble) for use: Keras files or a LiteRT file, with a card",
    add_arguments,
    handle,
)
